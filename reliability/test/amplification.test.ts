import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AmplificationRow,
  type AppProcess,
  amplificationTable,
  measureAmplification,
  startAuthority,
  startFixtureGateway,
  type Workdir,
  workdir,
} from '../src/index.js';

// RFC 8482 ANY, REFUSED outside the zones, and the largest response/query ratio a spoofed
// UDP query can cause. The bound is what a 1232-byte EDNS limit allows for the shortest
// query; the measured figure goes into RELIABILITY.md.
const MAX_RATIO = 30;

function check(rows: AmplificationRow[]): void {
  const by = (label: string) => rows.find((r) => r.label === label)!;
  for (const label of ['out of zone', 'out of zone ANY', 'root NS', 'AXFR over UDP']) {
    expect(by(label).rcode, label).toBe('REFUSED');
    expect(by(`${label}, EDNS 4096 DO`).rcode, label).toBe('REFUSED');
  }
  for (const label of ['apex ANY', 'ANY on a 32-record name']) {
    for (const row of [by(label), by(`${label}, EDNS 4096 DO`)]) {
      expect(row.rcode, label).toBe('NOERROR');
      expect(row.answerTypes, `${label}: RFC 8482 minimal ANY`).toEqual(['HINFO']);
    }
  }
  for (const row of rows) {
    expect(row.replySize, `${row.label}: no reply`).toBeGreaterThan(0);
    expect(row.replySize, `${row.label}: over 512 without EDNS`).toBeLessThanOrEqual(
      row.edns === undefined ? 512 : 1232,
    );
    expect(row.ratio, row.label).toBeLessThan(MAX_RATIO);
  }
}

describe('amplification: REFUSED out of zone, minimal ANY, bounded ratio', () => {
  let work: Workdir;
  let gateway: AppProcess;
  let authority: AppProcess;

  beforeAll(async () => {
    work = workdir();
    gateway = await startFixtureGateway(work);
    authority = await startAuthority(work, [{ name: 'gw', port: gateway.dnsPort }]);
  });

  afterAll(async () => {
    await authority?.stop();
    await gateway?.stop();
    work?.remove();
  });

  it.each([
    ['cluster-gateway', () => gateway],
    ['fanout-authority', () => authority],
  ])('%s', async (_name, server) => {
    const rows = await measureAmplification(server().dnsPort);
    const worst = rows.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    console.log(
      `${_name}\n${amplificationTable(rows)}\nworst: ${worst.label} ${worst.ratio.toFixed(2)}`,
    );
    check(rows);
  });
});
