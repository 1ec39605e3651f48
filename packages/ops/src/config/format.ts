import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * Render a zod issue path the way an operator reads YAML: `zones[0].upstreams[1].address`.
 * Keys that are not plain identifiers (e.g. map keys holding a DNS name) are quoted so the
 * path stays unambiguous: `records["a.example"]`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

const IP_FORMATS = new Set(['ipv4', 'ipv6']);
const FORMAT_TEXT: Record<string, string> = {
  ipv4: 'expected an IPv4 address',
  ipv6: 'expected an IPv6 address',
  cidrv4: 'expected an IPv4 CIDR prefix',
  cidrv6: 'expected an IPv6 CIDR prefix',
  url: 'expected a URL',
  hostname: 'expected a hostname',
};

// zod's default English messages carry a category prefix ("Invalid input: ...") that adds
// nothing once the field path is in front; custom messages from schemas pass unchanged.
const DEFAULT_PREFIXES = ['Invalid input: ', 'Too big: ', 'Too small: ', 'Invalid option: '];

function stripDefaultPrefix(message: string): string {
  for (const prefix of DEFAULT_PREFIXES) {
    if (message.startsWith(prefix)) return message.slice(prefix.length);
  }
  return message;
}

function describeType(issue: Extract<Issue, { code: 'invalid_type' }>): string {
  const text = stripDefaultPrefix(issue.message);
  if (text.endsWith('received undefined')) return `required (expected ${issue.expected})`;
  return text;
}

/** True when every branch of a union failed only because the value is not an IP address. */
function isIpUnion(branches: readonly (readonly Issue[])[]): boolean {
  if (branches.length === 0) return false;
  return branches.every(
    (b) =>
      b.length === 1 &&
      b[0].code === 'invalid_format' &&
      b[0].path.length === 0 &&
      IP_FORMATS.has(b[0].format),
  );
}

function formatUnion(
  issue: Extract<Issue, { code: 'invalid_union' }>,
  base: readonly PropertyKey[],
): string[] {
  const here = formatPath(base);
  const at = here === '' ? '(root)' : here;
  if (issue.message !== 'Invalid input') return [`${at}: ${issue.message}`];
  const branches = issue.errors;
  if (isIpUnion(branches)) return [`${at}: expected an IPv4 or IPv6 address`];
  if (branches.length === 0) return [`${at}: matches more than one allowed form`];
  // A branch whose issues go deeper than the union itself matched the value's shape, so its
  // issues are the useful ones; among several, the one with fewest problems is the closest.
  const deep = branches.filter((b) => b.some((i) => i.path.length > 0));
  if (deep.length > 0) {
    const closest = deep.reduce((a, b) => (b.length < a.length ? b : a));
    return closest.flatMap((i) => formatIssue(i, base));
  }
  const alternatives = branches.map((b) => b.map((i) => describeLeaf(i)).join(', '));
  return [`${at}: expected one of: ${[...new Set(alternatives)].join(' | ')}`];
}

function describeLeaf(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      return describeType(issue);
    case 'invalid_format':
      return FORMAT_TEXT[issue.format] ?? stripDefaultPrefix(issue.message);
    default:
      return stripDefaultPrefix(issue.message);
  }
}

function formatIssue(issue: Issue, base: readonly PropertyKey[] = []): string[] {
  const path = [...base, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => `${formatPath([...path, key])}: unknown key`);
    case 'invalid_union':
      return formatUnion(issue, path);
    case 'invalid_key':
    case 'invalid_element':
      return issue.issues.flatMap((inner) => formatIssue(inner, path));
    default: {
      const at = formatPath(path);
      return [`${at === '' ? '(root)' : at}: ${describeLeaf(issue)}`];
    }
  }
}

/**
 * One line per problem, each starting with the exact field path:
 * `zones[0].upstreams[1].address: expected an IPv4 or IPv6 address`,
 * `cluster.nmae: unknown key`, `listen.port: required (expected number)`.
 */
export function formatZodIssues(issues: readonly Issue[]): string[] {
  return issues.flatMap((issue) => formatIssue(issue));
}

/** Convenience for a whole `ZodError`. */
export function formatZodError(error: { issues: readonly Issue[] }): string[] {
  return formatZodIssues(error.issues);
}
