import { type Standin, startStandin } from '@mdns/kube-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppProcess,
  runTenantAttacks,
  startTenantGateway,
  type TenantAttackResult,
  tenantObjects,
  type Workdir,
  workdir,
} from '../src/index.js';

// Tenants attacking each other through their own namespaces' objects (issue #18), against a
// real gateway with an ownership policy. Pass: every attack is refused (the asked name
// answers what its owner set, or NXDOMAIN for a name nobody may have), the victims' names
// are untouched, no query hits a handler error, the gateway lives, and each refusal is
// counted. `scripts/tenant-attacks.mjs --main OLD/dist/main.js --no-policy` gives "before".
describe('tenant attacks against the gateway (kube stand-in)', () => {
  let work: Workdir;
  let standin: Standin;
  let gateway: AppProcess;
  let results: TenantAttackResult[];

  beforeAll(async () => {
    work = workdir();
    standin = await startStandin({ objects: tenantObjects() as never });
    gateway = await startTenantGateway(work, standin, { policy: true });
    results = await runTenantAttacks(standin, gateway);
  }, 180_000);

  afterAll(async () => {
    await gateway?.stop();
    await standin?.close();
    work?.remove();
  });

  it('every attack is refused and leaves the victims as they were', () => {
    for (const r of results) {
      expect({ attack: r.attack, answer: r.answer }).toEqual({
        attack: r.attack,
        answer: r.expected,
      });
      expect(r.victimsIntact, r.attack).toBe(true);
      expect(r.handlerErrors, r.attack).toBe(0);
    }
    expect(gateway.alive).toBe(true);
  });

  it('each refusal is a warning and a counted reason', async () => {
    const count = async (reason: string) =>
      gateway.metric(`mdns_gateway_claims_rejected_total{reason="${reason}"}`);
    expect(await count('ownership')).toBeGreaterThanOrEqual(2);
    expect(await count('wildcard')).toBe(1);
    expect(await count('external_ips')).toBe(1);
    expect(await count('object_too_large')).toBe(1);
    expect(gateway.logs.some((l) => String(l.msg).includes('Service team-b/huge skipped'))).toBe(
      true,
    );
  });
});
