import { type Knotd, startKnotd } from '@mdns/testkit';
import { dnsQuery } from '@mdns/transport';

export { freePort } from '@mdns/testkit';

/** One Knot DNS server (a stand-in "cluster") serving `zone` from `records` on loopback. */
export type Knot = Knotd;

export async function startKnot(zone: string, records: string[]): Promise<Knot> {
  const zoneFile = [
    `$ORIGIN ${zone}.`,
    '$TTL 60',
    `@ SOA ns.${zone}. host.${zone}. 1 60 60 60 30`,
    `@ NS ns.${zone}.`,
    'ns A 192.0.2.1',
    ...records,
    '',
  ].join('\n');
  const knot = await startKnotd(
    [
      'control:',
      '  listen: DIR/knot.sock',
      'template:',
      '  - id: default',
      '    storage: DIR',
      'zone:',
      `  - domain: ${zone}`,
      '    file: DIR/zone',
    ],
    { zone: zoneFile },
  );
  // Started is not loaded: ready when it answers the apex SOA (bounded wait).
  for (let i = 0; i < 50; i++) {
    try {
      const r = await dnsQuery({
        host: '127.0.0.1',
        port: knot.port,
        name: zone,
        type: 'SOA',
        timeoutMs: 200,
      });
      if (r.rcode === 0) return knot;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  await knot.stop();
  throw new Error(`knotd on port ${knot.port} never answered ${zone} SOA: ${knot.log()}`);
}
