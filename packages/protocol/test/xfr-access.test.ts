import { describe, expect, it } from 'vitest';
import { type TransferFacts, transferDecision } from '../src/index.js';

// Who gets a zone from a primary (the gateway's zones, the authority's merged zones), as a
// table: the order of the checks is the point (address before any HMAC, the key before
// telling anyone the zone is not ready).

const facts = (over: Partial<TransferFacts> = {}): TransferFacts => ({
  enabled: true,
  zone: true,
  allowed: true,
  tsig: () => ({ ok: true }) as ReturnType<TransferFacts['tsig']>,
  ready: true,
  ...over,
});
const failing = (failure: string) => () =>
  ({ ok: false, failure, error: failure }) as unknown as ReturnType<TransferFacts['tsig']>;

describe('transferDecision', () => {
  it.each([
    ['transfers off', facts({ enabled: false }), { action: 'refuse', reason: 'disabled' }],
    ['not a zone apex', facts({ zone: false }), { action: 'refuse', reason: 'not_a_zone' }],
    ['source outside allow', facts({ allowed: false }), { action: 'refuse', reason: 'address' }],
    ['unsigned', facts({ tsig: failing('MISSING') }), { action: 'refuse', reason: 'unsigned' }],
    ['unknown key', facts({ tsig: failing('BADKEY') }), { action: 'notauth', failure: 'BADKEY' }],
    ['bad MAC', facts({ tsig: failing('BADSIG') }), { action: 'notauth', failure: 'BADSIG' }],
    ['not ready, signed', facts({ ready: false }), { action: 'servfail' }],
    [
      'not ready, unsigned',
      facts({ ready: false, tsig: failing('MISSING') }),
      { action: 'refuse', reason: 'unsigned' },
    ],
    ['everything right', facts(), { action: 'transfer' }],
  ])('%s', (_, input, expected) => {
    expect(transferDecision(input)).toEqual(expected);
  });

  it('a stranger costs no TSIG check', () => {
    let checked = false;
    transferDecision(
      facts({
        allowed: false,
        tsig: () => {
          checked = true;
          return { ok: true } as never;
        },
      }),
    );
    expect(checked).toBe(false);
  });
});
