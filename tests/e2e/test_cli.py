"""End-to-end tests of the `trellis` CLI against a running agent.

Needs a pytest fixture `agent` (provided by the e2e conftest) with:
  agent.http_addr  "127.0.0.1:PORT" of the agent's HTTP API
  agent.trellis    path to the trellis binary
Every subprocess is bounded by a timeout so that a hung command fails the test instead of the run.
"""

import base64
import json
import os
import signal
import subprocess
import time
import urllib.request


TIMEOUT = 30


def cli_env(agent):
    env = dict(os.environ)
    env.pop("CONSUL_HTTP_ADDR", None)
    env.pop("CONSUL_HTTP_TOKEN", None)
    env["TRELLIS_HTTP_ADDR"] = agent.http_addr
    return env


def run(agent, *args, stdin=None, timeout=TIMEOUT):
    return subprocess.run(
        [agent.trellis, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli_env(agent),
        timeout=timeout,
    )


def start(agent, *args):
    return subprocess.Popen(
        [agent.trellis, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(agent),
    )


def wait_for(predicate, timeout=TIMEOUT, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def test_kv_put_get_delete(agent):
    r = run(agent, "kv", "put", "e2e/cli/greeting", "hello world")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Success! Data written to: e2e/cli/greeting\n"

    r = run(agent, "kv", "get", "e2e/cli/greeting")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello world\n"

    r = run(agent, "kv", "get", "-detailed", "e2e/cli/greeting")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [l.split()[0] for l in lines] == [
        "CreateIndex", "Flags", "Key", "LockIndex", "ModifyIndex", "Session", "Value"]
    assert lines[2].split() == ["Key", "e2e/cli/greeting"]

    r = run(agent, "kv", "put", "e2e/cli/from-stdin", "-", stdin="piped")
    assert r.returncode == 0, r.stderr
    r = run(agent, "kv", "get", "-recurse", "e2e/cli/")
    assert r.stdout == "e2e/cli/from-stdin:piped\ne2e/cli/greeting:hello world\n"

    r = run(agent, "kv", "delete", "e2e/cli/greeting")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Success! Deleted key: e2e/cli/greeting\n"

    r = run(agent, "kv", "get", "e2e/cli/greeting")
    assert r.returncode == 1
    assert r.stderr == "Error! No key exists at: e2e/cli/greeting\n"

    r = run(agent, "kv", "delete", "-recurse", "e2e/cli/")
    assert r.stdout == "Success! Deleted keys with prefix: e2e/cli/\n"


def test_kv_cas(agent):
    run(agent, "kv", "put", "e2e/cas", "one")
    with urllib.request.urlopen(f"http://{agent.http_addr}/v1/kv/e2e/cas", timeout=TIMEOUT) as r:
        index = json.load(r)[0]["ModifyIndex"]
    r = run(agent, "kv", "put", "-cas", f"-modify-index={index + 1000}", "e2e/cas", "two")
    assert r.returncode == 1
    assert r.stderr == "Error! Did not write to e2e/cas: CAS failed\n"
    r = run(agent, "kv", "put", "-cas", f"-modify-index={index}", "e2e/cas", "two")
    assert r.returncode == 0, r.stderr
    assert run(agent, "kv", "get", "e2e/cas").stdout == "two\n"


def test_services_register_catalog_deregister(agent, tmp_path):
    definition = tmp_path / "web.json"
    definition.write_text(json.dumps(
        {"service": {"name": "e2e-web", "id": "e2e-web-1", "port": 8080, "tags": ["v1"]}}))
    r = run(agent, "services", "register", str(definition))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Registered service: e2e-web\n"

    def listed():
        out = run(agent, "catalog", "services", "-tags").stdout
        return any(l.split()[:2] == ["e2e-web", "v1"] for l in out.splitlines())
    assert wait_for(listed), run(agent, "catalog", "services", "-tags").stdout

    r = run(agent, "services", "register", "-name=e2e-api", "-port=9090", "-tag=a", "-tag=b")
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: "e2e-api" in run(agent, "catalog", "services").stdout.split())

    r = run(agent, "services", "deregister", str(definition))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Deregistered service: e2e-web-1\n"
    r = run(agent, "services", "deregister", "-id=e2e-api")
    assert r.stdout == "Deregistered service: e2e-api\n"
    assert wait_for(lambda: "e2e-web" not in run(agent, "catalog", "services").stdout.split())


def test_members(agent):
    r = run(agent, "members")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == [
        "Node", "Address", "Status", "Type", "Build", "Protocol", "DC", "Partition", "Segment"]
    assert len(lines) >= 2
    assert lines[1].split()[2] == "alive"
    r = run(agent, "members", "-status=^nonexistent$")
    assert r.returncode == 2


def test_catalog_nodes_and_datacenters(agent):
    r = run(agent, "catalog", "datacenters")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()
    r = run(agent, "catalog", "nodes")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split() == ["Node", "ID", "Address", "DC"]


def test_errors(agent):
    r = subprocess.run([agent.trellis, "kv", "get", "x"], capture_output=True, text=True,
                       env={**cli_env(agent), "TRELLIS_HTTP_ADDR": "127.0.0.1:1"},
                       timeout=TIMEOUT)
    assert r.returncode == 1
    assert r.stderr.startswith("Error connecting to Trellis agent: ")
    r = run(agent, "kv", "get", "-nope", "x")
    assert r.returncode == 1
    assert "flag provided but not defined: -nope" in r.stderr


def test_lock_excludes_second_holder(agent, tmp_path):
    log = tmp_path / "lock.log"
    first_started = tmp_path / "first.started"
    first = start(agent, "lock", "e2e/lock",
                  f"touch {first_started}; echo first-start >> {log}; sleep 3; "
                  f"echo first-end >> {log}")
    try:
        assert wait_for(first_started.exists), first.stderr
        second = start(agent, "lock", "e2e/lock", f"echo second-start >> {log}")
        try:
            assert second.wait(timeout=TIMEOUT) == 0, second.stderr.read()
        finally:
            if second.poll() is None:
                second.kill()
        assert first.wait(timeout=TIMEOUT) == 0, first.stderr.read()
    finally:
        if first.poll() is None:
            first.kill()
    # The second child ran only after the first one finished and released the lock.
    assert read(log).splitlines() == ["first-start", "first-end", "second-start"]


def test_lock_propagates_exit_code_and_timeout(agent, tmp_path):
    r = run(agent, "lock", "e2e/lock-code", "exit 7")
    assert r.returncode == 7, r.stderr
    started = tmp_path / "held"
    holder = start(agent, "lock", "e2e/lock-timeout", f"touch {started}; sleep 10")
    try:
        assert wait_for(started.exists)
        r = run(agent, "lock", "-timeout=1s", "e2e/lock-timeout", "true")
        assert r.returncode == 1
        assert "timeout during lock acquisition" in r.stderr
    finally:
        holder.send_signal(signal.SIGINT)
        try:
            holder.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            holder.kill()


def test_watch_key_runs_handler_on_change(agent, tmp_path):
    out = tmp_path / "watch.out"
    watcher = start(agent, "watch", "-type=key", "-key=e2e/watched", f"cat >> {out}")
    try:
        # The first invocation reports the current state (no key yet: null).
        assert wait_for(lambda: read(out).strip() != ""), watcher.stderr
        assert run(agent, "kv", "put", "e2e/watched", "v1").returncode == 0
        encoded = base64.b64encode(b"v1").decode()
        assert wait_for(lambda: encoded in read(out)), read(out)
        assert run(agent, "kv", "put", "e2e/watched", "v2").returncode == 0
        assert wait_for(lambda: base64.b64encode(b"v2").decode() in read(out)), read(out)
        payloads = [json.loads(l) for l in read(out).splitlines() if l.strip()]
        assert payloads[-1]["Key"] == "e2e/watched"
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=TIMEOUT) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()


def test_watch_without_handler_prints_once(agent):
    run(agent, "kv", "put", "e2e/once", "x")
    r = run(agent, "watch", "-type=key", "-key=e2e/once")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Value"] == base64.b64encode(b"x").decode()
