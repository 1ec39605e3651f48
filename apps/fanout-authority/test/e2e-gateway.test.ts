import { assertBuilt, until } from '@mdns/testkit';
import { dnsQuery } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Authority,
  configYaml,
  startAuthority,
  upstreamTimeouts,
} from './support/authority.js';
import { GATEWAY_MAIN, type Gateway, ingress, startGateway } from './support/gateway.js';

// Three real cluster-gateway processes (manifests source) serving the same zone, each with
// its own services, behind one fanout-authority.
const ZONE = 'prod.test';

/** Until the gateway answers `name` (its manifests are loaded). */
function untilSynced(g: Gateway, name: string): Promise<void> {
  const answered = () =>
    dnsQuery({ host: '127.0.0.1', port: g.port, name, type: 'A', timeoutMs: 500 }).then(
      (r) => r.rcode === 0,
      () => false,
    );
  return until(answered, 15_000);
}

// turbo builds @mdns/cluster-gateway first (a devDependency): never skip silently.
assertBuilt(GATEWAY_MAIN);

describe('against cluster-gateway upstreams', () => {
  const gateways: Gateway[] = [];
  let auth: Authority;
  beforeAll(async () => {
    gateways.push(
      await startGateway(ZONE, { 'a.yaml': ingress('web', `web.${ZONE}`, '10.3.0.1') }),
    );
    gateways.push(
      await startGateway(ZONE, { 'b.yaml': ingress('api', `api.${ZONE}`, '10.4.0.1') }),
    );
    gateways.push(
      await startGateway(ZONE, { 'c.yaml': ingress('shop', `shop.${ZONE}`, '10.5.0.1') }),
    );
    await untilSynced(gateways[0], `web.${ZONE}`);
    await untilSynced(gateways[1], `api.${ZONE}`);
    await untilSynced(gateways[2], `shop.${ZONE}`);
    auth = await startAuthority(
      configYaml([
        { name: ZONE, upstreams: gateways.map((g, i) => ({ name: `cluster-${i}`, port: g.port })) },
      ]),
    );
  });
  afterAll(async () => {
    await auth?.stop();
    for (const g of gateways) await g.stop();
  });

  it('each service is answered from whichever cluster runs it', async () => {
    expect((await auth.query(`web.${ZONE}`, 'A')).answers.map((a) => a.data)).toEqual(['10.3.0.1']);
    expect((await auth.query(`api.${ZONE}`, 'A')).answers.map((a) => a.data)).toEqual(['10.4.0.1']);
    expect((await auth.query(`shop.${ZONE}`, 'A')).answers.map((a) => a.data)).toEqual([
      '10.5.0.1',
    ]);
  });

  it('AAAA for an IPv4-only service is NODATA; an unknown name NXDOMAIN', async () => {
    const nodata = await auth.query(`web.${ZONE}`, 'AAAA');
    expect(nodata).toMatchObject({ rcode: 0, aa: true, answers: [] });
    expect((await auth.query(`nothing.${ZONE}`, 'A')).rcode).toBe(3);
  });

  it('a stopped cluster neither delays the others nor turns its names into a quick NXDOMAIN', async () => {
    await gateways[2].stop();
    // Not delayed: no wait on the stopped cluster timed out before the answer came back.
    const timeouts = await upstreamTimeouts(auth, 'cluster-2');
    const web = await auth.query(`web.${ZONE}`, 'A');
    expect(web.answers.map((a) => a.data)).toEqual(['10.3.0.1']);
    expect(await upstreamTimeouts(auth, 'cluster-2')).toBe(timeouts);
    // Never asked before, so not cached: SERVFAIL while the dead cluster may still hold it.
    const first = await auth.query(`new-svc.${ZONE}`, 'A');
    expect(first.rcode).toBe(2);
  });
});
