#!/usr/bin/env bash
# Connect CA and intentions on this machine: leaf issuance end to end (a never-used service name
# per request, so the agent's cache is always cold: agent key + CSR, serial through the log,
# server verify + sign) next to `openssl speed ecdsap256`, the raw sign rate that bounds it; then
# authorize decisions with DESTINATIONS x SOURCES intentions, in process (intentions_bench) and
# over HTTP. Only 127.0.0.1; kills what it started on exit.
#
# Env: TRELLIS_BIN, LOADGEN, INTENTIONS_BENCH, CA_SIGN_BENCH, OPENSSL (openssl), DURATION (s, 10),
#      WARMUP (s, 2), LEAF_CONNS (16), AUTH_CONNS (32), DESTINATIONS (100), SOURCES (100),
#      SPEED_SECONDS (openssl speed -seconds, 5), PERF (1: perf-record the agent during an extra
#      leaf run and print its top symbols; needs perf).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TRELLIS_BIN=${TRELLIS_BIN:-$ROOT/build/src/bin/trellis}
LOADGEN=${LOADGEN:-$ROOT/build/bench/loadgen}
INTENTIONS_BENCH=${INTENTIONS_BENCH:-$ROOT/build/src/intentions/intentions_bench}
CA_SIGN_BENCH=${CA_SIGN_BENCH:-$ROOT/build/src/ca/ca_sign_bench}
OPENSSL=${OPENSSL:-openssl}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
LEAF_CONNS=${LEAF_CONNS:-16}
AUTH_CONNS=${AUTH_CONNS:-32}
DESTINATIONS=${DESTINATIONS:-100}
SOURCES=${SOURCES:-100}
SPEED_SECONDS=${SPEED_SECONDS:-5}
PERF=${PERF:-0}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/trellis-ca-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench/ca: $*" >&2; exit 1; }

# The in-process benchmarks are optional build targets: build them when a build tree exists.
for target in intentions_bench ca_sign_bench loadgen; do
  case $target in
    intentions_bench) bin=$INTENTIONS_BENCH ;;
    ca_sign_bench) bin=$CA_SIGN_BENCH ;;
    loadgen) bin=$LOADGEN ;;
  esac
  if [[ ! -x $bin && -f $ROOT/build/build.ninja ]]; then
    cmake --build "$ROOT/build" --target "$target" >/dev/null
  fi
done
if [[ ! -x $LOADGEN ]]; then
  LOADGEN=$WORK/loadgen
  g++ -O2 -std=c++20 -I"$ROOT/src" "$ROOT/bench/loadgen.cc" "$ROOT/src/common/base64.cc" \
      -o "$LOADGEN" -pthread
fi
for b in "$TRELLIS_BIN" "$INTENTIONS_BENCH" "$CA_SIGN_BENCH"; do [[ -x $b ]] || die "missing $b"; done
command -v "$OPENSSL" >/dev/null || die "no openssl"
command -v jq >/dev/null || die "no jq"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN {print (a >= b ? "PASS" : "FAIL")}'; }
field() { jq -r ".$2" <<<"$1"; }  # field JSON NAME

echo "# Trellis CA/intentions benchmarks $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs," \
  "kernel $(uname -r), $("$OPENSSL" version)"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work skews the numbers)"

PORT=$(free_port)
# The CSR rate limit (CSRMaxPerSecond, default 50/s) is lifted: this measures signing itself.
echo '{"connect": {"ca_config": {"csr_max_per_second": 0}}}' >"$WORK/ca-unlimited.json"
"$TRELLIS_BIN" agent -dev -http-port "$PORT" -dns-port -1 -grpc-port -1 -log-level warn \
  -config-file "$WORK/ca-unlimited.json" >"$WORK/trellis.log" 2>&1 &
AGENT=$!
PIDS+=("$AGENT")
TD=""
for _ in $(seq 300); do
  kill -0 "$AGENT" 2>/dev/null || { tail -20 "$WORK/trellis.log" >&2; die "agent exited"; }
  TD=$(curl -sf "http://127.0.0.1:$PORT/v1/connect/ca/roots" 2>/dev/null | jq -r '.TrustDomain' ||
    true)
  [[ -n $TD && $TD != null ]] && break
  sleep 0.1
done
[[ -n $TD && $TD != null ]] || die "CA not ready"

# One leaf checked by OpenSSL against the published roots before anything is timed.
curl -sf "http://127.0.0.1:$PORT/v1/connect/ca/roots?pem=true" >"$WORK/roots.pem"
curl -sf "http://127.0.0.1:$PORT/v1/agent/connect/ca/leaf/bench-check" | jq -r .CertPEM \
  >"$WORK/leaf.pem"
"$OPENSSL" verify -CAfile "$WORK/roots.pem" "$WORK/leaf.pem" >/dev/null ||
  die "the agent's leaf does not verify against its roots"
echo "# agent on :$PORT, trust domain $TD; a leaf verified with openssl verify"

# ---- Leaf issuance vs the raw ECDSA P-256 sign rate.
echo "[openssl speed] \$ $OPENSSL speed -seconds $SPEED_SECONDS ecdsap256"
speed=$("$OPENSSL" speed -seconds "$SPEED_SECONDS" ecdsap256 2>/dev/null |
  awk '/bits ecdsa \(nistp256\)/ {s = $(NF-1); v = $NF} END {print s, v}')
read -r SIGN_RATE VERIFY_RATE <<<"$speed"
[[ -n $SIGN_RATE && -n $VERIFY_RATE ]] || die "could not parse openssl speed"
echo "  sign/s $SIGN_RATE verify/s $VERIFY_RATE"

