#!/usr/bin/env bash
# Prints, as GitHub step outputs, the release version (every @mdns package carries the
# same one) and whether it is new: `released=true` while the `@mdns/protocol@<version>`
# tag (written by `changeset tag` at release) does not exist yet, i.e. the changesets
# version pull request was just merged.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p "require('./packages/protocol/package.json').version")
echo "version=$version"
if git rev-parse -q --verify "refs/tags/@mdns/protocol@$version" >/dev/null; then
  echo "released=false"
else
  echo "released=true"
fi
