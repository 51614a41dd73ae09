#!/usr/bin/env bash
# xDS convergence: for each N in SIZES, a fresh dev agent, N sidecars registered with 5 upstreams
# each, N delta ADS streams (bench/xds_convergence.cc), one upstream instance's health flipped;
# reports the time until every stream held the new endpoints (p50/p99/max), the agent's CPU
# seconds for the flip and its resident memory per stream. ROUNDS rounds per size, medians.
# There is no same-machine peer (Consul and Envoy are not Debian packages): the issue's targets and
# HashiCorp's published figures are the comparison. Only 127.0.0.1; kills what it started on exit.
#
# Env: TRELLIS_BIN, XDS_CONVERGENCE, SIZES ("1000 10000"), ROUNDS (3), CHANNELS (16).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TRELLIS_BIN=${TRELLIS_BIN:-$ROOT/build/src/bin/trellis}
XDS_CONVERGENCE=${XDS_CONVERGENCE:-$ROOT/build/bench/xds_convergence}
SIZES=${SIZES:-"1000 10000"}
ROUNDS=${ROUNDS:-3}
CHANNELS=${CHANNELS:-16}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/trellis-xds-bench.XXXXXX")
AGENT_PID=""
cleanup() {
  if [[ -n $AGENT_PID ]]; then kill "$AGENT_PID" 2>/dev/null || true; wait "$AGENT_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench/xds: $*" >&2; exit 1; }
for b in "$TRELLIS_BIN" "$XDS_CONVERGENCE"; do [[ -x $b ]] || die "missing $b"; done
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

: >"$WORK/results.jsonl"
for n in $SIZES; do
  for round in $(seq 1 "$ROUNDS"); do
    http=$(free_port); grpc=$(free_port)
    "$TRELLIS_BIN" agent -dev -node bench -client 127.0.0.1 -bind 127.0.0.1 -http-port "$http" \
      -dns-port -1 -grpc-port "$grpc" -log-level warn >"$WORK/agent.log" 2>&1 &
    AGENT_PID=$!
    for _ in $(seq 100); do
      curl -sf "http://127.0.0.1:$http/v1/connect/ca/roots" 2>/dev/null | grep -q '"Roots": *\[ *{' && break
      sleep 0.1
    done
    echo "[xds n=$n round=$round] \$ xds_convergence --http 127.0.0.1:$http --grpc 127.0.0.1:$grpc --agent-pid $AGENT_PID --streams $n --channels $CHANNELS" >&2
    "$XDS_CONVERGENCE" --http "127.0.0.1:$http" --grpc "127.0.0.1:$grpc" --agent-pid "$AGENT_PID" \
      --streams "$n" --channels "$CHANNELS" --timeout 120 | tee -a "$WORK/results.jsonl" >&2 \
      || die "round failed: $(tail -5 "$WORK/agent.log")"
    kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=""
  done
done

python3 - "$WORK/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| streams | p50 ms | p99 ms | max ms | agent CPU s (flip) | KiB/stream | updates/core/s | initial sync s |")
print("|---|---|---|---|---|---|---|---|")
for n in sorted({r["streams"] for r in rows}):
    rs = [r for r in rows if r["streams"] == n]
    med = lambda k: statistics.median(r[k] for r in rs)
    cpu = med("agent_cpu_seconds")
    rate = n / cpu if cpu > 0 else float("inf")
    print("| %d | %.0f | %.0f | %.0f | %.2f | %.1f | %.0f | %.2f |" % (
        n, med("p50_ms"), med("p99_ms"), med("max_ms"), cpu, med("kib_per_stream"), rate,
        med("initial_convergence_seconds")))
print("\n(median of %d rounds per size)" % (len(rows) // max(1, len({r['streams'] for r in rows}))))
PY
