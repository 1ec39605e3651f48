import {
  type AppProcess,
  assertBuilt,
  type Knotd as Knot,
  startKnotd as startKnot,
  type TempDir,
  tempDir,
  udpExchange,
  until,
} from '@mdns/testkit';
import { dnsQuery } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ask, type Seen } from './support/answers.js';
import { MAIN, startGateway, testConfig } from './support/gateway.js';

// An oracle for the zone answers: Knot serves, from a zone file, the same data the gateway
// builds from Ingress objects, and both are asked the same questions: names, empty
// non-terminals one and two labels up, wildcards at depth and the closest encloser (RFC
// 4592), a hostname load balancer as a CNAME, NODATA and NXDOMAIN. Compared: rcode, AA,
// the answer records (type and data; TTLs are ours to choose), and whether the authority
// section holds the SOA of a negative answer.
const ZONE = 'prod.example.tld';

const INGRESSES: Array<[string, string, { ip?: string; hostname?: string }]> = [
  ['web', `web.${ZONE}`, { ip: '10.0.0.1' }],
  ['deep', `svc.deep.team.${ZONE}`, { ip: '10.0.0.2' }],
  ['wild', `*.apps.${ZONE}`, { ip: '10.0.0.9' }],
  ['exact', `exact.apps.${ZONE}`, { ip: '10.0.0.7' }],
  ['sub', `x.sub.apps.${ZONE}`, { ip: '10.0.0.8' }],
  ['lb', `lb.${ZONE}`, { hostname: 'abc.elb.example.net' }],
];

const ZONE_FILE = [
  `$ORIGIN ${ZONE}.`,
  '$TTL 60',
  `@ SOA ns1.${ZONE}. hostmaster.${ZONE}. 1 60 60 60 30`,
  `@ NS ns1.${ZONE}.`,
  'ns1 A 192.0.2.53',
  'ns1 AAAA 2001:db8::53',
  'web A 10.0.0.1',
  'svc.deep.team A 10.0.0.2',
  '*.apps A 10.0.0.9',
  'exact.apps A 10.0.0.7',
  'x.sub.apps A 10.0.0.8',
  'lb CNAME abc.elb.example.net.',
  '',
].join('\n');

const QUESTIONS: Array<[string, string]> = [
  [`web.${ZONE}`, 'A'],
  [`web.${ZONE}`, 'AAAA'],
  [`nope.${ZONE}`, 'A'],
  [`a.web.${ZONE}`, 'A'],
  [`svc.deep.team.${ZONE}`, 'A'],
  [`deep.team.${ZONE}`, 'A'],
  [`team.${ZONE}`, 'A'],
  [`x.team.${ZONE}`, 'A'],
  [`a.apps.${ZONE}`, 'A'],
  [`a.b.c.apps.${ZONE}`, 'A'],
  [`a.apps.${ZONE}`, 'AAAA'],
  [`exact.apps.${ZONE}`, 'A'],
  [`apps.${ZONE}`, 'A'],
  [`sub.apps.${ZONE}`, 'A'],
  [`y.sub.apps.${ZONE}`, 'A'],
  [`*.apps.${ZONE}`, 'A'],
  [`lb.${ZONE}`, 'A'],
  [`lb.${ZONE}`, 'CNAME'],
];

/** What both must agree on. */
const comparable = (s: Seen) => ({
  rcode: s.rcode,
  aa: s.aa,
  answers: [...s.answers].sort(),
  negativeSoa: s.answers.length === 0 && s.authority.includes('SOA'),
});

describe('gateway answers compared with Knot serving the same zone', () => {
  const dirs: TempDir[] = [];
  let gw: AppProcess;
  let knot: Knot;

  beforeAll(async () => {
    assertBuilt(MAIN);
    knot = await startKnot(
      ['zone:', `  - domain: ${ZONE}`, '    file: DIR/zone', '    storage: DIR'],
      { zone: ZONE_FILE },
    );
    // Knot loads the zone in the background: wait until it answers the apex SOA.
    await until(async () => {
      const r = await dnsQuery({
        host: '127.0.0.1',
        port: knot.port,
        name: ZONE,
        type: 'SOA',
        timeoutMs: 500,
      });
      return r.rcode === 0;
    });
    const objects = tempDir('knot-oracle-objects-');
    dirs.push(objects);
    for (const [name, host, lb] of INGRESSES) {
      objects.write(
        `${name}.json`,
        JSON.stringify({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name, namespace: 'default' },
          spec: { rules: [{ host }] },
          status: { loadBalancer: { ingress: [lb] } },
        }),
      );
    }
    const dir = tempDir('knot-oracle-gw-');
    dirs.push(dir);
    gw = await startGateway(
      dir.write(
        'gateway.yaml',
        JSON.stringify(
          testConfig({
            sources: {
              kubernetes: { enabled: false },
              manifests: { enabled: true, directory: objects.path },
            },
          }),
        ),
      ),
    );
    await until(async () => (await ask(gw, `lb.${ZONE}`, 'A')).rcode === 'NOERROR');
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await knot?.stop();
    for (const d of dirs) d.remove();
  });

  /** The same question to the gateway and to Knot, in comparable form. */
  async function both(name: string, type: string) {
    const knotAsker = {
      query: (n: string, t: string) =>
        dnsQuery({ host: '127.0.0.1', port: knot.port, name: n, type: t, timeoutMs: 3000 }),
    } as AppProcess;
    return {
      ours: comparable(await ask(gw, name, type)),
      knots: comparable(await ask(knotAsker, name, type)),
    };
  }

  it.each(QUESTIONS)('%s %s', async (name, type) => {
    const { ours, knots } = await both(name, type);
    expect(ours).toEqual(knots);
  });

  // A query with bytes after its last record: Knot answers FORMERR (it gave NOERROR with the
  // answer here before), and the stored answer of the same name stays right afterwards.
  it('a query with trailing bytes is FORMERR at both; the plain query still answered', async () => {
    const labels = `web.${ZONE}`.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
    const header = [0x42, 0x42, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    const question = [...labels, 0, 0, 1, 0, 1]; // A IN
    const trailing = new Uint8Array([...header, ...question, 0xde, 0xad, 0xbe, 0xef]);
    for (const port of [gw.dnsPort, knot.port]) {
      const reply = await udpExchange(port, trailing, { timeoutMs: 3000 });
      expect(reply, `port ${port}`).not.toBeNull();
      expect({ id: reply!.readUInt16BE(0), rcode: reply![3] & 0x0f }).toEqual({
        id: 0x4242,
        rcode: 1,
      });
    }
    const { ours, knots } = await both(`web.${ZONE}`, 'A');
    expect(ours).toEqual(knots);
    expect(ours.answers.length).toBe(1);
  });

  // Found by this oracle: the gateway gave out `ns1.<zone>` as NS glue but answered
  // NXDOMAIN for `ns1.<zone> A` itself; now both answer the configured glue address.
  it(`ns1.${ZONE} A and AAAA (the glue name resolves, as at Knot)`, async () => {
    for (const type of ['A', 'AAAA'] as const) {
      const { ours, knots } = await both(`ns1.${ZONE}`, type);
      expect(ours, type).toEqual(knots);
    }
  });
});
