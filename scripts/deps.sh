#!/usr/bin/env bash
# Installs every system package that Trellis' build, tests and benchmarks need.
# Idempotent: does nothing when everything is present; runs `apt-get update` at most once.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git curl
  libboost-dev libssl-dev liblmdb-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libre2-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc libnghttp2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  python3 python3-pytest python3-requests python3-consul
  etcd-server etcd-client wrk procps psmisc dnsutils dnsperf dnsmasq-base
  # bench/proxy's peers: each runs from a config file in a temp dir, never as a system service.
  # On Debian 12 nginx-light is only a metapackage over nginx; nginx plus the stream module is the
  # smallest install that can do TLS-terminating TCP proxying.
  haproxy stunnel4 nginx libnginx-mod-stream
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
  # Packages such as nginx and haproxy start a system service (nginx on port 80) from their
  # postinst. A policy-rc.d that answers 101 ("action forbidden") stops invoke-rc.d and
  # deb-systemd-invoke from starting anything during this install; any policy that was already
  # there is put back afterwards.
  policy=/usr/sbin/policy-rc.d
  policy_backup=$(mktemp)
  had_policy=0
  if [[ -e $policy ]]; then cp -p "$policy" "$policy_backup"; had_policy=1; fi
  restore_policy() {
    if [[ $had_policy -eq 1 ]]; then
      $SUDO cp -p "$policy_backup" "$policy"
    else
      $SUDO rm -f "$policy"
    fi
    rm -f "$policy_backup"
  }
  trap restore_policy EXIT
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  restore_policy
  trap - EXIT
  # On a systemd machine the units were still enabled: keep the benchmark peers from starting at
  # the next boot. Only packages installed just now are touched.
  if [[ -d /run/systemd/system ]]; then
    for unit in nginx haproxy stunnel4; do
      if [[ " ${missing[*]} " == *" $unit "* ]]; then
        $SUDO systemctl disable --now "$unit" 2>/dev/null || true
      fi
    done
  fi
fi

# npm packages for the end-to-end tests (pinned by tests/e2e/node/package-lock.json).
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ ! -d "$root/tests/e2e/node/node_modules/consul" || ! -d "$root/tests/e2e/node/node_modules/@grpc/grpc-js-xds" ]]; then
  echo "deps: installing npm packages for tests/e2e/node"
  npm ci --silent --no-audit --no-fund --prefix "$root/tests/e2e/node"
fi
