// Kubernetes label selector syntax, for the sources that filter client-side (manifests).
// The Kubernetes source passes the same string to the API server as `labelSelector`.
//   a=b  a==b  a!=b  a in (x,y)  a notin (x)  a  !a      -- comma means AND

export type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type LabelSelector = Requirement[];

const KEY =
  /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

/** Splits on commas outside parentheses. */
function terms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((t) => t.trim());
}

function parseTerm(t: string): Requirement | string {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(t);
  if (set) {
    const values = set[3]
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    const bad = values.find((v) => !VALUE.test(v));
    if (bad !== undefined) return `"${bad}" is not a valid label value`;
    return { op: set[2] as 'in' | 'notin', key: set[1], values };
  }
  const cmp = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(t);
  if (cmp) {
    if (!VALUE.test(cmp[3])) return `"${cmp[3]}" is not a valid label value`;
    return { op: cmp[2] === '!=' ? 'neq' : 'eq', key: cmp[1], value: cmp[3] };
  }
  if (t.startsWith('!')) return { op: 'notexists', key: t.slice(1).trim() };
  return { op: 'exists', key: t };
}

/** Parses a selector; `''` selects everything. Errors name the offending term. */
export function parseLabelSelector(
  s: string,
): { ok: true; selector: LabelSelector } | { ok: false; error: string } {
  if (s.trim() === '') return { ok: true, selector: [] };
  const selector: LabelSelector = [];
  for (const t of terms(s)) {
    if (t === '') return { ok: false, error: `label selector "${s}": empty term` };
    const r = parseTerm(t);
    if (typeof r === 'string') return { ok: false, error: `label selector "${s}": ${r}` };
    if (!KEY.test(r.key))
      return { ok: false, error: `label selector "${s}": "${r.key}" is not a valid label key` };
    selector.push(r);
  }
  return { ok: true, selector };
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const r of selector) {
    const has = Object.hasOwn(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case 'eq':
        if (v !== r.value) return false;
        break;
      case 'neq':
        if (has && v === r.value) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(v)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
    }
  }
  return true;
}
