# Configuration writers for bench/proxy/run.sh (sourced, not run). Each writes one proxy's config
# into $WORK and prints nothing; run.sh starts the process and echoes the command. Every pair does
# the same job: the client side takes plain TCP and opens mTLS presenting the `load` leaf and
# checking the server's chain against the mesh CA; the server side requires a client certificate
# signed by that CA and forwards plain TCP to the origin. Protocol versions and session reuse are
# each peer's defaults (TLS 1.3 and resumption on all three).
# shellcheck shell=bash

# As root, nginx hands its workers to `nobody`, who cannot read files in the private $WORK.
nginx_user_line() { if [[ $(id -u) -eq 0 ]]; then echo "user root;"; fi; }

# The origin: a small body and a 1 MiB file over keep-alive HTTP/1.1, no logging.
write_origin_nginx() {  # dir port
  local dir=$1 port=$2
  mkdir -p "$dir/www"
  head -c "$SMALL_BYTES" /dev/zero | tr '\0' 'x' >"$dir/www/small"
  head -c 1048576 /dev/urandom >"$dir/www/1m"
  cat >"$dir/nginx.conf" <<EOF
$(nginx_user_line)
daemon off;
worker_processes $ORIGIN_WORKERS;
pid $dir/nginx.pid;
error_log $dir/error.log error;
events { worker_connections $PEER_MAXCONN; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  open_file_cache max=16;
  default_type application/octet-stream;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$port reuseport;
    root $dir/www;
  }
}
EOF
}

write_haproxy_server() {  # file listen_port origin_port
  cat >"$1" <<EOF
global
  nbthread $WORKERS
  maxconn $PEER_MAXCONN
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend mtls_in
  bind 127.0.0.1:$2 ssl crt $WORK/origin.pem ca-file $WORK/ca.pem verify required
  default_backend app
backend app
  server origin 127.0.0.1:$3
EOF
}

# No `sni`/`verifyhost`: with them HAProxy checks a DNS name, and mesh leaves carry only a
# SPIFFE URI SAN. The chain is still verified against the CA.
write_haproxy_client() {  # file listen_port server_port
  cat >"$1" <<EOF
global
  nbthread $WORKERS
  maxconn $PEER_MAXCONN
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend plain_in
  bind 127.0.0.1:$2
  default_backend mesh
backend mesh
  server origin 127.0.0.1:$3 ssl crt $WORK/load.pem ca-file $WORK/ca.pem verify required
EOF
}

write_nginx_stream_server() {  # dir listen_port origin_port
  mkdir -p "$1"
  cat >"$1/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
$(nginx_user_line)
daemon off;
worker_processes $WORKERS;
pid $1/nginx.pid;
error_log $1/error.log error;
events { worker_connections $PEER_MAXCONN; }
stream {
  server {
    listen 127.0.0.1:$2 ssl reuseport;
    ssl_certificate $WORK/origin.crt;
    ssl_certificate_key $WORK/origin.key;
    ssl_client_certificate $WORK/ca.pem;
    ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3;  # nginx 1.22's default stops at TLS 1.2 (see the client side)
    ssl_session_cache shared:mesh:10m;
    proxy_pass 127.0.0.1:$3;
  }
}
EOF
}

# nginx's proxy_ssl_verify always checks proxy_ssl_name against a DNS SAN or the subject CN, and
# mesh leaves have neither (only a SPIFFE URI), so the client side cannot verify the server here:
# this pair skips one ECDSA verify per full handshake that the others pay.
write_nginx_stream_client() {  # dir listen_port server_port
  mkdir -p "$1"
  cat >"$1/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
$(nginx_user_line)
daemon off;
worker_processes $WORKERS;
pid $1/nginx.pid;
error_log $1/error.log error;
events { worker_connections $PEER_MAXCONN; }
stream {
  server {
    listen 127.0.0.1:$2 reuseport;
    proxy_pass 127.0.0.1:$3;
    proxy_ssl on;
    proxy_ssl_certificate $WORK/load.crt;
    proxy_ssl_certificate_key $WORK/load.key;
    proxy_ssl_trusted_certificate $WORK/ca.pem;
    proxy_ssl_verify off;
    proxy_ssl_session_reuse on;
    # nginx 1.22 still defaults to TLS 1.0-1.2 here (1.23.4 added 1.3): without this line the
    # pair speaks TLS 1.2 and resumes without a key exchange, which the others do not get.
    proxy_ssl_protocols TLSv1.2 TLSv1.3;
  }
}
EOF
}

write_stunnel_server() {  # file listen_port origin_port
  cat >"$1" <<EOF
foreground = yes
pid =
debug = 3
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
[mesh_in]
accept = 127.0.0.1:$2
connect = 127.0.0.1:$3
cert = $WORK/origin.crt
key = $WORK/origin.key
CAfile = $WORK/ca.pem
requireCert = yes
verifyChain = yes
EOF
}

write_stunnel_client() {  # file listen_port server_port
  cat >"$1" <<EOF
foreground = yes
pid =
debug = 3
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
[mesh_out]
client = yes
accept = 127.0.0.1:$2
connect = 127.0.0.1:$3
cert = $WORK/load.crt
key = $WORK/load.key
CAfile = $WORK/ca.pem
verifyChain = yes
EOF
}
