import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Authority, configYaml, startAuthority } from './support/authority.js';
import { type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// Names are checked once, at the edge: a query name no cluster could hold gets NXDOMAIN with
// our SOA (AA=1) from the authority itself, is never fanned out and never cached; zone
// matching never splits on a dot inside a label. Asked with real dig and kdig, which write
// `\DDD` and `\.` escapes as the raw bytes.
const ZONE = 'prod.test';
const run = promisify(execFile);

interface DigView {
  status: string;
  flags: string;
  authority: string;
}

async function ask(tool: 'dig' | 'kdig', port: number, name: string): Promise<DigView> {
  // kdig would run IDNA over the escaped bytes and refuse the name itself.
  const extra = tool === 'kdig' ? ['+noidn'] : [];
  const args = ['@127.0.0.1', '-p', String(port), name, 'A', '+norec', ...extra];
  const { stdout } = await run(tool, args);
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? `no status in ${stdout}`;
  const flags = /flags: ([a-z ]+);/i.exec(stdout)?.[1] ?? '';
  const authority = stdout.split(/AUTHORITY SECTION:?/)[1] ?? '';
  return { status, flags, authority };
}

describe('names no cluster can hold are answered at the edge', () => {
  let upstream: FakeUpstream;
  let auth: Authority;

  beforeAll(async () => {
    upstream = await startFakeUpstream(ZONE, (q) =>
      q.name === ZONE ? { kind: 'answer' } : { kind: 'answer', rcode: 3 },
    );
    auth = await startAuthority(
      configYaml([{ name: ZONE, upstreams: [{ name: 'gw', port: upstream.port }] }]),
    );
  });
  afterAll(async () => {
    await auth?.stop();
    await upstream?.close();
  });

  const asked = () => upstream.queries.filter((q) => q.name !== ZONE);

  it.each([
    ['dig', `${'\\255'.repeat(16)}.${ZONE}`],
    // kdig 3.2 itself rejects 16 (it measures the escaped text, 64 characters): 15 bytes.
    ['kdig', `${'\\255'.repeat(15)}.a.${ZONE}`],
    ['dig', `svc\\.x.${ZONE}`],
    ['kdig', `caf\\233.${ZONE}`],
    ['dig', `a+b.${ZONE}`],
  ] as const)('%s %s: NXDOMAIN, AA, our SOA; no cluster asked', async (tool, name) => {
    const before = asked().length;
    const r = await ask(tool, auth.ports.dns, name);
    expect(r.status).toBe('NXDOMAIN');
    expect(r.flags.split(' ')).toContain('aa');
    expect(r.authority).toContain(`ns1.${ZONE}`);
    expect(asked().length).toBe(before);
  });

  it('a dot inside a label is not a label boundary: svc\\.prod.test is under test., not ours', async () => {
    const r = await ask('kdig', auth.ports.dns, `svc\\.${ZONE}`);
    expect(r.status).toBe('REFUSED');
    expect(asked()).toEqual([]);
  });

  it('ordinary names, _service names and a literal * still go to the clusters', async () => {
    for (const name of [`web.${ZONE}`, `_sip._tcp.${ZONE}`, `*.apps.${ZONE}`]) {
      expect((await ask('dig', auth.ports.dns, name)).status).toBe('NXDOMAIN');
    }
    expect(asked().map((q) => q.name)).toEqual([
      `web.${ZONE}`,
      `_sip._tcp.${ZONE}`,
      `*.apps.${ZONE}`,
    ]);
  });
});
