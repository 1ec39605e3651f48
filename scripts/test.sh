#!/usr/bin/env bash
# The whole test suite, from a fresh clone: tools, install, lint, build, typecheck, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
pnpm install --frozen-lockfile
pnpm lint
pnpm turbo run build typecheck
log=$(mktemp)
trap 'rm -f "$log"' EXIT
pnpm turbo run test --concurrency=1 2>&1 | tee "$log"
# The same suites against servers run by Bun (the runtime matrix, issue #15); counted below.
bash scripts/test-bun.sh 2>&1 | tee -a "$log"
# One closing line for the whole monorepo, summed over every package's vitest summary
# ("Tests  12 passed (12)", "Tests  1 failed | 11 passed (12)"). Colour codes are stripped
# first: where CI forces colour, vitest writes "Tests \e[22m \e[1m\e[32m71 passed".
summary=$(sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log" | awk '/Tests +[0-9]/ {
  for (i = 1; i <= NF; i++) {
    if ($i == "passed") passed += $(i - 1)
    if ($i == "failed") failed += $(i - 1)
    if ($i == "skipped") skipped += $(i - 1)
  }
} END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }')
echo "$summary"
# A run that executed no test is a broken run, not a green one.
case "$summary" in
  "0 passed,"*) echo "test.sh: no test ran (could not find any vitest summary)" >&2; exit 1 ;;
esac
