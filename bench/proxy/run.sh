#!/usr/bin/env bash
# mTLS sidecar pairs side by side (issue #5): (a) direct to the origin, (b) the Trellis sidecar
# pair, (c) HAProxy, (d) nginx stream, (e) stunnel. One dev agent issues the CA and the `load` and
# `origin` leaves every pair uses; one nginx origin on 127.0.0.1 serves a small body and a 1 MiB
# file; the same wrk and ratebench runs go through each pair, interleaved row by row in every
# round. Prints Markdown tables (medians over ROUNDS) on stdout, every command and config on
# stderr. Only 127.0.0.1; every run is bounded by `timeout`; kills what it started on exit.
#
# Env: ROWS ("a b c d e"), ROUNDS (3), DURATION (s per run, 10), WARMUP (s, 2), THREADS (wrk, 2),
#      CONNS (32, small keep-alive), CONNS_LARGE (8, 1 MiB), CONNS_CLOSE (16, new connection per
#      request), RATE (1000/s), RATE_CONNS (32), WORKERS (peers' threads or processes, nproc),
#      ORIGIN_WORKERS (nproc), SMALL_BYTES (128), TRELLIS_BIN, RATEBENCH, WRK, KEEP=1 (keep $WORK),
#      PROXY_ARGS (extra trellis-proxy flags for row b, e.g. "-workers 1"), HOLD=N (start the rows, print their ports, keep them up N seconds for profiling, exit).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TRELLIS_BIN=${TRELLIS_BIN:-$ROOT/build/src/bin/trellis}
RATEBENCH=${RATEBENCH:-$ROOT/build/bench/ratebench}
WRK=${WRK:-wrk}
ROWS=${ROWS:-"a b c d e"}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
CONNS_LARGE=${CONNS_LARGE:-8}
CONNS_CLOSE=${CONNS_CLOSE:-16}
RATE=${RATE:-1000}
RATE_CONNS=${RATE_CONNS:-32}
WORKERS=${WORKERS:-$(nproc)}
ORIGIN_WORKERS=${ORIGIN_WORKERS:-$(nproc)}
SMALL_BYTES=${SMALL_BYTES:-128}
KEEP=${KEEP:-0}
HOLD=${HOLD:-0}
RUN_LIMIT=$((DURATION + WARMUP + 30))  # hard cap on any single load run, in seconds
# HAProxy refuses to start when maxconn needs more descriptors than it may open (2 per
# connection); the same bound goes to nginx so both run under it.
FD_LIMIT=$(ulimit -n)
[[ $FD_LIMIT != unlimited ]] || FD_LIMIT=20100
PEER_MAXCONN=$(( (FD_LIMIT - 100) / 2 ))
((PEER_MAXCONN <= 10000)) || PEER_MAXCONN=10000

WORK=$(mktemp -d "${TMPDIR:-/tmp}/trellis-proxy-bench.XXXXXX")
RUNS=$WORK/runs
mkdir -p "$RUNS"
PIDS=()
cleanup() {
  local pid all=()
  # Descendants first (nginx workers, a launcher's child), each by its own PID.
  for pid in "${PIDS[@]}"; do
    # shellcheck disable=SC2207
    all+=($(python3 "$HERE/procstat.py" tree "$pid" 2>/dev/null || echo "$pid"))
  done
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.3
  for pid in "${all[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $KEEP == 1 ]]; then echo "bench/proxy: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench/proxy: $*" >&2; exit 1; }
log() { echo "bench/proxy: $*" >&2; }
# shellcheck source=bench/proxy/peers.sh
source "$HERE/peers.sh"

# ---- Tools
if [[ ! -x $RATEBENCH && -f $ROOT/build/build.ninja ]]; then
  ninja -C "$ROOT/build" -j1 ratebench >/dev/null || true
fi
if [[ ! -x $RATEBENCH ]]; then
  RATEBENCH=$WORK/ratebench
  g++ -O2 -std=c++20 -I"$ROOT/src" "$ROOT/bench/ratebench.cc" "$ROOT/src/common/base64.cc" \
    -o "$RATEBENCH"
fi
for tool in "$WRK" nginx haproxy stunnel curl jq python3 timeout; do
  command -v "$tool" >/dev/null || die "missing $tool (scripts/deps.sh installs it)"
done
[[ -x $TRELLIS_BIN ]] || die "missing $TRELLIS_BIN (it issues the certificates)"
[[ -f /usr/lib/nginx/modules/ngx_stream_module.so ]] || die "missing nginx stream module"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# start NAME CMD...: runs CMD in the background, logs to $WORK/NAME.log, sets STARTED.
start() {
  local name=$1
  shift
  echo "[$name] \$ $(printf "%q " "$@")" >&2
  "$@" >"$WORK/$name.log" 2>&1 &
  STARTED=$!
  PIDS+=("$STARTED")
}
show_config() { sed "s|^|[$1 config] |" "$2" >&2; }
# wait_get PORT PATH SECONDS: until a GET returns 2xx, or fail.
wait_get() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$1$2" && return 0
    sleep 0.1
  done
  return 1
}

