import { afterAll, describe, expect, it } from 'vitest';
import { type Authority, configYaml, startAuthority } from './support/authority.js';
import { startFakeUpstream } from './support/fake-upstream.js';

// What the ops and explain ports tell whoever can reach them (issue 18): `/ready` says ready
// or not, and names the upstreams only with ops.readyDetail; explain with a token answers
// only requests that carry it.
const ZONE = 'prod.test';
const TOKEN = 'a-long-enough-explain-token';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function authority(extra: string): Promise<Authority> {
  const up = await startFakeUpstream(ZONE, () => ({ kind: 'answer', rcode: 3 }));
  cleanups.push(() => up.close());
  const yaml = configYaml([
    { name: ZONE, upstreams: [{ name: 'cluster-secret-name', port: up.port }] },
  ])
    // The support config sets explain and ops on one line each; ours replace them.
    .replace(/^explain: .*$/m, '')
    .replace(/^ops: .*$/m, '');
  const auth = await startAuthority(`${yaml}${extra}`);
  cleanups.push(() => auth.stop());
  return auth;
}

const OPS = 'ops: { host: 127.0.0.1, metricsPort: 0, healthPort: 0, readyPort: 0';

describe('/ready', () => {
  it('by default: ready or not, no upstream names', async () => {
    const auth = await authority(`${OPS} }\nexplain: { enabled: false }\n`);
    const r = await fetch(`http://127.0.0.1:${auth.ports.ready}/ready`);
    expect(r.status).toBe(200);
    const body = await r.text();
    expect(JSON.parse(body)).toEqual({ ready: true });
    expect(body).not.toContain('cluster-secret-name');
  });

  it('with ops.readyDetail: each upstream and its health', async () => {
    const auth = await authority(`${OPS}, readyDetail: true }\nexplain: { enabled: false }\n`);
    const body = (await (await fetch(`http://127.0.0.1:${auth.ports.ready}/ready`)).json()) as {
      detail: { upstreams: unknown[] };
    };
    expect(body.detail.upstreams).toEqual([
      { zone: ZONE, name: 'cluster-secret-name', healthy: true },
    ]);
  });
});

describe('explain with explain.token', () => {
  it('answers 401 without the token and the report with it', async () => {
    const auth = await authority(
      `${OPS} }\nexplain: { host: 127.0.0.1, port: 0, token: ${TOKEN} }\n`,
    );
    const url = `http://127.0.0.1:${auth.ports.explain}/explain?name=x.${ZONE}&type=A`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('cluster-secret-name');
  });
});
