import { startUnbound, type Unbound } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Authority, configYaml, startAuthority } from './support/authority.js';
import { type Knot, startKnot } from './support/knot.js';

// docs/behaviour.md, "one name, different data in different clusters", end to end: two
// clusters (real Knot servers for the same zone) disagree about a name, the authority merges
// under policy `all`, and a real resolver (Unbound, delegating the zone to the authority)
// says what the client finally gets. Every CNAME target is inside the zone, so Unbound
// chases it through the authority too and never leaves loopback.
const ZONE = 'prod.test';

describe('policy all through Unbound: a CNAME never beside other data', () => {
  let a: Knot;
  let b: Knot;
  let auth: Authority;
  let unbound: Unbound;
  beforeAll(async () => {
    a = await startKnot(ZONE, [
      'web CNAME lb-1',
      'lb-1 A 192.0.2.10',
      'legacy CNAME lb-1',
      'pair CNAME lb-3',
      'lb-3 A 192.0.2.13',
    ]);
    b = await startKnot(ZONE, [
      'web A 192.0.2.20',
      'legacy TXT "owner=ops"',
      'pair CNAME lb-2',
      'lb-2 A 192.0.2.12',
    ]);
    auth = await startAuthority(
      configYaml([
        {
          name: ZONE,
          policy: 'all',
          upstreams: [
            { name: 'a', port: a.port },
            { name: 'b', port: b.port },
          ],
        },
      ]),
    );
    unbound = await startUnbound(ZONE, auth.ports.dns);
  }, 30_000);
  afterAll(async () => {
    await unbound?.stop();
    await auth?.stop();
    await a?.stop();
    await b?.stop();
  });

  it('a CNAME in one cluster, an address in the other: the client gets the address', async () => {
    expect(await unbound.dig(`web.${ZONE}`, 'A')).toEqual({
      status: 'NOERROR',
      answers: [`web.${ZONE}. A 192.0.2.20`],
    });
  });

  it('a CNAME in one cluster, only TXT in the other: the CNAME, the TXT is dropped', async () => {
    // Unbound follows the CNAME; lb-1 has no TXT anywhere, so the chain ends in NODATA.
    expect(await unbound.dig(`legacy.${ZONE}`, 'TXT')).toEqual({
      status: 'NOERROR',
      answers: [`legacy.${ZONE}. CNAME lb-1.${ZONE}.`],
    });
  });

  it('two different CNAMEs: the smallest host name, and its target', async () => {
    expect(await unbound.dig(`pair.${ZONE}`, 'A')).toEqual({
      status: 'NOERROR',
      answers: [`pair.${ZONE}. CNAME lb-2.${ZONE}.`, `lb-2.${ZONE}. A 192.0.2.12`],
    });
  });
});
