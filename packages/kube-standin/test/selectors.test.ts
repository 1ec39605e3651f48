/** Label and field selector parsing and matching, without a server. */
import { describe, expect, it } from 'vitest';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from '../src/selectors.js';

function labels(sel: string, l: Record<string, string>): boolean {
  const p = parseLabelSelector(sel);
  if (!p.ok) throw new Error(p.error);
  return matchesLabels(p.value, l);
}

describe('label selectors', () => {
  it('equality: =, ==, != (a missing key satisfies !=)', () => {
    expect(labels('app=a', { app: 'a' })).toBe(true);
    expect(labels('app==a', { app: 'b' })).toBe(false);
    expect(labels('app!=a', {})).toBe(true);
    expect(labels('app!=a', { app: 'a' })).toBe(false);
  });
  it('sets: in needs the key, notin does not', () => {
    expect(labels('env in (prod, stage)', { env: 'stage' })).toBe(true);
    expect(labels('env in (prod)', {})).toBe(false);
    expect(labels('env notin (prod)', {})).toBe(true);
    expect(labels('env notin (prod,dev)', { env: 'dev' })).toBe(false);
  });
  it('existence and a conjunction of terms', () => {
    expect(labels('app,!legacy', { app: 'x' })).toBe(true);
    expect(labels('app,!legacy', { app: 'x', legacy: '' })).toBe(false);
    expect(labels('', {})).toBe(true);
    expect(
      labels('example.com/team in (a,b),tier=web', { 'example.com/team': 'b', tier: 'web' }),
    ).toBe(true);
  });
  it('a malformed selector is an error value', () => {
    expect(parseLabelSelector('a in b')).toMatchObject({ ok: false });
    expect(parseLabelSelector('!')).toMatchObject({ ok: false });
  });
});

describe('field selectors', () => {
  it('metadata.namespace and metadata.name, = and !=', () => {
    const p = parseFieldSelector('metadata.namespace=web,metadata.name!=x');
    if (!p.ok) throw new Error(p.error);
    expect(matchesFields(p.value, { namespace: 'web', name: 'y' })).toBe(true);
    expect(matchesFields(p.value, { namespace: 'web', name: 'x' })).toBe(false);
    expect(matchesFields(p.value, { namespace: 'ops', name: 'y' })).toBe(false);
  });
  it('other fields are rejected like the API server does', () => {
    expect(parseFieldSelector('spec.type=LoadBalancer')).toEqual({
      ok: false,
      error: 'field label not supported: spec.type',
    });
  });
});
