#!/usr/bin/env bash
# Pins every kustomize overlay under infra/k8s to released images:
#   scripts/pin-images.sh <version> <registry>     e.g. 1.4.0 ghcr.io/acme
# For each overlay (a kustomization.yaml outside base/ and components/) that deploys an
# app, runs `kustomize edit set image registry.example.invalid/mdns/<app>=<registry>/mdns-<app>:<version>`
# (the base's placeholder name is the key kustomize matches), so the overlay names the
# image the release workflow pushed. Used by .github/workflows/release.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: pin-images.sh <version> <registry>}
registry=${2:?usage: pin-images.sh <version> <registry>}
apps=(cluster-gateway fanout-authority)
# The name the base gives each image (infra/k8s/base/<app>/deployment.yaml).
placeholder=registry.example.invalid/mdns

found=0
while IFS= read -r file; do
  dir=$(dirname "$file")
  # secrets/: the operator's Secret, from key files that are never committed (no image).
  case "$dir" in */base | */base/* | */components/* | */secrets) continue ;; esac
  rendered=$(kubectl kustomize "$dir")
  for app in "${apps[@]}"; do
    # The base names its image $placeholder/<app>; an overlay pinned before names the registry's.
    if grep -Eq "image: ($placeholder/$app|.*/mdns-$app)(:|@|$)" <<<"$rendered"; then
      (cd "$dir" && kustomize edit set image "$placeholder/$app=$registry/mdns-$app:$version")
      echo "pin-images: $dir -> $registry/mdns-$app:$version"
      found=$((found + 1))
    fi
  done
done < <(find infra/k8s -name kustomization.yaml | sort)
if [ "$found" = 0 ]; then
  echo "pin-images: no overlay under infra/k8s deploys ${apps[*]}" >&2
  exit 1
fi
