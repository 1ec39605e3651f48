import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Authority,
  configYaml,
  startAuthority,
  upstreamTimeouts,
} from './support/authority.js';
import { type Knot, startKnot } from './support/knot.js';

// Two "clusters", each a real Knot DNS server for the SAME zone name with different records,
// behind one fanout-authority process.
const ZONE = 'prod.test';

describe('against Knot DNS upstreams', () => {
  let x: Knot;
  let y: Knot;
  let auth: Authority;
  beforeAll(async () => {
    x = await startKnot(ZONE, [
      'svc-x A 10.1.0.1',
      'both A 10.9.0.1',
      'v6 AAAA fd00::1',
      'Mixed A 10.1.0.9',
    ]);
    y = await startKnot(ZONE, [
      'svc-y A 10.2.0.1',
      'both A 10.9.0.1',
      'svc.team A 10.2.0.5',
      'alias CNAME svc-y',
    ]);
    auth = await startAuthority(
      configYaml([
        {
          name: ZONE,
          upstreams: [
            { name: 'x', port: x.port },
            { name: 'y', port: y.port },
          ],
        },
      ]),
    );
  });
  afterAll(async () => {
    await auth?.stop();
    await x?.stop();
    await y?.stop();
  });

  it('a name only cluster x has', async () => {
    const r = await auth.query(`svc-x.${ZONE}`, 'A');
    expect(r).toMatchObject({ rcode: 0, aa: true });
    expect(r.answers.map((a) => a.data)).toEqual(['10.1.0.1']);
  });

  it('a name only cluster y has, and a CNAME', async () => {
    expect((await auth.query(`svc-y.${ZONE}`, 'A')).answers.map((a) => a.data)).toEqual([
      '10.2.0.1',
    ]);
    const c = await auth.query(`alias.${ZONE}`, 'A');
    expect(c.answers[0]).toMatchObject({ type: 'CNAME', data: `svc-y.${ZONE}` });
  });

  it('a type the name lacks is NODATA with the authority SOA, not NXDOMAIN', async () => {
    const r = await auth.query(`svc-x.${ZONE}`, 'AAAA');
    expect(r.rcode).toBe(0);
    expect(r.answers).toEqual([]);
    expect(r.authorities[0]).toMatchObject({ type: 'SOA', name: ZONE });
    expect((r.authorities[0].data as { mname: string }).mname).toBe(`ns1.${ZONE}`);
  });

  it('an empty non-terminal in one cluster is NODATA (RFC 8020)', async () => {
    const r = await auth.query(`team.${ZONE}`, 'A');
    expect(r.rcode).toBe(0);
    expect(r.answers).toEqual([]);
  });

  it('a name nobody has is NXDOMAIN', async () => {
    expect((await auth.query(`nowhere.${ZONE}`, 'A')).rcode).toBe(3);
  });

  it('dig sees AA, no RA, and its own question case', async () => {
    const { stdout } = await promisify(execFile)('dig', [
      '@127.0.0.1',
      '-p',
      String(auth.ports.dns),
      `MiXeD.${ZONE.toUpperCase()}`,
      'A',
      '+norec',
    ]);
    expect(stdout).toMatch(/flags: qr aa;/);
    expect(stdout).toContain(`MiXeD.PROD.TEST.`);
    expect(stdout).toContain('10.1.0.9');
  });

  it('over TCP too', async () => {
    expect(
      (await auth.query(`svc-y.${ZONE}`, 'A', { tcp: true })).answers.map((a) => a.data),
    ).toEqual(['10.2.0.1']);
  });

  it('a cluster that dies does not hold up answers from the other', async () => {
    await x.stop();
    for (let i = 0; i < 5; i++) {
      // Cached or fanned out, never held up: no wait on the dead cluster timed out first.
      const timeouts = await upstreamTimeouts(auth, 'x');
      const r = await auth.query(`svc-y.${ZONE}`, 'A');
      expect(r.answers.map((a) => a.data)).toEqual(['10.2.0.1']);
      expect(await upstreamTimeouts(auth, 'x')).toBe(timeouts);
    }
    const rcodes: number[] = [];
    for (let i = 0; i < 6 && rcodes.at(-1) !== 3; i++) {
      const r = await auth.query(`gone${i}.${ZONE}`, 'A');
      rcodes.push(r.rcode);
    }
    expect(rcodes.at(-1)).toBe(3);
  });
});
