/**
 * Label and field selectors as the API server parses them. Pure: parse once per request,
 * match per object. A parse failure is a value (the server answers 400 BadRequest with it).
 */

export type LabelRequirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Split on commas that are not inside `( )`, so `a in (x,y),b` is two terms. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

function parseLabelTerm(term: string): LabelRequirement | string {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (set) {
    const values = set[3]
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    return { op: set[2] as 'in' | 'notin', key: set[1], values };
  }
  const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (cmp) {
    return { op: cmp[2] === '!=' ? 'neq' : 'eq', key: cmp[1], value: cmp[3] };
  }
  if (term.startsWith('!')) {
    const key = term.slice(1).trim();
    return KEY.test(key) ? { op: 'notexists', key } : `bad key in "${term}"`;
  }
  return KEY.test(term) ? { op: 'exists', key: term } : `unable to parse requirement "${term}"`;
}

export function parseLabelSelector(s: string | null): Parsed<LabelRequirement[]> {
  const reqs: LabelRequirement[] = [];
  for (const term of splitTerms(s ?? '')) {
    const r = parseLabelTerm(term);
    if (typeof r === 'string') return { ok: false, error: `labelSelector: ${r}` };
    reqs.push(r);
  }
  return { ok: true, value: reqs };
}

export function matchesLabels(
  reqs: readonly LabelRequirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
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

export interface FieldRequirement {
  field: 'metadata.name' | 'metadata.namespace';
  negate: boolean;
  value: string;
}

/** Only the fields every kind supports; others get the API server's 400 wording. */
export function parseFieldSelector(s: string | null): Parsed<FieldRequirement[]> {
  const reqs: FieldRequirement[] = [];
  for (const term of splitTerms(s ?? '')) {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (!m) return { ok: false, error: `fieldSelector: invalid selector "${term}"` };
    if (m[1] !== 'metadata.name' && m[1] !== 'metadata.namespace') {
      return { ok: false, error: `field label not supported: ${m[1]}` };
    }
    reqs.push({ field: m[1], negate: m[2] === '!=', value: m[3] });
  }
  return { ok: true, value: reqs };
}

export function matchesFields(
  reqs: readonly FieldRequirement[],
  meta: { name?: string; namespace?: string },
): boolean {
  for (const r of reqs) {
    const v = (r.field === 'metadata.name' ? meta.name : meta.namespace) ?? '';
    if ((v === r.value) === r.negate) return false;
  }
  return true;
}
