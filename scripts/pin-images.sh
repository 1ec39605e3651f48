#!/usr/bin/env bash
# Pins every kustomize overlay under infra/k8s to released images:
#   scripts/pin-images.sh <version> <registry>     e.g. 1.4.0 ghcr.io/acme
# For each overlay (a kustomization.yaml outside base/ and components/) that deploys an
# app, runs `kustomize edit set image mdns/<app>=<registry>/mdns-<app>:<version>`, so the
# overlay names the image the release workflow pushed. Used by .github/workflows/release.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: pin-images.sh <version> <registry>}
registry=${2:?usage: pin-images.sh <version> <registry>}
apps=(cluster-gateway fanout-authority)

found=0
while IFS= read -r file; do
  dir=$(dirname "$file")
  case "$dir" in */base | */base/* | */components/*) continue ;; esac
  rendered=$(kubectl kustomize "$dir")
  for app in "${apps[@]}"; do
    # The base names its image mdns/<app>; an overlay pinned before names the registry's.
    if grep -Eq "image: (mdns/$app|.*/mdns-$app)(:|@|$)" <<<"$rendered"; then
      (cd "$dir" && kustomize edit set image "mdns/$app=$registry/mdns-$app:$version")
      echo "pin-images: $dir -> $registry/mdns-$app:$version"
      found=$((found + 1))
    fi
  done
done < <(find infra/k8s -name kustomization.yaml | sort)
if [ "$found" = 0 ]; then
  echo "pin-images: no overlay under infra/k8s deploys ${apps[*]}" >&2
  exit 1
fi
