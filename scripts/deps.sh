#!/usr/bin/env bash
# Installs every system package that Trellis' build, tests and benchmarks need.
# Idempotent: does nothing when everything is present; runs `apt-get update` at most once.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git curl
  libboost-dev libssl-dev liblmdb-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libre2-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  python3 python3-pytest python3-requests python3-consul
  etcd-server etcd-client wrk procps psmisc dnsutils dnsperf dnsmasq-base
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

# Node.js runs the node-consul end-to-end test; machines that ship their own node keep it.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [[ ${#missing[@]} -gt 0 ]]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages for the end-to-end tests (pinned by tests/e2e/node/package-lock.json).
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ ! -d "$root/tests/e2e/node/node_modules/consul" || ! -d "$root/tests/e2e/node/node_modules/@grpc/grpc-js-xds" ]]; then
  echo "deps: installing npm packages for tests/e2e/node"
  npm ci --silent --no-audit --no-fund --prefix "$root/tests/e2e/node"
fi
