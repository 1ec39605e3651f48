#!/usr/bin/env bash
# The whole test suite, from a fresh clone: tools, install, lint, build, typecheck, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
pnpm install --frozen-lockfile
pnpm lint
pnpm turbo run build typecheck
pnpm turbo run test --concurrency=1
