#!/usr/bin/env bash
# `make demo`: a dev agent, two demo services (web calls db) each with a trellis-proxy sidecar,
# then intentions acting live: allowed, denied within a second, allowed again.
# Ports: agent HTTP 8500, gRPC 8502 (change with HTTP_PORT/GRPC_PORT); everything on 127.0.0.1.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-$ROOT/build/src/bin}
T="$BIN/trellis"
HTTP_PORT=${HTTP_PORT:-8500}
GRPC_PORT=${GRPC_PORT:-8502}
export CONSUL_HTTP_ADDR=127.0.0.1:$HTTP_PORT
WEB_PORT=${WEB_PORT:-18080}
DB_PORT=${DB_PORT:-19090}
UPSTREAM_PORT=${UPSTREAM_PORT:-19191}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/trellis-demo.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "Starting a dev agent (logs in $WORK/agent.log)"
"$T" agent -dev -http-port "$HTTP_PORT" -grpc-port "$GRPC_PORT" -dns-port -1 >"$WORK/agent.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  curl -sf "http://$CONSUL_HTTP_ADDR/v1/connect/ca/roots" | grep -q '"RootCert"' && break
  sleep 0.1
done

say "Starting the demo services: db on :$DB_PORT, web on :$WEB_PORT (web calls db via :$UPSTREAM_PORT)"
python3 "$ROOT/demo/db.py" "$DB_PORT" & PIDS+=($!)
python3 "$ROOT/demo/web.py" "$WEB_PORT" "$UPSTREAM_PORT" & PIDS+=($!)

say "Registering both with sidecars"
cat >"$WORK/services.hcl" <<HCL
services {
  name = "db"
  port = $DB_PORT
  connect { sidecar_service {} }
}
services {
  name = "web"
  port = $WEB_PORT
  connect {
    sidecar_service {
      proxy {
        upstreams { destination_name = "db"  local_bind_port = $UPSTREAM_PORT }
      }
    }
  }
}
HCL
run "$T" services register "$WORK/services.hcl"

say "Starting a trellis-proxy sidecar for each"
"$T" connect proxy -sidecar-for db -admin-bind 127.0.0.1:19001 >"$WORK/db-proxy.log" 2>&1 & PIDS+=($!)
"$T" connect proxy -sidecar-for web -admin-bind 127.0.0.1:19002 >"$WORK/web-proxy.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do
  curl -sf http://127.0.0.1:19001/ready >/dev/null 2>&1 && curl -sf http://127.0.0.1:19002/ready >/dev/null 2>&1 && break
  sleep 0.1
done

call() { curl -s -w '  (HTTP %{http_code})\n' "http://127.0.0.1:$WEB_PORT/" || true; }
wait_for() {  # wait_for <code> : poll until web answers with that status, at most 5 s
  local start=$(date +%s%N)
  for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/" || true)
    if [[ $code == "$1" ]]; then
      echo "   (took $(( ($(date +%s%N) - start) / 1000000 )) ms)"
      return 0
    fi
    sleep 0.05
  done
  echo "   (not seen within 5 s)"; return 1
}

say "web calls db through the mesh (mTLS between the sidecars)"
wait_for 200; call

say "Deny web -> db"
run "$T" intention create -deny web db
wait_for 502; call

say "Delete the intention: allowed again"
run "$T" intention delete web db
wait_for 200; call

say "Sidecar stats (web's side)"
curl -s http://127.0.0.1:19002/stats | grep -E 'connections_total|rbac|bytes' | head -8 || true
say "Done; stopping everything"
