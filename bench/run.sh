#!/usr/bin/env bash
# Trellis vs etcd, side by side on this machine: KV PUT/GET throughput and latency with 32
# keep-alive clients (Trellis durable and dev; etcd one node, default fsync, its v3 JSON API),
# blocking-query fan-out, service registration and health reads, idle RSS. Installs nothing
# (scripts/deps.sh does); talks only to 127.0.0.1; kills everything it started on exit.
#
# Env: LOADGEN, TRELLIS_BIN, ETCD_BIN, DURATION (s per run, 10), WARMUP (s, 3), CONNS (32),
#      WATCHERS (10000), KEYS (1000), VALUE_SIZE (128), SERVICES (10 names) and INSTANCES (100),
#      BENCH_OUT (a path to keep the raw results: server, test, JSON, command per line),
#      CA_BENCH (1: then run bench/ca.sh, the Connect CA and intentions benchmarks; 0 skips).
#      DNS_BENCH (1: then run bench/dns.sh, DNS vs dnsmasq; 0 skips).
#      XDS_BENCH (1: then run bench/xds.sh, xDS convergence at 1,000 and 10,000 streams; 0 skips).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOADGEN=${LOADGEN:-$ROOT/build/bench/loadgen}
TRELLIS_BIN=${TRELLIS_BIN:-$ROOT/build/src/bin/trellis}
ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONNS=${CONNS:-32}
WATCHERS=${WATCHERS:-10000}
KEYS=${KEYS:-1000}
VALUE_SIZE=${VALUE_SIZE:-128}
SERVICES=${SERVICES:-10}
INSTANCES=${INSTANCES:-100}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/trellis-bench.XXXXXX")
RESULTS=$WORK/results.tsv
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bench: $*" >&2; exit 1; }

[[ -x $TRELLIS_BIN ]] || die "no trellis at $TRELLIS_BIN (run 'make build' or set TRELLIS_BIN)"
[[ -x $ETCD_BIN ]] || die "no etcd at $ETCD_BIN (scripts/deps.sh installs etcd-server)"
if [[ ! -x $LOADGEN ]]; then
  if [[ -f $ROOT/build/build.ninja ]]; then
    cmake --build "$ROOT/build" --target loadgen >/dev/null
  fi
  if [[ ! -x $LOADGEN ]]; then
    LOADGEN=$WORK/loadgen
    g++ -O2 -std=c++20 -I"$ROOT/src" "$ROOT/bench/loadgen.cc" "$ROOT/src/common/base64.cc" \
      -o "$LOADGEN" -pthread
  fi
fi

# The fan-out needs one descriptor per watcher on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < WATCHERS + 256)); then
  echo "bench: ulimit -n is $(ulimit -n); fan-out reduced to $(($(ulimit -n) - 256)) watchers" >&2
  WATCHERS=$(($(ulimit -n) - 256))
fi

freePort() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

rssKib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# startProcess NAME CMD...: starts CMD in the background, logging to $WORK/NAME.log; sets PID.
startProcess() {
  local name=$1
  shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
}

stopProcess() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# waitTrellis NAME PID PORT: polls the catalog until X-Consul-Index >= 2, up to 30 s.
waitTrellis() {
  local name=$1 pid=$2 port=$3 idx
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$WORK/$name.log" >&2; die "$name exited"; }
    idx=$(curl -s -o /dev/null -D - "http://127.0.0.1:$port/v1/catalog/nodes" 2>/dev/null |
      awk -F': ' 'tolower($1)=="x-consul-index" {print $2+0}')
    if [[ -n $idx ]] && ((idx >= 2)); then return 0; fi
    sleep 0.1
  done
  die "$name not ready"
}

waitEtcd() {
  local pid=$1 port=$2
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$WORK/etcd.log" >&2; die "etcd exited"; }
    if curl -s "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"health":"true"'; then
      return 0
    fi
    sleep 0.1
  done
  die "etcd not ready"
}

# measure SERVER TEST ARGS...: runs the load generator, echoes the exact command and its JSON,
# and records "server<TAB>test<TAB>json<TAB>command" for the table.
measure() {
  local server=$1 test=$2
  shift 2
  local cmd=("$LOADGEN" "$@") out
  echo "[$server $test] \$ ${cmd[*]}"
  if ! out=$("${cmd[@]}"); then
    echo "  (loadgen reported errors)" >&2
  fi
  echo "  $out"
  printf '%s\t%s\t%s\t%s\n' "$server" "$test" "$out" "${cmd[*]}" >>"$RESULTS"
}