echo "# bench/proxy $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs, kernel $(uname -r)" >&2
log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- Certificates from a dev agent: the mesh's real SPIFFE leaves (EC P-256) for every row.
HTTP_PORT=$(free_port)
GRPC_PORT=$(free_port)
start agent "$TRELLIS_BIN" agent -dev -node bench -client 127.0.0.1 -bind 127.0.0.1 \
  -http-port "$HTTP_PORT" -dns-port -1 -grpc-port "$GRPC_PORT" -log-level warn
AGENT=http://127.0.0.1:$HTTP_PORT
for _ in $(seq 100); do
  curl -sf "$AGENT/v1/connect/ca/roots" 2>/dev/null | grep -q '"Roots": *\[ *{' && break
  sleep 0.1
done
curl -sf "$AGENT/v1/connect/ca/roots?pem=true" >"$WORK/ca.pem" || die "no CA roots"
for svc in load origin; do
  curl -sf "$AGENT/v1/agent/connect/ca/leaf/$svc" >"$WORK/$svc.json" || die "no leaf for $svc"
  jq -r .CertPEM "$WORK/$svc.json" >"$WORK/$svc.crt"
  jq -r .PrivateKeyPEM "$WORK/$svc.json" >"$WORK/$svc.key"
  cat "$WORK/$svc.crt" "$WORK/$svc.key" >"$WORK/$svc.pem"  # HAProxy's crt: both in one file
  openssl verify -CAfile "$WORK/ca.pem" "$WORK/$svc.crt" >/dev/null || die "leaf $svc invalid"
done
log "leaves: $(openssl x509 -in "$WORK/load.crt" -noout -ext subjectAltName | tail -1 | xargs)," \
  "$(openssl x509 -in "$WORK/origin.crt" -noout -ext subjectAltName | tail -1 | xargs)"

# ---- Origin
ORIGIN_PORT=$(free_port)
write_origin_nginx "$WORK/origin" "$ORIGIN_PORT"
show_config origin "$WORK/origin/nginx.conf"
start origin nginx -p "$WORK/origin" -c "$WORK/origin/nginx.conf" -e "$WORK/origin/error.log"
wait_get "$ORIGIN_PORT" /small 10 || die "origin did not start: $(tail -3 "$WORK/origin.log")"

# ---- Pairs. ENTRY[row] is the plain port load goes to; PAIR[row] the pair's PIDs.
declare -A ENTRY PAIR NAME
NAME=([a]="direct" [b]="trellis" [c]="haproxy" [d]="nginx stream" [e]="stunnel")
NOTES=()

start_a() { ENTRY[a]=$ORIGIN_PORT; PAIR[a]=""; }

