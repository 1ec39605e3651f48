import { isAtOrBelow, normalizeName, validateHostname } from '@mdns/protocol';

export type HostCheck =
  | { ok: true; name: string }
  | { ok: false; outside: string }
  | { ok: false; warning: string };

/**
 * Validates (RFC 1123, leading `*.` allowed) and normalizes one host an object asks for,
 * then checks it lies at or under a served zone. `where` names the object and field.
 */
export function checkHost(
  raw: string,
  zones: readonly string[],
  where: string,
  options: { underscoreLabels?: boolean } = {},
): HostCheck {
  const trimmed = raw.trim();
  // Service labels (`_https._tcp`, `_dmarc`, `sel._domainkey`): a leading underscore is
  // checked as a letter, the rest of the label by the host name rules.
  const checked = options.underscoreLabels ? trimmed.replace(/(^|\.)_/g, '$1u') : trimmed;
  const error = validateHostname(checked, { wildcard: true });
  if (error !== null)
    return { ok: false, warning: `${where}: "${raw}" is not a valid host name: ${error}` };
  const name = normalizeName(trimmed);
  const base = name.startsWith('*.') ? name.slice(2) : name;
  for (const zone of zones) {
    if (isAtOrBelow(base, zone)) return { ok: true, name };
  }
  return { ok: false, outside: name };
}

/** A CNAME target (a load balancer host name): RFC 1123, no wildcard, normalized. */
export function checkTarget(raw: string, where: string): { name: string } | { warning: string } {
  const trimmed = raw.trim();
  const error = validateHostname(trimmed);
  if (error !== null)
    return { warning: `${where}: "${raw}" is not a valid target host name: ${error}` };
  return { name: normalizeName(trimmed) };
}

/** True when the host (as written) lies at or under a served zone; false for any invalid name. */
export function inServedZone(raw: string, zones: readonly string[]): boolean {
  const trimmed = raw.trim();
  if (validateHostname(trimmed, { wildcard: true }) !== null) return false;
  const name = normalizeName(trimmed);
  const base = name.startsWith('*.') ? name.slice(2) : name;
  return zones.some((zone) => isAtOrBelow(base, zone));
}
