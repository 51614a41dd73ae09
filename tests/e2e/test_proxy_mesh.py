"""trellis-proxy end to end: real agent, real sidecar processes (`trellis connect proxy`), real
TCP services. Intentions allow and deny (new and open connections), an upstream instance turning
critical, CA rotation under a live stream, the control plane going away and coming back, and bad
clients on the public listener.
"""
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from conftest import Agent, free_port


class EchoServer:
    """TCP server: first sends '<name>\\n', then echoes every line."""

    def __init__(self, name):
        self.name = name
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(64)
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            conn.sendall((self.name + "\n").encode())
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


class Sidecar:
    def __init__(self, agent, service_id, extra=()):
        self.admin = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="trellis-proxy-", suffix=".log",
                                               delete=False)
        env = dict(os.environ, CONSUL_HTTP_ADDR=agent.http_addr)
        self.proc = subprocess.Popen(
            [agent.trellis, "connect", "proxy", "-sidecar-for", service_id,
             "-admin-bind", "127.0.0.1:%d" % self.admin, "--", "-workers", "2", "-drain", "1",
             *extra],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.admin, path)

    def wait_ready(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, self.logs()
            try:
                if requests.get(self.url("/ready"), timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise AssertionError("sidecar not ready:\n" + self.logs())

    def stats(self):
        out = {}
        for line in requests.get(self.url("/stats"), timeout=2).text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def logs(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def put(agent, path, body=None):
    r = requests.put(agent.base + path, json=body)
    assert r.status_code == 200, (path, r.status_code, r.text)


def register(agent, sid, name, port, sidecar_port, upstreams=(), ttl=False):
    side = {"Port": sidecar_port}
    if upstreams:
        side["Proxy"] = {"Upstreams": [{"DestinationName": u, "LocalBindPort": p}
                                       for u, p in upstreams]}
    if ttl:
        side["Checks"] = [{"CheckID": sid + "-side", "TTL": "600s", "Status": "passing"}]
    put(agent, "/v1/agent/service/register",
        {"ID": sid, "Name": name, "Port": port, "Connect": {"SidecarService": side}})


def talk(port, timeout=3):
    """Connects to the upstream port; returns the greeting line, or None if the mesh refused."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            f = s.makefile("rb")
            line = f.readline()
            return line.decode().strip() or None
    except OSError:
        return None


def eventually(fn, timeout=5, interval=0.05):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    return last


class Mesh:
    """web (client side) -> db (server side), each with a sidecar process."""

    def __init__(self, agent, db_instances=("db-1",), ttl=False, sidecar_args=None):
        self.agent = agent
        self.upstream = free_port()
        self.servers = []
        self.sidecars = []
        for sid in db_instances:
            srv = EchoServer(sid)
            self.servers.append(srv)
            register(agent, sid, "db", srv.port, free_port(), ttl=ttl)
        register(agent, "web", "web", 1, free_port(), upstreams=[("db", self.upstream)])
        for sid in list(db_instances) + ["web"]:
            self.sidecars.append(Sidecar(agent, sid, (sidecar_args or {}).get(sid, ())))
        for s in self.sidecars:
            s.wait_ready()
        self.web = self.sidecars[-1]

    def stop(self):
        for s in self.sidecars:
            s.stop()
        for srv in self.servers:
            srv.stop()


@pytest.fixture
def mesh_agent(make_agent):
    return make_agent()


def test_intentions_allow_and_deny_new_and_open_connections(mesh_agent):
    mesh = Mesh(mesh_agent)
    try:
        assert eventually(lambda: talk(mesh.upstream)) == "db-1"
        # An open connection, idle, that the deny must close (beyond Consul and Envoy).
        held = socket.create_connection(("127.0.0.1", mesh.upstream), timeout=5)
        assert held.makefile("rb").readline().strip() == b"db-1"
        put(mesh_agent, "/v1/connect/intentions/exact?source=web&destination=db",
            {"Action": "deny"})
        start = time.time()
        assert eventually(lambda: talk(mesh.upstream, timeout=1) is None, timeout=3)
        new_refused_after = time.time() - start
        held.settimeout(3)
        try:
            closed = held.recv(1) == b""
        except ConnectionResetError:
            closed = True
        held_closed_after = time.time() - start
        held.close()
        assert closed, "open connection survived the deny"
        assert new_refused_after < 1.5 and held_closed_after < 2.0, (new_refused_after,
                                                                     held_closed_after)
        db_side = mesh.sidecars[0].stats()
        denied = sum(v for k, v in db_side.items() if k.startswith("trellis_proxy_rbac_denied"))
        assert denied >= 1
        requests.delete(mesh_agent.base +
                        "/v1/connect/intentions/exact?source=web&destination=db")
        assert eventually(lambda: talk(mesh.upstream)) == "db-1"
    finally:
        mesh.stop()


def stat_sum(stats, prefix):
    return sum(v for k, v in stats.items() if k.startswith(prefix))


def test_sidecars_multiplex_connections_over_few_mtls_connections(mesh_agent):
    mesh = Mesh(mesh_agent)
    try:
        for _ in range(10):
            assert eventually(lambda: talk(mesh.upstream)) == "db-1"
        # A stream that stays open carries data both ways and half-closes.
        with socket.create_connection(("127.0.0.1", mesh.upstream), timeout=5) as s:
            f = s.makefile("rb")
            assert f.readline().strip() == b"db-1"
            s.sendall(b"x" * 100000 + b"\n")
            assert f.readline() == b"x" * 100000 + b"\n"
            s.shutdown(socket.SHUT_WR)
            assert f.read() == b""  # the app saw our FIN and closed
        web, db = mesh.web.stats(), mesh.sidecars[0].stats()
        sessions = stat_sum(web, "trellis_proxy_cluster_mux_sessions_total")
        assert 1 <= sessions <= 2, sessions  # one per web worker at most
        assert stat_sum(web, "trellis_proxy_cluster_mux_fallbacks_total") == 0
        assert stat_sum(db, "trellis_proxy_listener_mux_sessions_total") == sessions
        assert stat_sum(db, "trellis_proxy_listener_mux_streams_total") >= 11
        assert stat_sum(db, "trellis_proxy_rbac_allowed_total") == sessions
    finally:
        mesh.stop()


def test_sidecar_without_mux_gets_one_tls_connection_per_connection(mesh_agent):
    mesh = Mesh(mesh_agent, sidecar_args={"db-1": ("-mux=false",)})
    try:
        for _ in range(6):
            assert eventually(lambda: talk(mesh.upstream)) == "db-1"
        web, db = mesh.web.stats(), mesh.sidecars[0].stats()
        assert 1 <= stat_sum(web, "trellis_proxy_cluster_mux_fallbacks_total") <= 2
        assert stat_sum(db, "trellis_proxy_listener_mux_sessions_total") == 0
        assert stat_sum(db, "trellis_proxy_rbac_allowed_total") >= 6
    finally:
        mesh.stop()


def test_traffic_moves_off_a_critical_instance(mesh_agent):
    mesh = Mesh(mesh_agent, db_instances=("db-1", "db-2"), ttl=True)
    try:
        seen = {talk(mesh.upstream) for _ in range(12)}
        assert seen == {"db-1", "db-2"}, seen
        put(mesh_agent, "/v1/agent/check/fail/db-1-side")
        time.sleep(1.0)
        after = [talk(mesh.upstream) for _ in range(12)]
        assert set(after) == {"db-2"}, after
        put(mesh_agent, "/v1/agent/check/pass/db-1-side")
        assert eventually(lambda: "db-1" in {talk(mesh.upstream) for _ in range(6)})
    finally:
        mesh.stop()


def test_ca_rotation_keeps_a_live_stream(mesh_agent):
    mesh = Mesh(mesh_agent)
    try:
        s = socket.create_connection(("127.0.0.1", mesh.upstream), timeout=5)
        f = s.makefile("rb")
        assert f.readline().strip() == b"db-1"
        old_root = requests.get(mesh_agent.base + "/v1/connect/ca/roots").json()["ActiveRootID"]
        put(mesh_agent, "/v1/connect/ca/configuration",
            {"Provider": "consul", "Config": {"PrivateKeyType": "ec", "PrivateKeyBits": 384}})
        new_root = requests.get(mesh_agent.base + "/v1/connect/ca/roots").json()["ActiveRootID"]
        assert new_root != old_root
        # Keep streaming while the sidecars take the new leaves and roots.
        deadline = time.time() + 3
        n = 0
        while time.time() < deadline:
            msg = b"ping %d\n" % n
            s.sendall(msg)
            assert f.readline() == msg
            n += 1
            time.sleep(0.02)
        s.close()
        # New connections work on the new certificates.
        assert eventually(lambda: talk(mesh.upstream)) == "db-1"
        web_stats = mesh.web.stats()
        assert web_stats.get("trellis_proxy_xds_updates_applied_total", 0) >= 2
        # trellis-proxy gets its certificates as SDS secrets (decision 0002).
        assert any("tls.v3.Secret" in k for k in web_stats), sorted(web_stats)[:20]
    finally:
        mesh.stop()


def test_control_plane_restart_keeps_traffic(tmp_path):
    data = str(tmp_path / "data")
    http_port, grpc_port = free_port(), free_port()
    args = ("-grpc-port", str(grpc_port))
    agent = Agent(extra_args=args, data_dir=data, http_port=http_port)
    mesh = None
    try:
        mesh = Mesh(agent)
        assert eventually(lambda: talk(mesh.upstream)) == "db-1"
        s = socket.create_connection(("127.0.0.1", mesh.upstream), timeout=5)
        f = s.makefile("rb")
        assert f.readline().strip() == b"db-1"
        agent.stop()
        # Without the agent: the open stream and new connections keep working.
        s.sendall(b"still here\n")
        assert f.readline() == b"still here\n"
        assert talk(mesh.upstream) == "db-1"
        assert eventually(lambda: mesh.web.stats().get("trellis_proxy_xds_connected") == 0)
        agent = Agent(extra_args=args, data_dir=data, http_port=http_port)
        mesh.agent = agent
        assert eventually(lambda: mesh.web.stats().get("trellis_proxy_xds_connected") == 1,
                          timeout=10)
        assert mesh.web.stats()["trellis_proxy_xds_reconnects_total"] >= 1
        s.sendall(b"after\n")
        assert f.readline() == b"after\n"
        s.close()
        assert talk(mesh.upstream) == "db-1"
    finally:
        if mesh:
            mesh.stop()
        agent.stop()


def public_port(agent, proxy_id):
    return requests.get(agent.base + "/v1/agent/service/" + proxy_id).json()["Port"]


def tls_failures(sidecar):
    return {k: v for k, v in sidecar.stats().items()
            if k.startswith("trellis_proxy_listener_tls_handshake_failures_total")}


def test_bad_clients_on_the_public_listener(mesh_agent, tmp_path):
    mesh = Mesh(mesh_agent)
    try:
        port = public_port(mesh_agent, "db-1-sidecar-proxy")
        db_side = mesh.sidecars[0]
        # Plain text where a ClientHello belongs.
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(3)
            try:
                got = s.recv(100)
            except ConnectionResetError:
                got = b""
            # Closed, at most after a TLS alert record; never an answer from the app.
            assert got == b"" or got[:1] == b"\x15", got
        # TLS without a client certificate.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
                with ctx.wrap_socket(raw) as t:
                    t.sendall(b"x")
                    if t.recv(10) == b"":
                        raise ConnectionError("closed")
        # A certificate from another CA (self-signed, with a plausible SPIFFE ID).
        key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out",
                        str(crt), "-days", "1", "-subj", "/CN=evil", "-addext",
                        "subjectAltName=URI:spiffe://evil.consul/ns/default/dc/dc1/svc/web"],
                       check=True, capture_output=True)
        ctx.load_cert_chain(str(crt), str(key))
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
                with ctx.wrap_socket(raw) as t:
                    t.sendall(b"x")
                    if t.recv(10) == b"":
                        raise ConnectionError("closed")
        reasons = eventually(lambda: len(tls_failures(db_side)) >= 3 and tls_failures(db_side))
        text = " ".join(reasons)
        for reason in ("not_tls", "no_peer_certificate", "untrusted"):
            assert reason in text, reasons
        # The sidecar is still healthy and serving.
        assert db_side.proc.poll() is None
        assert talk(mesh.upstream) == "db-1"
    finally:
        mesh.stop()