runLoad() {
  local server=$1 port=$2 pid=$3
  local common=(--port "$port" --pid "$pid" -c "$CONNS" -d "$DURATION" --warmup "$WARMUP"
    --keys "$KEYS" --value-size "$VALUE_SIZE")
  if [[ $server == etcd ]]; then
    measure "$server" put --mode etcd-put "${common[@]}"
    measure "$server" get --mode etcd-get "${common[@]}"
    measure "$server" get-serializable --mode etcd-get-serializable "${common[@]}"
  else
    measure "$server" put --mode trellis-kv-put "${common[@]}"
    measure "$server" get --mode trellis-kv-get "${common[@]}"
    local svc=(--port "$port" --pid "$pid" -c "$CONNS" -d "$DURATION" --warmup "$WARMUP"
      --keys "$INSTANCES" --services "$SERVICES")
    measure "$server" register --mode trellis-register "${svc[@]}"
    measure "$server" health --mode trellis-health "${svc[@]}"
  fi
}

runFanout() {
  local server=$1 port=$2 pid=$3
  measure "$server" fanout --mode fanout --port "$port" --pid "$pid" --watchers "$WATCHERS" \
    --settle 2
}

echo "# Trellis benchmarks $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs, kernel $(uname -r)"
echo "# trellis=$TRELLIS_BIN etcd=$ETCD_BIN ($("$ETCD_BIN" --version | head -1)) loadgen=$LOADGEN"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work skews the numbers)"
echo "# ${CONNS} connections, ${DURATION}s runs after ${WARMUP}s warm-up," \
  "${KEYS} keys x ${VALUE_SIZE} B"

# Dev agent: idle RSS first, on a fresh process, then its runs.
port=$(freePort)
startProcess trellis-dev "$TRELLIS_BIN" agent -dev -http-port "$port" -dns-port -1 -grpc-port -1 -log-level warn
dev_pid=$PID
waitTrellis trellis-dev "$dev_pid" "$port"
sleep 2
idle=$(rssKib "$dev_pid")
echo "[trellis-dev idle-rss] \$ $TRELLIS_BIN agent -dev -http-port $port -dns-port -1 -grpc-port -1" \
  "-log-level warn; sleep 2; VmRSS"
echo "  {\"rss_kib\":$idle}"
printf 'trellis-dev\tidle-rss\t{"rss_kib":%s}\tVmRSS of a fresh dev agent 2 s after ready\n' \
  "$idle" >>"$RESULTS"
runLoad trellis-dev "$port" "$dev_pid"
runFanout trellis-dev "$port" "$dev_pid"
stopProcess "$dev_pid"

# Durable agent: LMDB log in the same temp dir (same filesystem as etcd's data dir).
port=$(freePort)
startProcess trellis-durable "$TRELLIS_BIN" agent -server -bootstrap \
  -data-dir "$WORK/trellis-data" -http-port "$port" -dns-port -1 -log-level warn
dur_pid=$PID
waitTrellis trellis-durable "$dur_pid" "$port"
runLoad trellis-durable "$port" "$dur_pid"
runFanout trellis-durable "$port" "$dur_pid"
stopProcess "$dur_pid"

# etcd: one member, default fsync, JSON gateway on the client port.
cport=$(freePort)
pport=$(freePort)
startProcess etcd "$ETCD_BIN" --name bench --data-dir "$WORK/etcd-data" \
  --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
  --listen-peer-urls "http://127.0.0.1:$pport" \
  --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
  --initial-cluster "bench=http://127.0.0.1:$pport" --log-level warn
etcd_pid=$PID
waitEtcd "$etcd_pid" "$cport"
sleep 2
eidle=$(rssKib "$etcd_pid")
echo "[etcd idle-rss] \$ $ETCD_BIN --name bench ...; sleep 2; VmRSS"
echo "  {\"rss_kib\":$eidle}"
printf 'etcd\tidle-rss\t{"rss_kib":%s}\tVmRSS of a fresh etcd 2 s after ready\n' "$eidle" \
  >>"$RESULTS"
runLoad etcd "$cport" "$etcd_pid"
stopProcess "$etcd_pid"

python3 "$ROOT/bench/table.py" "$RESULTS"
if [[ -n ${BENCH_OUT:-} ]]; then cp "$RESULTS" "$BENCH_OUT"; fi
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# Connect CA and intentions (leaf issuance vs openssl speed, authorize decisions): own agent.
if [[ ${CA_BENCH:-1} == 1 ]]; then
  echo
  TRELLIS_BIN=$TRELLIS_BIN LOADGEN=$LOADGEN DURATION=$DURATION WARMUP=$WARMUP "$ROOT/bench/ca.sh"
fi

# DNS (SRV lookups of 10 instances, Trellis vs dnsmasq with dnsperf): own agent and dnsmasq.
if [[ ${DNS_BENCH:-1} == 1 ]]; then
  echo
  TRELLIS_BIN=$TRELLIS_BIN "$ROOT/bench/dns.sh"
fi

# xDS convergence (N delta ADS streams, one health flip; N = 1,000 and 10,000): own agents.
if [[ ${XDS_BENCH:-1} == 1 ]]; then
  echo
  TRELLIS_BIN=$TRELLIS_BIN "$ROOT/bench/xds.sh"
fi
