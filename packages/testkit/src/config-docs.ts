/**
 * Keeps a README's configuration reference and an app's zod schema in step: the option
 * paths the schema accepts, the paths the README documents, and the difference both ways.
 * The schema is walked through zod 4's public `_zod.def` (no zod import: the schema is the
 * caller's).
 */

interface ZodDef {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  element?: unknown;
  options?: unknown[];
  in?: unknown;
  out?: unknown;
  left?: unknown;
  right?: unknown;
  getter?: () => unknown;
}

function defOf(schema: unknown): ZodDef {
  const def = (schema as { _zod?: { def?: ZodDef } })?._zod?.def;
  if (!def) throw new TypeError('schemaOptionPaths: not a zod 4 schema');
  return def;
}

interface SchemaOptions {
  /** Every option path, dotted: `listen.port`, `zones.soa.mname` (array elements add no segment). */
  paths: string[];
  /** Paths whose value is a record: the keys below them are data, not options. */
  records: string[];
}

/** The option paths a zod 4 schema accepts. */
function schemaOptions(schema: unknown): SchemaOptions {
  const paths = new Set<string>();
  const records = new Set<string>();
  const walk = (node: unknown, prefix: string): void => {
    const def = defOf(node);
    switch (def.type) {
      case 'object':
        for (const [key, value] of Object.entries(def.shape ?? {})) {
          const path = prefix ? `${prefix}.${key}` : key;
          paths.add(path);
          walk(value, path);
        }
        return;
      case 'optional':
      case 'nullable':
      case 'nonoptional':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
        walk(def.innerType, prefix);
        return;
      case 'array':
        walk(def.element, prefix);
        return;
      case 'union':
        for (const option of def.options ?? []) walk(option, prefix);
        return;
      case 'intersection':
        walk(def.left, prefix);
        walk(def.right, prefix);
        return;
      case 'pipe':
        // The input side is what a config file holds; a preprocess pipe's input is a function.
        walk(defOf(def.in).type === 'transform' ? def.out : def.in, prefix);
        return;
      case 'lazy':
        walk(def.getter?.(), prefix);
        return;
      case 'record':
      case 'map':
        records.add(prefix);
        return;
      default:
        return;
    }
  };
  walk(schema, '');
  return { paths: [...paths].sort(), records: [...records].sort() };
}

const CODE_BLOCK = /^```ya?ml\n([\s\S]*?)^```/gm;
/** `# key: value` in a YAML example: an option shown but left at its default. */
const COMMENTED_KEY = /^(\s*)#\s?([A-Za-z][\w-]*:(?:\s.*)?)$/;

/**
 * Uncomments `# key: value` lines that sit where a key would (no deeper than the key line
 * before, plus one level); a comment continued at the comment column stays a comment.
 */
function uncommentKeys(block: string): string {
  let indent = 0;
  return block
    .split('\n')
    .map((line) => {
      const commented = COMMENTED_KEY.exec(line);
      if (commented && commented[1].length <= indent + 2) {
        indent = commented[1].length;
        return commented[1] + commented[2];
      }
      const text = line.trimStart();
      if (text !== '' && !text.startsWith('#')) indent = line.length - text.length;
      return line;
    })
    .join('\n');
}
const DOTTED = /`([A-Za-z][\w-]*(?:\.[A-Za-z][\w-]*)+)`/g;

/** Dotted key paths of a parsed YAML value (array elements add no segment). */
function keyPaths(value: unknown, prefix: string, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) keyPaths(item, prefix, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${key}` : key;
      into.add(path);
      keyPaths(inner, path, into);
    }
  }
}

interface DocumentedOptions {
  /** Key paths of the YAML examples whose top-level keys are all options of the schema. */
  examples: Set<string>;
  /** Dotted paths named in backticks in the prose (`cache.maxBytes`). */
  named: Set<string>;
}

/**
 * The option paths a Markdown document shows: the keys of its YAML examples (commented-out
 * `# key: value` lines included) and the dotted paths it names in backticks. Only YAML
 * blocks whose top-level keys are all in `topLevel` count as config examples (a kustomize
 * snippet is not); such a block must parse, or this throws naming it.
 */
function documentedOptions(
  markdown: string,
  topLevel: ReadonlySet<string>,
  parseYaml: (text: string) => unknown,
): DocumentedOptions {
  const examples = new Set<string>();
  for (const [, block] of markdown.matchAll(CODE_BLOCK)) {
    const text = uncommentKeys(block);
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (error) {
      throw new Error(`documentedOptions: a YAML example does not parse (${error}):\n${block}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) continue;
    if (!Object.keys(parsed).every((key) => topLevel.has(key))) continue;
    keyPaths(parsed, '', examples);
  }
  const named = new Set<string>();
  for (const [, path] of markdown.matchAll(DOTTED)) named.add(path);
  return { examples, named };
}

/** A zod schema as far as `configDocProblems` needs it. */
export interface ParsingSchema {
  safeParse(value: unknown): {
    success: boolean;
    error?: { issues: readonly { path: readonly PropertyKey[]; message: string }[] };
  };
}

export interface ConfigDocProblems {
  /** Options of the schema that the documents neither show in an example nor name. */
  undocumented: string[];
  /** Keys of the documents' config examples that the schema does not accept. */
  unknown: string[];
  /** Why the README's reference example (see `configReference`) does not load, if it does not. */
  reference: string[];
}

/**
 * What an app's README and its config schema disagree on, both ways, and whether the
 * README's reference example loads. `others` are READMEs it defers to for a section (the
 * gateway's sources, the authority's cache); `parseYaml` is the app's own YAML parser.
 */
export function configDocProblems(
  schema: ParsingSchema,
  readme: string,
  parseYaml: (text: string) => unknown,
  others: readonly string[] = [],
): ConfigDocProblems {
  const { paths, records } = schemaOptions(schema);
  const known = new Set(paths);
  const topLevel = new Set(paths.filter((path) => !path.includes('.')));
  const markdown = [readme, ...others].join('\n');
  const { examples, named } = documentedOptions(markdown, topLevel, parseYaml);
  const underRecord = (path: string) => records.some((r) => path.startsWith(`${r}.`));
  const loaded = schema.safeParse(configReference(readme, parseYaml));
  return {
    undocumented: paths.filter((path) => !examples.has(path) && !named.has(path)),
    unknown: [...examples].filter((path) => !known.has(path) && !underRecord(path)).sort(),
    reference: (loaded.error?.issues ?? []).map(
      (issue) => `${issue.path.map(String).join('.')}: ${issue.message}`,
    ),
  };
}

/**
 * The reference example of a README: the first YAML block under its `## Configuration`
 * heading, parsed. A config a reader copies should load as it stands.
 */
function configReference(markdown: string, parseYaml: (text: string) => unknown): unknown {
  const section = markdown.indexOf('\n## Configuration\n');
  if (section < 0) throw new Error('configReference: no "## Configuration" heading');
  const block = /^```ya?ml\n([\s\S]*?)^```/m.exec(markdown.slice(section));
  if (!block) throw new Error('configReference: no YAML block under "## Configuration"');
  return parseYaml(block[1]);
}
