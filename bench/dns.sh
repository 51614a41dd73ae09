#!/usr/bin/env bash
# Trellis DNS vs dnsmasq, side by side: dnsperf (UDP, EDNS0) asking for the SRV records of a
# service with INSTANCES instances. Trellis answers from its catalog (10 nodes registered through
# the HTTP API); dnsmasq answers the equivalent record set: one --srv-host per instance plus the
# targets' A records from a hosts file, so both put INSTANCES SRV answers and INSTANCES A
# additionals in each response. Only 127.0.0.1; kills what it started on exit.
#
# Env: TRELLIS_BIN, DNSPERF (/usr/bin/dnsperf), DNSMASQ (/usr/sbin/dnsmasq), DURATION (s, 10),
#      WARMUP (s, 2), INSTANCES (10), CLIENTS (dnsperf -c, 8), OUTSTANDING (dnsperf -q, 100).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TRELLIS_BIN=${TRELLIS_BIN:-$ROOT/build/src/bin/trellis}
DNSPERF=${DNSPERF:-/usr/bin/dnsperf}
DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
INSTANCES=${INSTANCES:-10}
CLIENTS=${CLIENTS:-8}
OUTSTANDING=${OUTSTANDING:-100}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/trellis-dns-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench/dns: $*" >&2; exit 1; }

for b in "$TRELLIS_BIN" "$DNSPERF" "$DNSMASQ"; do [[ -x $b ]] || die "missing $b"; done
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

HTTP_PORT=$(free_port)
TRELLIS_DNS=$(free_port)
DNSMASQ_PORT=$(free_port)

"$TRELLIS_BIN" agent -dev -node bench -client 127.0.0.1 -bind 127.0.0.1 -http-port "$HTTP_PORT" \
  -dns-port "$TRELLIS_DNS" -grpc-port -1 -log-level warn >"$WORK/trellis.log" 2>&1 &
PIDS+=($!)
TRELLIS_PID=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$HTTP_PORT/v1/status/leader" >/dev/null 2>&1 && break
  sleep 0.1
done

: >"$WORK/hosts"
SRV_ARGS=()
for i in $(seq 1 "$INSTANCES"); do
  node=$(printf "node-%02d" "$i")
  addr="10.0.0.$i"
  port=$((8000 + i))
  curl -sf -X PUT "http://127.0.0.1:$HTTP_PORT/v1/catalog/register" -d "{\"Node\":\"$node\",
    \"Address\":\"$addr\",\"Service\":{\"ID\":\"web-$i\",\"Service\":\"web\",\"Port\":$port}}" \
    >/dev/null || die "register $node failed: $(tail -5 "$WORK/trellis.log")"
  echo "$addr $node.node.dc1.consul" >>"$WORK/hosts"
  SRV_ARGS+=("--srv-host=web.service.consul,$node.node.dc1.consul,$port,1,1")
done

"$DNSMASQ" --no-daemon --port="$DNSMASQ_PORT" --listen-address=127.0.0.1 --bind-interfaces \
  --no-resolv --no-hosts --addn-hosts="$WORK/hosts" --pid-file= "${SRV_ARGS[@]}" \
  >"$WORK/dnsmasq.log" 2>&1 &
PIDS+=($!)
DNSMASQ_PID=$!
sleep 0.5

echo "web.service.consul SRV" >"$WORK/queries"
check() {  # both servers must give the full record set before we time them
  local name=$1 port=$2 n
  n=$(dig @127.0.0.1 -p "$port" +bufsize=4096 +noall +answer web.service.consul SRV | grep -c SRV)
  [[ $n == "$INSTANCES" ]] || die "$name answered $n SRV records, want $INSTANCES"
  n=$(dig @127.0.0.1 -p "$port" +bufsize=4096 +noall +additional web.service.consul SRV |
    grep -cw A)
  [[ $n == "$INSTANCES" ]] || die "$name gave $n additional A records, want $INSTANCES"
}
check trellis "$TRELLIS_DNS"
check dnsmasq "$DNSMASQ_PORT"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A QPS P_AVG LOST CPU
run() {
  local name=$1 port=$2 pid=$3 cmd out t0 t1
  cmd=("$DNSPERF" -s 127.0.0.1 -p "$port" -d "$WORK/queries" -e -c "$CLIENTS" -q "$OUTSTANDING"
    -l "$DURATION")
  "$DNSPERF" -s 127.0.0.1 -p "$port" -d "$WORK/queries" -e -c "$CLIENTS" -q "$OUTSTANDING" \
    -l "$WARMUP" >/dev/null
  echo "[$name] \$ ${cmd[*]}"
  t0=$(cpu_ticks "$pid")
  out=$("${cmd[@]}")
  t1=$(cpu_ticks "$pid")
  echo "$out" | grep -E "Queries (sent|completed|lost)|Response codes|per second|Latency" |
    sed 's/^/    /'
  QPS[$name]=$(echo "$out" | awk '/Queries per second/ {print $4}')
  P_AVG[$name]=$(echo "$out" | awk '/Average Latency/ {print $4 * 1000}')
  LOST[$name]=$(echo "$out" | awk '/Queries lost/ {print $3}')
  CPU[$name]=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v d="$DURATION" \
    'BEGIN {printf "%.2f", t / hz / d}')
}
run trellis "$TRELLIS_DNS" "$TRELLIS_PID"
run dnsmasq "$DNSMASQ_PORT" "$DNSMASQ_PID"

echo
printf "%-28s %12s %12s %8s\n" "SRV, $INSTANCES instances" trellis dnsmasq ratio
printf "%-28s %12.0f %12.0f %7.2fx\n" "queries/s" "${QPS[trellis]}" "${QPS[dnsmasq]}" \
  "$(awk -v a="${QPS[trellis]}" -v b="${QPS[dnsmasq]}" 'BEGIN {print a / b}')"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print a / b}'; }
printf "%-28s %12.3f %12.3f %7.2fx\n" "average latency ms" "${P_AVG[trellis]}" \
  "${P_AVG[dnsmasq]}" "$(ratio "${P_AVG[trellis]}" "${P_AVG[dnsmasq]}")"
printf "%-28s %12s %12s\n" "queries lost" "${LOST[trellis]}" "${LOST[dnsmasq]}"
printf "%-28s %12s %12s\n" "server CPU cores" "${CPU[trellis]}" "${CPU[dnsmasq]}"
awk -v a="${QPS[trellis]}" -v b="${QPS[dnsmasq]}" 'BEGIN {
  r = a / b; printf "target >= 1.0x dnsmasq: %s (%.2fx)\n", (r >= 1.0 ? "PASS" : "FAIL"), r }'