start_b() {
  if ! "$TRELLIS_BIN" connect proxy -h 2>&1 | grep -q -- '-sidecar-for'; then
    echo "trellis-proxy not built: row (b) skipped" >&2
    NOTES+=("trellis-proxy not built: row (b) skipped")
    return 1
  fi
  local sidecar_in=$(free_port) client_sidecar=$(free_port) upstream=$(free_port)
  local admin_server=$(free_port) admin_client=$(free_port)
  cat >"$WORK/origin-service.json" <<EOF
{"ID": "origin", "Name": "origin", "Address": "127.0.0.1", "Port": $ORIGIN_PORT,
 "Connect": {"SidecarService": {"Port": $sidecar_in}}}
EOF
  cat >"$WORK/load-service.json" <<EOF
{"ID": "load", "Name": "load", "Address": "127.0.0.1", "Port": 1,
 "Connect": {"SidecarService": {"Port": $client_sidecar, "Proxy": {"Upstreams": [
   {"DestinationName": "origin", "LocalBindAddress": "127.0.0.1", "LocalBindPort": $upstream}]}}}}
EOF
  local svc
  for svc in origin load; do
    show_config "trellis $svc" "$WORK/$svc-service.json"
    echo "[trellis] \$ curl -X PUT --data @$svc-service.json $AGENT/v1/agent/service/register" >&2
    curl -sf -X PUT --data @"$WORK/$svc-service.json" "$AGENT/v1/agent/service/register" \
      || { NOTES+=("row (b): registering $svc failed"); return 1; }
  done
  export CONSUL_HTTP_ADDR=127.0.0.1:$HTTP_PORT
  start trellis-server "$TRELLIS_BIN" connect proxy -sidecar-for origin \
    -admin-bind "127.0.0.1:$admin_server" -http-addr "127.0.0.1:$HTTP_PORT" ${PROXY_ARGS:+-- $PROXY_ARGS}
  local server_pid=$STARTED
  start trellis-client "$TRELLIS_BIN" connect proxy -sidecar-for load \
    -admin-bind "127.0.0.1:$admin_client" -http-addr "127.0.0.1:$HTTP_PORT" ${PROXY_ARGS:+-- $PROXY_ARGS}
  PAIR[b]="$server_pid $STARTED"
  ENTRY[b]=$upstream
  wait_get "$admin_server" /ready 30 && wait_get "$admin_client" /ready 30 \
    || { NOTES+=("row (b): /ready never answered 200 (see trellis-*.log)"); return 1; }
  # The origin sidecar's TCP check must pass before the client side gets an endpoint.
  wait_get "$upstream" /small 60 \
    || { NOTES+=("row (b): no end-to-end answer within 60 s"); return 1; }
}

start_c() {
  local server=$(free_port) client=$(free_port)
  write_haproxy_server "$WORK/haproxy-server.cfg" "$server" "$ORIGIN_PORT"
  write_haproxy_client "$WORK/haproxy-client.cfg" "$client" "$server"
  show_config haproxy-server "$WORK/haproxy-server.cfg"
  show_config haproxy-client "$WORK/haproxy-client.cfg"
  start haproxy-server haproxy -db -f "$WORK/haproxy-server.cfg"
  local server_pid=$STARTED
  start haproxy-client haproxy -db -f "$WORK/haproxy-client.cfg"
  PAIR[c]="$server_pid $STARTED"
  ENTRY[c]=$client
}

start_d() {
  local server=$(free_port) client=$(free_port)
  write_nginx_stream_server "$WORK/nginx-server" "$server" "$ORIGIN_PORT"
  write_nginx_stream_client "$WORK/nginx-client" "$client" "$server"
  show_config nginx-server "$WORK/nginx-server/nginx.conf"
  show_config nginx-client "$WORK/nginx-client/nginx.conf"
  start nginx-server nginx -p "$WORK/nginx-server" -c "$WORK/nginx-server/nginx.conf" \
    -e "$WORK/nginx-server/error.log"
  local server_pid=$STARTED
  start nginx-client nginx -p "$WORK/nginx-client" -c "$WORK/nginx-client/nginx.conf" \
    -e "$WORK/nginx-client/error.log"
  PAIR[d]="$server_pid $STARTED"
  ENTRY[d]=$client
  NOTES+=("row (d): nginx cannot verify a certificate without a DNS name or CN, so its client \
side does not verify the server (the server side does verify the client)")
}

start_e() {
  local server=$(free_port) client=$(free_port)
  write_stunnel_server "$WORK/stunnel-server.conf" "$server" "$ORIGIN_PORT"
  write_stunnel_client "$WORK/stunnel-client.conf" "$client" "$server"
  show_config stunnel-server "$WORK/stunnel-server.conf"
  show_config stunnel-client "$WORK/stunnel-client.conf"
  start stunnel-server stunnel "$WORK/stunnel-server.conf"
  local server_pid=$STARTED
  start stunnel-client stunnel "$WORK/stunnel-client.conf"
  PAIR[e]="$server_pid $STARTED"
  ENTRY[e]=$client
}

ACTIVE=()
for row in $ROWS; do
  [[ -n ${NAME[$row]:-} ]] || die "unknown row '$row' (rows are a b c d e)"
  if ! "start_$row"; then
    log "row ($row) ${NAME[$row]} skipped"
    continue
  fi
  if [[ $row != [ab] ]] && ! wait_get "${ENTRY[$row]}" /small 10; then
    NOTES+=("row ($row) ${NAME[$row]}: no end-to-end answer, skipped")
    log "row ($row) failed to start: $(tail -3 "$WORK"/*"${NAME[$row]%% *}"*.log 2>/dev/null)"
    continue
  fi
  ACTIVE+=("$row")
