#!/usr/bin/env bash
# Captures real query/response bytes for the known-answer tests: starts an unprivileged
# Knot DNS on a loopback high port from a temp dir, relays dig/kdig through a recording
# UDP relay, and writes test/fixtures/knot-exchanges.json. Needs knotd, kdig, dig, node.
# Usage: packages/protocol/scripts/capture-fixtures.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../test/fixtures/knot-exchanges.json"
tmp="$(mktemp -d)"
knot_pid=""
relay_pid=""
cleanup() {
  [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null || true
  [ -n "$knot_pid" ] && kill "$knot_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
mkdir -p "$tmp/run" "$tmp/db"
cat > "$tmp/example.tld.zone" <<ZONE
\$ORIGIN example.tld.
\$TTL 300
@        3600 IN SOA ns1.example.tld. hostmaster.example.tld. 2024010101 7200 900 1209600 60
@        3600 IN NS  ns1.example.tld.
@        3600 IN NS  ns2.example.tld.
ns1           IN A    192.0.2.53
ns1           IN AAAA 2001:db8::53
ns2           IN A    192.0.2.54
www           IN A    192.0.2.10
www           IN A    192.0.2.11
www           IN AAAA 2001:db8::10
alias         IN CNAME www.example.tld.
txt           IN TXT  "hello world" "second string"
svc.ns        IN A    192.0.2.20
ZONE
# A large RRset so a 512-byte answer must truncate.
for i in $(seq 1 60); do echo "big IN A 198.51.100.$i" >> "$tmp/example.tld.zone"; done

cat > "$tmp/knot.conf" <<CONF
server:
    rundir: "$tmp/run"
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$tmp/db"
log:
  - target: stderr
    any: error
zone:
  - domain: example.tld
    file: "$tmp/example.tld.zone"
CONF

knotd -c "$tmp/knot.conf" &
knot_pid=$!
for _ in $(seq 1 50); do
  if kdig @127.0.0.1 -p "$port" example.tld SOA +short +time=1 +tries=1 >/dev/null 2>&1; then break; fi
  sleep 0.1
done

log="$tmp/exchanges.jsonl"
: > "$log"
node "$here/capture-relay.mjs" "$port" "$log" > "$tmp/relay.port" &
relay_pid=$!
for _ in $(seq 1 50); do [ -s "$tmp/relay.port" ] && break; sleep 0.1; done
rport="$(cat "$tmp/relay.port")"

# Each line: label|tool|args. Exchanges are recorded in this order.
queries=(
  "dig-a-mixed-case|dig|WwW.ExAmPlE.TlD A +norec"
  "dig-aaaa-cookie|dig|www.example.tld AAAA +cookie"
  "dig-noedns|dig|www.example.tld A +noedns"
  "dig-nxdomain|dig|nope.example.tld A"
  "dig-nodata|dig|www.example.tld TXT +dnssec"
  "dig-ent-nodata|dig|ns.example.tld A"
  "dig-soa|dig|example.tld SOA"
  "dig-ns-glue|dig|example.tld NS"
  "dig-cname|dig|alias.example.tld A"
  "dig-txt|dig|txt.example.tld TXT"
  "dig-any|dig|www.example.tld ANY +notcp"
  "dig-refused|dig|other.tld A"
  "dig-truncated|dig|big.example.tld A +noedns +ignore"
  "dig-edns1|dig|www.example.tld A +edns=1 +noednsneg"
  "kdig-a-nsid|kdig|www.example.tld A +nsid +cookie"
  "kdig-aaaa-do|kdig|www.example.tld AAAA +dnssec +bufsize=4096"
  "kdig-mixed-case|kdig|wWw.eXaMpLe.tLd A"
)
for entry in "${queries[@]}"; do
  IFS='|' read -r label tool args <<< "$entry"
  before=$(wc -l < "$log")
  # shellcheck disable=SC2086
  if [ "$tool" = kdig ]; then retry="+retry=0"; else retry="+tries=1"; fi
  "$tool" @127.0.0.1 -p "$rport" $args +time=2 "$retry" > /dev/null || true
  after=$(wc -l < "$log")
  [ "$after" -gt "$before" ] || { echo "no exchange captured for $label" >&2; exit 1; }
  echo "$label" >> "$tmp/labels"
done

node - "$log" "$tmp/labels" "$out" <<'JS'
const fs = require('node:fs');
const [log, labels, out] = process.argv.slice(2);
const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const names = fs.readFileSync(labels, 'utf8').trim().split('\n');
const exchanges = names.map((label, i) => ({ label, ...lines[i] }));
fs.writeFileSync(out, `${JSON.stringify({ server: 'knotd 3.2', zone: 'example.tld', exchanges }, null, 2)}\n`);
console.log(`wrote ${exchanges.length} exchanges to ${out}`);
JS
