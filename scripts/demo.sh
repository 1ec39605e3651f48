#!/usr/bin/env bash
# The local demo from a fresh clone: installs what is needed (pnpm, dig), builds the
# two apps, and runs one fanout-authority + two cluster-gateways on loopback.
# Ctrl-C stops everything. Extra arguments go to infra/demo/run.mjs (e.g. --check).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
pnpm install --frozen-lockfile
pnpm turbo run build --filter=@mdns/cluster-gateway --filter=@mdns/fanout-authority --filter=@mdns/testkit
exec node infra/demo/run.mjs "$@"
