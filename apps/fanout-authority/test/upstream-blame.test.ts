import { RCODE } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { type Blame, blame, type Settled } from '../src/upstream/blame.js';

const error = (e: 'timeout' | 'network' | 'aborted' | 'malformed' | 'local'): Settled => ({
  kind: 'error',
  error: e,
});
const reply = (rcode: number, usable: boolean): Settled => ({ kind: 'reply', rcode, usable });

describe('only the upstream can fail the upstream', () => {
  const rows: Array<[string, Settled, boolean, Blame]> = [
    ['a usable NOERROR', reply(RCODE.NOERROR, true), false, 'none'],
    ['a usable NXDOMAIN', reply(RCODE.NXDOMAIN, true), false, 'none'],
    ['a usable apex check', reply(RCODE.NOERROR, true), true, 'none'],
    ['timeout', error('timeout'), false, 'upstream'],
    ['network error', error('network'), false, 'upstream'],
    ['only unscannable replies', error('malformed'), false, 'upstream'],
    ['a reply that does not decode', reply(RCODE.NOERROR, false), false, 'upstream'],
    ['never sent: our encoding or validation', error('local'), false, 'ours'],
    ['never sent, apex check', error('local'), true, 'ours'],
    ['cancelled by us', error('aborted'), false, 'ours'],
    ['SERVFAIL for a client name', reply(RCODE.SERVFAIL, false), false, 'name'],
    ['REFUSED for a client name', reply(RCODE.REFUSED, false), false, 'name'],
    ['FORMERR for a client name', reply(RCODE.FORMERR, false), false, 'name'],
    ['NOTIMP for a client name', reply(RCODE.NOTIMP, false), false, 'name'],
    ['SERVFAIL for the apex check', reply(RCODE.SERVFAIL, false), true, 'upstream'],
    ['REFUSED for the apex check', reply(RCODE.REFUSED, false), true, 'upstream'],
  ];
  it.each(rows)('%s', (_label, settled, apexCheck, expected) => {
    expect(blame(settled, apexCheck)).toBe(expected);
  });
});
