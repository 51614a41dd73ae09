"""Process-level behaviour: durable restarts, kill -9 during writes, signals, many parked queries."""
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time

from conftest import TRELLIS, Agent
from rawhttp import get, put


def test_kill9_during_write_burst_loses_no_acknowledged_write(tmp_path):
    data_dir = str(tmp_path / "data")
    a = Agent(data_dir=data_dir)
    acked = []
    stop = threading.Event()

    def writer(worker):
        conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5)
        i = 0
        while not stop.is_set() and i < 5000:
            key = "burst/%d/%d" % (worker, i)
            try:
                conn.request("PUT", "/v1/kv/" + key, body=key.encode())
                r = conn.getresponse()
                body = r.read()
            except Exception:  # noqa: BLE001 - the agent was killed mid-request
                return
            if r.status == 200 and body == b"true":
                acked.append(key)
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    a.kill9()
    stop.set()
    for t in threads:
        t.join(10)
    assert len(acked) > 50, "too few writes were acknowledged to make the test meaningful"

    b = Agent(data_dir=data_dir)
    try:
        keys = set(get(b, "/v1/kv/burst/?keys").json())
        missing = [k for k in acked if k not in keys]
        assert not missing, "acknowledged writes lost: %s" % missing[:5]
        for k in acked[:: max(1, len(acked) // 50)]:
            assert get(b, "/v1/kv/" + k + "?raw").body == k.encode()
    finally:
        b.stop()


def test_durable_restart_keeps_services_and_node_id(tmp_path):
    data_dir = str(tmp_path / "d")
    a = Agent(data_dir=data_dir)
    put(a, "/v1/agent/service/register", {"Name": "keep", "Port": 1, "Check": {"TTL": "60s"}})
    put(a, "/v1/kv/persist", b"yes")
    node_id = get(a, "/v1/agent/self").json()["Config"]["NodeID"]
    root_id = get(a, "/v1/connect/ca/roots").json()["ActiveRootID"]
    put(a, "/v1/connect/intentions/exact?source=web&destination=db", {"Action": "deny"})
    assert a.stop() == 0
    b = Agent(data_dir=data_dir)
    try:
        assert get(b, "/v1/kv/persist?raw").body == b"yes"
        assert "keep" in get(b, "/v1/agent/services").json()
        assert "service:keep" in get(b, "/v1/agent/checks").json()
        assert get(b, "/v1/agent/self").json()["Config"]["NodeID"] == node_id
        # The CA keeps its root (and key) across restarts; intentions persist too.
        assert get(b, "/v1/connect/ca/roots").json()["ActiveRootID"] == root_id
        assert get(b, "/v1/agent/connect/ca/leaf/web").status == 200
        assert get(b, "/v1/connect/intentions/check?source=web&destination=db").json() == {"Allowed": False}
    finally:
        b.stop()


def test_sigint_and_sigterm_exit_zero_quickly():
    for sig in (signal.SIGINT, signal.SIGTERM):
        a = Agent()
        t0 = time.monotonic()
        assert a.stop(sig=sig) == 0
        assert time.monotonic() - t0 < 5


def test_thousand_parked_blocking_queries(agent):
    put(agent, "/v1/kv/fan", b"0")
    idx = get(agent, "/v1/kv/fan").index()
    n = 1000
    socks = []
    req = ("GET /v1/kv/fan?index=%d&wait=60s HTTP/1.1\r\nHost: x\r\n\r\n" % idx).encode()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", agent.port))
        s.sendall(req)
        socks.append(s)
    time.sleep(1.0)
    # Nobody may have answered yet.
    for s in socks[:50]:
        s.setblocking(False)
        try:
            assert s.recv(1) == b"", "a parked query answered before the write"
        except BlockingIOError:
            pass
        s.setblocking(True)
    t0 = time.monotonic()
    put(agent, "/v1/kv/fan", b"1")
    answered = 0
    for s in socks:
        s.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        if data.startswith(b"HTTP/1.1 200"):
            answered += 1
        s.close()
    elapsed = time.monotonic() - t0
    assert answered == n
    assert elapsed < 5


def test_departed_client_releases_parked_query(agent):
    put(agent, "/v1/kv/gone", b"0")
    idx = get(agent, "/v1/kv/gone").index()
    s = socket.create_connection(("127.0.0.1", agent.port))
    s.sendall(("GET /v1/kv/gone?index=%d&wait=60s HTTP/1.1\r\nHost: x\r\n\r\n" % idx).encode())
    time.sleep(0.2)
    s.close()
    time.sleep(0.3)
    # The agent stays healthy and serves the next request.
    assert get(agent, "/v1/kv/gone").status == 200


def test_version_command():
    out = subprocess.run([TRELLIS, "version", "-format=json"], capture_output=True, text=True)
    assert out.returncode == 0
    v = json.loads(out.stdout)
    assert v["Version"].startswith("1.")
    out = subprocess.run([TRELLIS, "version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("Trellis v")


def test_agent_leave_endpoint_exits_cleanly(tmp_path):
    a = Agent(data_dir=str(tmp_path / "leave"))
    r = put(a, "/v1/agent/leave")
    assert r.status == 200
    assert a.proc.wait(timeout=5) == 0
    # A durable, non-dev agent answers compactly unless ?pretty is given.
    b = Agent(data_dir=str(tmp_path / "leave"))
    try:
        assert b"\n" not in get(b, "/v1/catalog/datacenters").body
        assert get(b, "/v1/catalog/datacenters?pretty").body.endswith(b"\n")
        # After leaving, the node's serfHealth is back to passing once the agent returns.
        [serf] = [c for c in get(b, "/v1/health/node/" + b.node).json() if c["CheckID"] == "serfHealth"]
        assert serf["Status"] == "passing"
    finally:
        b.stop()


def test_descriptor_exhaustion_neither_spins_nor_wedges():
    import resource

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    a = Agent(preexec_fn=low_limit)
    try:
        socks = []
        for _ in range(120):
            try:
                socks.append(socket.create_connection(("127.0.0.1", a.port), timeout=2))
            except OSError:
                break

        def cpu_seconds():
            with open("/proc/%d/stat" % a.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        before = cpu_seconds()
        time.sleep(1.0)
        assert cpu_seconds() - before < 0.5, "the agent spins while out of descriptors"
        for s in socks:
            s.close()
        time.sleep(0.2)
        assert get(a, "/v1/status/leader").status == 200
    finally:
        a.stop()
