"""Proxyless gRPC through Trellis' xDS server, with an independent xDS client.

A Node gRPC client using @grpc/grpc-js-xds resolves xds:///echo from the agent's ADS port and calls
two Node gRPC servers registered in Trellis as instances of `echo`. When the instance it uses turns
critical, the client must move to the healthy one.
"""
import json
import os
import subprocess
import tempfile
import threading
import time

import requests

from conftest import free_port

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")


class EchoServer:
    def __init__(self, port, name):
        self.proc = subprocess.Popen(["node", os.path.join(NODE_DIR, "echo_server.js"), str(port),
                                      name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening"), line

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class XdsClient:
    """Runs xds_client.js and collects its JSON lines."""

    def __init__(self, grpc_port, service, max_calls, max_seconds):
        boot = {"xds_servers": [{"server_uri": "127.0.0.1:%d" % grpc_port,
                                 "channel_creds": [{"type": "insecure"}],
                                 "server_features": ["xds_v3"]}],
                "node": {"id": "proxyless-e2e-client", "cluster": "e2e", "locality": {}}}
        self.boot = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(boot, self.boot)
        self.boot.close()
        env = dict(os.environ, GRPC_XDS_BOOTSTRAP=self.boot.name)
        self.proc = subprocess.Popen(["node", os.path.join(NODE_DIR, "xds_client.js"), service,
                                      str(max_calls), str(max_seconds)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=env)
        self.lines = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.strip())

    def wait_for(self, pred, timeout):
        deadline = time.time() + timeout
        seen = 0
        while time.time() < deadline:
            with self.lock:
                new = self.lines[seen:]
                seen = len(self.lines)
            for line in new:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if pred(msg):
                    return msg
            if self.proc.poll() is not None and seen == len(self.lines):
                break
            time.sleep(0.05)
        with self.lock:
            tail = "\n".join(self.lines[-20:])
        raise AssertionError("condition not met; client output:\n" + tail)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=5)
        os.unlink(self.boot.name)


def register(agent, sid, port):
    body = {"ID": sid, "Name": "echo", "Port": port, "Address": "127.0.0.1",
            "Check": {"CheckID": sid + "-ttl", "TTL": "60s", "Status": "passing"}}
    r = requests.put(agent.base + "/v1/agent/service/register", json=body)
    assert r.status_code == 200, r.text


def set_check(agent, check_id, status):
    r = requests.put(agent.base + "/v1/agent/check/%s/%s" % (
        {"passing": "pass", "critical": "fail"}[status], check_id))
    assert r.status_code == 200, r.text


def test_grpc_js_xds_client_follows_health(make_agent):
    grpc_port = free_port()
    agent = make_agent(extra_args=("-grpc-port", str(grpc_port)))
    p1, p2 = free_port(), free_port()
    s1, s2 = EchoServer(p1, "echo-1"), EchoServer(p2, "echo-2")
    client = None
    try:
        register(agent, "echo-1", p1)
        register(agent, "echo-2", p2)
        set_check(agent, "echo-2-ttl", "critical")
        client = XdsClient(grpc_port, "echo", max_calls=600, max_seconds=60)
        first = client.wait_for(lambda m: m.get("ok"), timeout=20)
        assert first["instance"] == "echo-1"
        # echo-1 turns critical, echo-2 healthy: the client must switch without restarting.
        set_check(agent, "echo-2-ttl", "passing")
        set_check(agent, "echo-1-ttl", "critical")
        client.wait_for(lambda m: m.get("ok") and m["instance"] == "echo-2", timeout=15)
        # And it stays there while echo-1 is critical.
        time.sleep(0.5)
        with client.lock:
            start = len(client.lines)
        time.sleep(1.0)
        with client.lock:
            recent = [json.loads(line) for line in client.lines[start:] if line.startswith("{")]
        assert recent, "client stopped calling"
        assert all(m.get("ok") and m["instance"] == "echo-2" for m in recent), recent
    finally:
        if client:
            client.stop()
        s1.stop()
        s2.stop()


def test_unknown_service_fails_cleanly(make_agent):
    """A name with no instances must not hang the client forever or crash the agent."""
    grpc_port = free_port()
    agent = make_agent(extra_args=("-grpc-port", str(grpc_port)))
    client = XdsClient(grpc_port, "nosuch", max_calls=3, max_seconds=20)
    try:
        msg = client.wait_for(lambda m: not m.get("ok"), timeout=20)
        assert msg["error"]
    finally:
        client.stop()
    r = requests.get(agent.base + "/v1/agent/self")
    assert r.status_code == 200
