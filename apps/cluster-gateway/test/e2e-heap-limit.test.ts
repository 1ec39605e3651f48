import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { AppProcess, assertBuilt, node24, type TempDir, tempDir } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, testConfig } from './support/gateway.js';

// @mdns/ops memory-limit.ts: V8's heap limit is fixed when Node starts; the app reports it
// (log line "heap limit" + gauges) beside the container limit and warns when it does not fit.
// Node 24 sizes it from the cgroup with NODE_OPTIONS=--max-old-space-size-percentage.

const MiB = 2 ** 20;
const isRoot = process.getuid?.() === 0;
const CGROUP_V1 = '/sys/fs/cgroup/memory';
const canCgroup = isRoot && existsSync(`${CGROUP_V1}/memory.limit_in_bytes`);
const nodeMajor = Number(process.versions.node.split('.')[0]);
/**
 * A Node 24 binary (the images' runtime) for the percentage flag: MDNS_NODE24, this Node when
 * it is 24 or later, else the npm registry's `node@24` (cached, as the image tests do).
 * Only needed where the cgroup cases run.
 */
const NODE24 = (): string =>
  process.env.MDNS_NODE24 ?? (nodeMajor >= 24 ? process.execPath : node24());
// Outside root (or without cgroup v1) the cgroup cases cannot run; on CI that is a broken
// machine, not a reason to pass. MDNS_TESTS_WITHOUT_CGROUP_V1=1 says so explicitly for a CI
// whose machines only have cgroup v2 (GitHub's runners: .github/workflows/ci.yml).
if (process.env.CI && !canCgroup && process.env.MDNS_TESTS_WITHOUT_CGROUP_V1 !== '1') {
  throw new Error(
    `e2e-heap-limit.test.ts needs root and cgroup v1 (${CGROUP_V1}/memory.limit_in_bytes) on CI`,
  );
}

const dirs: TempDir[] = [];
const cgroups: string[] = [];
afterAll(() => {
  for (const d of dirs) d.remove();
  for (const c of cgroups) rmdirSync(c);
});

/** A cgroup v1 memory group with `bytes` as its limit (root only). */
function cgroup(bytes: number): string {
  const path = `${CGROUP_V1}/mdns-heap-test-${process.pid}-${cgroups.length}`;
  mkdirSync(path);
  writeFileSync(`${path}/memory.limit_in_bytes`, String(bytes));
  cgroups.push(path);
  return path;
}

/** The gateway on `node`, with `nodeOptions`, inside `group` when given (joined before exec). */
async function start(node: string, nodeOptions: string, group?: string): Promise<AppProcess> {
  const dir = tempDir('heap-limit-');
  dirs.push(dir);
  const config = dir.write(
    'gateway.yaml',
    JSON.stringify(testConfig({ sources: { kubernetes: { enabled: false } } })),
  );
  return AppProcess.start(MAIN, config, {
    node,
    cgroup: group,
    env: { NODE_OPTIONS: nodeOptions },
    timeoutMs: 20_000,
  });
}

const heapLine = (s: AppProcess) => s.logs.find((l) => l.heapSizeLimitBytes !== undefined);

describe('heap limit: reported as started', () => {
  beforeAll(() => assertBuilt(MAIN));
  it('follows --max-old-space-size (old space + the young generation)', async () => {
    for (const mib of [96, 192]) {
      const gw = await start(process.execPath, `--max-old-space-size=${mib}`);
      try {
        const limit = (await gw.metric('mdns_gateway_heap_size_limit_bytes'))!;
        expect(limit).toBeGreaterThanOrEqual(mib * MiB);
        // Node 20 adds up to 48 MiB of young generation (3 x 16 MiB semi-spaces).
        expect(limit).toBeLessThanOrEqual((mib + 48) * MiB);
        expect(heapLine(gw)).toMatchObject({ flag: `--max-old-space-size=${mib}` });
      } finally {
        await gw.stop();
      }
    }
  }, 60_000);
});

describe.skipIf(!canCgroup)('heap limit under a cgroup memory limit (root)', () => {
  beforeAll(() => assertBuilt(MAIN));
  it('no flag: the container limit is seen and a warning names the fix', async () => {
    const gw = await start(process.execPath, '', cgroup(256 * MiB));
    try {
      expect(await gw.metric('mdns_gateway_memory_limit_bytes')).toBe(256 * MiB);
      const line = heapLine(gw);
      expect(line?.level).toBe('warn');
      expect(line?.msg).toContain('--max-old-space-size-percentage=60');
    } finally {
      await gw.stop();
    }
  }, 60_000);

  it('Node 24 with NODE_OPTIONS=--max-old-space-size-percentage=60: the heap follows the limit', async () => {
    for (const mib of [256, 512]) {
      const gw = await start(NODE24(), '--max-old-space-size-percentage=60', cgroup(mib * MiB));
      try {
        const limit = (await gw.metric('mdns_gateway_heap_size_limit_bytes'))!;
        expect(limit).toBeGreaterThanOrEqual(0.6 * mib * MiB);
        expect(limit).toBeLessThan(0.6 * mib * MiB * 1.1);
        expect(heapLine(gw)?.level).toBe('info');
      } finally {
        await gw.stop();
      }
    }
  }, 60_000);
});