echo "[ca_sign_bench] \$ $CA_SIGN_BENCH 2 1000"
inproc=$("$CA_SIGN_BENCH" 2 1000)
sed 's/^/  /' <<<"$inproc"
INPROC_LEAF=$(awk '/^leaf signs/ {print $(NF-1)}' <<<"$inproc")

leaf_cmd=("$LOADGEN" --mode trellis-leaf --port "$PORT" --pid "$AGENT" -c "$LEAF_CONNS"
  -d "$DURATION" --warmup "$WARMUP")
echo "[trellis-leaf] \$ ${leaf_cmd[*]}"
LEAF=$("${leaf_cmd[@]}") || echo "  (loadgen reported errors)" >&2
echo "  $LEAF"
LEAF_RPS=$(field "$LEAF" rps)

if [[ $PERF == 1 ]]; then
  command -v perf >/dev/null || die "PERF=1 but no perf"
  # DWARF unwinding: libcrypto has no frame pointers, so fp call graphs lose its callers.
  echo "[perf] agent during a further ${DURATION}s leaf run (perf record --call-graph dwarf)"
  perf record -q --call-graph dwarf,16384 -F 200 -p "$AGENT" -o "$WORK/perf.data" \
    -- sleep "$DURATION" >/dev/null 2>&1 &
  perf_pid=$!
  "$LOADGEN" --mode trellis-leaf --port "$PORT" -c "$LEAF_CONNS" -d "$DURATION" --warmup 0 \
    >/dev/null || true
  wait "$perf_pid" || true
  echo "  share of agent CPU including callees:"
  { perf report -i "$WORK/perf.data" --children --sort symbol -g none --stdio 2>/dev/null |
    grep -E 'generateLeafKeyAndCsr|signServiceLeaf|parseCsr|X509_PUBKEY_set|X509_REQ_verify|'\
'OSSL_DECODER_CTX_new_for_pkey|PEM_ASN1_read_bio|X509_sign|X509_REQ_sign|generateKey|'\
'privateKeyToPem|jsonResponse|Writer::submit|_int_malloc' |
    sed -E 's/^ *([0-9.]+%) +[0-9.]+% +\[.\] +([^ ]+( namespace\)[^ ]+)?).*/    \1  \2/' |
    awk '$1 + 0 >= 1'; } || true
fi

# ---- Authorize with DESTINATIONS x SOURCES intentions.
echo "[intentions_bench] \$ $INTENTIONS_BENCH 20000000"
ib=$("$INTENTIONS_BENCH" 20000000)
echo "  $ib"
INPROC_AUTH=$(tr ' ' '\n' <<<"$ib" | awk -F= '$1 == "decisions_per_sec" {print $2}')
INPROC_N=$(tr ' ' '\n' <<<"$ib" | awk -F= '$1 == "intentions" {print $2}')

auth_cmd=("$LOADGEN" --mode trellis-authorize --port "$PORT" --pid "$AGENT" -c "$AUTH_CONNS"
  -d "$DURATION" --warmup "$WARMUP" --services "$DESTINATIONS" --sources "$SOURCES" --keys 1000)
echo "[trellis-authorize] \$ ${auth_cmd[*]}"
AUTH=$("${auth_cmd[@]}") || echo "  (loadgen reported errors)" >&2
echo "  $AUTH"
AUTH_RPS=$(field "$AUTH" rps)
LOADED=$(curl -sf "http://127.0.0.1:$PORT/v1/connect/intentions" | jq length)
[[ $LOADED == $((DESTINATIONS * SOURCES)) ]] ||
  die "the agent holds $LOADED intentions, want $((DESTINATIONS * SOURCES))"

echo
printf "%-44s %14s %10s %s\n" metric value ratio target
printf "%-44s %14.0f\n" "openssl speed ecdsap256 sign/s" "$SIGN_RATE"
printf "%-44s %14.0f\n" "openssl speed ecdsap256 verify/s" "$VERIFY_RATE"
printf "%-44s %14.0f %9sx\n" "in-process signLeaf/s (CSR verify + sign)" "$INPROC_LEAF" \
  "$(ratio "$INPROC_LEAF" "$SIGN_RATE")"
printf "%-44s %14.0f %9sx %s\n" "leaf/s over HTTP, cold cache ($LEAF_CONNS conns)" "$LEAF_RPS" \
  "$(ratio "$LEAF_RPS" "$SIGN_RATE")" \
  ">= 0.50x sign/s: $(verdict "$(ratio "$LEAF_RPS" "$SIGN_RATE")" 0.5)"
printf "%-44s %14s\n" "leaf p50 / p99 ms" "$(field "$LEAF" p50_ms) / $(field "$LEAF" p99_ms)"
printf "%-44s %14s\n" "leaf agent CPU cores" "$(field "$LEAF" server_cores)"
printf "%-44s %14.0f %9sx %s\n" "authorize/s in process ($INPROC_N intentions)" "$INPROC_AUTH" \
  "$(ratio "$INPROC_AUTH" 1000000)" ">= 1,000,000/s: $(verdict "$INPROC_AUTH" 1000000)"
printf "%-44s %14.0f\n" "authorize/s over HTTP ($LOADED, $AUTH_CONNS conns)" "$AUTH_RPS"
printf "%-44s %14s\n" "authorize p50 / p99 ms" "$(field "$AUTH" p50_ms) / $(field "$AUTH" p99_ms)"
printf "%-44s %14s\n" "authorize agent CPU cores" "$(field "$AUTH" server_cores)"
printf "%-44s %14s\n" "authorize answers Authorized=true" \
  "$(field "$AUTH" authorized) / $(field "$AUTH" requests)"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
