#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmarks need beyond Node and npm:
# pnpm (the version pinned in package.json) and the real DNS tools from Debian that
# the suites use as clients and peers (dig, kdig, knotd, dnsperf, dnsdist, unbound),
# `ss` (iproute2) to read socket buffer sizes, `nft` (nftables) to cut links between the
# network namespaces of the multi-host tests, and Prometheus (`promtool` tests the alert
# rules; the server runs the dashboard's queries).
# Idempotent: does nothing when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_pnpm=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$want_pnpm" ]; then
  echo "ensure-tools: installing pnpm@$want_pnpm"
  npm install -g "pnpm@$want_pnpm" >/dev/null
fi

missing=()
for pair in dig:bind9-dnsutils kdig:knot-dnsutils knotd:knot dnsperf:dnsperf dnsdist:dnsdist unbound:unbound ss:iproute2 nft:nftables promtool:prometheus; do
  bin=${pair%%:*}; pkg=${pair#*:}
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-tools: missing Debian packages: ${missing[*]} (run as root or install them)" >&2
    exit 1
  fi
  echo "ensure-tools: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start system services on install; the tests start their own.
  for svc in knot dnsdist unbound prometheus; do
    if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
    pkill -x "${svc/knot/knotd}" >/dev/null 2>&1 || true
  done
fi
