#!/usr/bin/env bash
# Prints, as GitHub step outputs, the release version (every @mdns package carries the
# same one) and whether it is new: `released=true` when no `v<version>` tag exists yet,
# i.e. the changesets version pull request was just merged.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p "require('./packages/protocol/package.json').version")
echo "version=$version"
if git rev-parse -q --verify "refs/tags/v$version" >/dev/null; then
  echo "released=false"
else
  echo "released=true"
fi
