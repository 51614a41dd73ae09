"""Fixtures that start the real `trellis` binary on free loopback ports.

Every test talks to a real agent process over real sockets. The binary comes from $TRELLIS_BIN
(set by ctest) or build/src/bin/trellis.
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRELLIS = os.environ.get("TRELLIS_BIN", os.path.join(ROOT, "build", "src", "bin", "trellis"))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    """A running `trellis agent` process."""

    def __init__(self, extra_args=(), data_dir=None, config_files=(), node="e2e-node", env=None,
                 preexec_fn=None, dns=False, http_port=None):
        self.port = http_port or free_port()
        # dns=True serves DNS on a free port (agent.dns_port); otherwise DNS is off (-dns-port -1).
        self.dns_port = free_port() if dns else None
        self.http_addr = "127.0.0.1:%d" % self.port
        self.base = "http://" + self.http_addr
        self.trellis = TRELLIS
        self.node = node
        self.data_dir = data_dir
        args = [TRELLIS, "agent", "-node", node, "-client", "127.0.0.1", "-bind", "127.0.0.1",
                "-http-port", str(self.port),
                "-dns-port", str(self.dns_port) if dns else "-1", "-log-level", "debug"]
        if data_dir is None:
            args.append("-dev")
        else:
            args += ["-server", "-bootstrap", "-data-dir", data_dir]
        for f in config_files:
            args += ["-config-file", f]
        args += list(extra_args)
        # -dev serves xDS on 8502 like Consul; tests run in parallel, so each gets its own port.
        if "-grpc-port" not in args:
            self.grpc_port = free_port()
            args += ["-grpc-port", str(self.grpc_port)]
        else:
            self.grpc_port = int(args[args.index("-grpc-port") + 1])
        self.log = tempfile.NamedTemporaryFile(prefix="trellis-agent-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **(env or {})), preexec_fn=preexec_fn)
        self.wait_ready()

    def wait_ready(self, timeout=15):
        """Waits as Consul harnesses do: KnownLeader true and X-Consul-Index >= 2."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("agent exited with %s:\n%s" % (self.proc.returncode, self.logs()))
            try:
                with urllib.request.urlopen(self.base + "/v1/catalog/nodes", timeout=1) as r:
                    if (r.headers.get("X-Consul-KnownLeader") == "true"
                            and int(r.headers.get("X-Consul-Index", "0")) >= 2):
                        nodes = json.loads(r.read())
                        if any(n["Node"] == self.node for n in nodes):
                            return
            except Exception as e:  # noqa: BLE001 - not up yet
                last = e
            time.sleep(0.05)
        raise RuntimeError("agent not ready: %s\n%s" % (last, self.logs()))

    def logs(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-4000:]

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill9(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def agent():
    a = Agent()
    yield a
    a.stop()


@pytest.fixture
def make_agent():
    started = []

    def make(**kw):
        a = Agent(**kw)
        started.append(a)
        return a

    yield make
    for a in started:
        a.stop()
