#!/usr/bin/env bash
# The runtime matrix's Bun row (issue #15): the protocol and transport suites run by the
# pinned Bun (root devDependency @oven/bun-linux-x64, unpacked by `pnpm install
# --frozen-lockfile`), and the apps' end-to-end suites with their servers started by Bun
# (MDNS_TEST_RUNTIME=bun makes testkit's AppProcess use it). Expects a built tree.
# Suites left out on Bun and why: docs/behaviour.md ("Runtimes").
set -euo pipefail
cd "$(dirname "$0")/.."
bun=$PWD/node_modules/@oven/bun-linux-x64/bin/bun
if [ ! -x "$bun" ]; then
  echo "test-bun: $bun is missing: run pnpm install --frozen-lockfile (linux x64)" >&2
  exit 1
fi
vitest=$PWD/node_modules/vitest/vitest.mjs
echo "test-bun: $("$bun" --version)"
# `bun --bun` runs vitest itself, and the forks it starts, on Bun instead of Node.
(cd packages/protocol && "$bun" --bun "$vitest" run)
(cd packages/transport && "$bun" --bun "$vitest" run)
# The apps' suites stay on Node; the servers they start run on Bun. Several workers on Bun
# need a fixed port, which the suites pick there (@mdns/testkit workersListenPort).
(cd apps/cluster-gateway && MDNS_TEST_RUNTIME=bun npx vitest run test/e2e-bun.test.ts test/e2e-kube.test.ts test/e2e-sighup.test.ts test/e2e-health.test.ts)
# Every end-to-end suite of the authority (its image runs Bun): replication (also across
# network namespaces, root), primary/Knot, workers, faults, far cluster, health failover,
# lame duck, metrics, ops exposure, NOTIFY flood, spoof room, miss limit, edge names, ...
# 7.6 min as this one vitest run on a loaded 2-core box (BENCHMARKS.md "Authority on Bun:
# e2e suites and memory"). e2e-far-cluster fails under such load on Node and Bun alike.
(cd apps/fanout-authority && MDNS_TEST_RUNTIME=bun npx vitest run test/e2e-)
