import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dnsQuery } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppProcess,
  authorityConfig,
  BROKEN_CONFIGS,
  configText,
  runApp,
  startAuthority,
  startFixtureGateway,
  type Workdir,
  workdir,
  ZONE,
} from '../src/index.js';

const cases = BROKEN_CONFIGS.flatMap((c) => c.apps.map((app) => ({ ...c, app })));

describe('config: each broken file is refused at start with exit 2 and the field named', () => {
  let work: Workdir;
  beforeAll(() => {
    work = workdir();
  });
  afterAll(() => work?.remove());

  it.concurrent.each(cases.map((c) => [`${c.app}: ${c.label}`, c] as const))(
    '%s',
    async (_label, c) => {
      const file = work.file(`${c.app}-${c.label.replaceAll(/\W+/g, '-')}.yaml`);
      writeFileSync(file, configText(c, c.app));
      const r = await runApp(c.app, ['--config', file]);
      const output = r.stderr + r.stdout;
      expect(r.code, output).toBe(2);
      expect(output).toContain(c.names);
    },
  );

  it.each(['cluster-gateway', 'fanout-authority'] as const)(
    '%s: a missing config file is exit 2 naming the file',
    async (app) => {
      const r = await runApp(app, ['--config', work.file('missing.yaml')]);
      expect(r.code).toBe(2);
      expect(r.stderr + r.stdout).toContain('missing.yaml');
    },
  );
});

describe('config reload: a broken file is rejected with the field named, the old config keeps serving', () => {
  let work: Workdir;
  let gateway: AppProcess;
  let authority: AppProcess;
  let configFile: string;

  beforeAll(async () => {
    work = workdir();
    gateway = await startFixtureGateway(work);
    authority = await startAuthority(work, [{ name: 'gw', port: gateway.dnsPort }]);
    configFile = work.file('authority.yaml');
  });

  afterAll(async () => {
    await authority?.stop();
    await gateway?.stop();
    work?.remove();
  });

  const soaAnswered = async () => {
    const r = await dnsQuery({
      host: '127.0.0.1',
      port: authority.dnsPort,
      name: ZONE,
      type: 'SOA',
      timeoutMs: 2000,
    });
    return r.rcode; // 0 = NOERROR
  };

  it('fanout-authority: every broken file is rejected on reload and answers continue', async () => {
    const authorityCases = cases.filter((c) => c.app === 'fanout-authority');
    for (const c of authorityCases) {
      const rejected = () =>
        authority.logs.filter((l) => String(l.msg).includes('reload rejected'));
      const before = rejected().length;
      writeFileSync(configFile, configText(c, c.app));
      authority.signal('SIGHUP');
      const end = Date.now() + 10_000;
      while (rejected().length === before && Date.now() < end) await sleep(50);
      const line = rejected()[before];
      expect(line, `${c.label}: no "reload rejected" log`).toBeDefined();
      expect(String(line.msg), c.label).toContain(c.names);
      expect(authority.alive, `${c.label}: authority died`).toBe(true);
      expect(await soaAnswered(), c.label).toBe(0);
    }
    // A valid file afterwards is applied: the old config was kept, not lost.
    const valid = authorityConfig([{ name: 'gw', port: gateway.dnsPort }], {
      listen: { host: '127.0.0.1', port: authority.dnsPort },
    });
    writeFileSync(configFile, JSON.stringify(valid));
    authority.signal('SIGHUP');
    await authority.waitForLog((l) => l.msg === 'config reloaded', 10_000);
    expect(await soaAnswered()).toBe(0);
  });

  it('cluster-gateway: SIGHUP (the reload signal operators send) does not kill it', async () => {
    gateway.signal('SIGHUP');
    await sleep(1000);
    expect(gateway.alive, `gateway exited on SIGHUP: ${JSON.stringify(gateway.exit)}`).toBe(true);
  });
});