done
[[ ${#ACTIVE[@]} -gt 0 ]] || die "no row could start"
if ((HOLD > 0)); then  # for profiling by hand: keep the pairs up, print where they listen
  for row in "${ACTIVE[@]}"; do
    log "hold: row ($row) ${NAME[$row]} listens on 127.0.0.1:${ENTRY[$row]}, pids ${PAIR[$row]:-}"
  done
  sleep "$HOLD" & wait $!  # in the background so INT/TERM run the cleanup at once
  exit 0
fi
sleep 2
for row in "${ACTIVE[@]}"; do
  # shellcheck disable=SC2086
  [[ -z ${PAIR[$row]} ]] || python3 "$HERE/procstat.py" snap ${PAIR[$row]} >"$RUNS/$row.idle"
done

# ---- Load. measure ROW ROUND WORKLOAD CMD...: CPU before/after, peak memory meanwhile (not
# during the latency run: reading a process's smaps every 0.2 s stalls it; measured on row (b),
# p99 at 1,000 req/s went from 0.40 to 1.26 ms with the sampler running).
measure() {
  local row=$1 round=$2 workload=$3
  shift 3
  local base=$RUNS/$row.$round.$workload sampler=""
  if [[ -n ${PAIR[$row]} ]]; then
    # shellcheck disable=SC2086
    python3 "$HERE/procstat.py" snap ${PAIR[$row]} >"$base.before"
  fi
  if [[ -n ${PAIR[$row]} && $workload != rate ]]; then
    # shellcheck disable=SC2086
    python3 "$HERE/procstat.py" peak "$RUN_LIMIT" ${PAIR[$row]} >"$base.peak" &
    sampler=$!
  fi
  echo "[$row ${NAME[$row]} round $round $workload] \$ $(printf "%q " "$@")" >&2
  timeout "$RUN_LIMIT" "$@" >"$base.out" 2>&1 || log "run failed ($?): $(tail -2 "$base.out")"
  if [[ -n $sampler ]]; then
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
  fi
  if [[ -n ${PAIR[$row]} ]]; then
    # shellcheck disable=SC2086
    python3 "$HERE/procstat.py" snap ${PAIR[$row]} >"$base.after"
  fi
  grep -E 'Requests/sec|"p99_ms"' "$base.out" | sed "s|^|[$row round $round $workload] |" >&2 || true
}

for round in $(seq 1 "$ROUNDS"); do
  for row in "${ACTIVE[@]}"; do
    url=http://127.0.0.1:${ENTRY[$row]}
    echo "[$row ${NAME[$row]} round $round warm-up] \$ $WRK -t1 -c4 -d${WARMUP}s $url/small" >&2
    timeout "$RUN_LIMIT" "$WRK" -t1 -c4 -d"${WARMUP}s" "$url/small" >/dev/null 2>&1 || true
    measure "$row" "$round" small "$WRK" -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 5s \
      "$url/small"
    measure "$row" "$round" large "$WRK" -t"$THREADS" -c"$CONNS_LARGE" -d"${DURATION}s" \
      --timeout 5s "$url/1m"
    measure "$row" "$round" close "$WRK" -t"$THREADS" -c"$CONNS_CLOSE" -d"${DURATION}s" \
      --timeout 5s -H "Connection: close" "$url/small"
    measure "$row" "$round" rate "$RATEBENCH" --port "${ENTRY[$row]}" --rate "$RATE" \
      -d "$DURATION" --warmup 1 --drain 5 -c "$RATE_CONNS" --path /small
  done
done
log "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "bench/proxy $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, load average" \
  "$(cut -d' ' -f1-3 /proc/loadavg): ROWS=\"${ACTIVE[*]}\" ROUNDS=$ROUNDS DURATION=$DURATION" \
  "THREADS=$THREADS CONNS=$CONNS CONNS_LARGE=$CONNS_LARGE CONNS_CLOSE=$CONNS_CLOSE RATE=$RATE" \
  "RATE_CONNS=$RATE_CONNS WORKERS=$WORKERS ORIGIN_WORKERS=$ORIGIN_WORKERS" \
  "SMALL_BYTES=$SMALL_BYTES; $(nginx -v 2>&1 | cut -d' ' -f3), $(haproxy -v | head -1 |
  cut -d' ' -f1-3), $(stunnel -version 2>&1 | grep -m1 '^stunnel' | cut -d' ' -f1-2)," \
  "$(openssl version | cut -d' ' -f1-2), $($WRK -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo

python3 "$HERE/table.py" "$RUNS" "$ROUNDS" "$(printf '%s\n' "${NOTES[@]}")"
