"""Agent configuration end to end: files, flags, warnings and errors as a user sees them."""
import subprocess

from conftest import TRELLIS, Agent, free_port
from rawhttp import get


def run_agent_expecting_failure(args, timeout=10):
    p = subprocess.run([TRELLIS, "agent"] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def test_unknown_key_names_file_line_and_key(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('{\n  "datacenter": "dc1",\n  "no_such_key": true\n}\n')
    code, out = run_agent_expecting_failure(["-dev", "-config-file", str(f)])
    assert code != 0
    assert str(f) in out and ":3" in out and "no_such_key" in out


def test_bad_value_is_an_error(tmp_path):
    f = tmp_path / "bad.hcl"
    f.write_text('ports {\n  http = "eighty"\n}\n')
    code, out = run_agent_expecting_failure(["-dev", "-config-file", str(f)])
    assert code != 0 and "ports.http" in out and ":2" in out


def test_malformed_hcl_is_an_error(tmp_path):
    f = tmp_path / "broken.hcl"
    f.write_text('datacenter = "dc1"\nservice {\n  name = \n')
    code, out = run_agent_expecting_failure(["-dev", "-config-file", str(f)])
    assert code != 0 and str(f) in out


def test_unknown_flag_is_an_error():
    code, out = run_agent_expecting_failure(["-dev", "-no-such-flag"])
    assert code != 0 and "no-such-flag" in out


def test_consul_harness_config_starts_with_warnings(make_agent, tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("")
    harness = tmp_path / "harness.hcl"
    harness.write_text(
        'datacenter = "dc1"\n'
        'disable_update_check = true\n'
        'performance {\n  raft_multiplier = 1\n}\n'
        'connect {\n  enabled = true\n}\n'
        'ports {\n  grpc = 8502\n}\n'
        'node_meta {\n  rack = "r7"\n}\n'
        'service {\n  name = "from-file"\n  port = 7000\n  tags = ["cfg"]\n'
        '  check {\n    ttl = "30s"\n  }\n}\n')
    later = tmp_path / "later.json"
    later.write_text('{"datacenter": "dc1", "services": [{"name": "second", "port": 7001}]}')
    a = make_agent(config_files=[str(empty), str(harness), str(later)])
    svcs = get(a, "/v1/agent/services").json()
    assert svcs["from-file"]["Tags"] == ["cfg"] and "second" in svcs
    assert "service:from-file" in get(a, "/v1/agent/checks").json()
    assert "disable_update_check" in a.logs() or "raft_multiplier" in a.logs()


def test_flag_styles(make_agent):
    port = free_port()
    a = Agent(extra_args=["--datacenter=dc7"])
    try:
        assert get(a, "/v1/catalog/datacenters").json() == ["dc7"]
    finally:
        a.stop()


def test_reload_reconciles_config_services(make_agent, tmp_path):
    import signal
    import time
    f = tmp_path / "svc.json"
    f.write_text('{"services": [{"name": "alpha", "port": 1}]}')
    a = make_agent(config_files=[str(f)])
    from rawhttp import put
    put(a, "/v1/agent/service/register", {"Name": "api-made", "Port": 3})
    assert "alpha" in get(a, "/v1/agent/services").json()
    f.write_text('{"services": [{"name": "beta", "port": 2}]}')
    r = put(a, "/v1/agent/reload")
    assert r.status == 200, r.text
    svcs = get(a, "/v1/agent/services").json()
    assert "beta" in svcs and "alpha" not in svcs and "api-made" in svcs
    f.write_text('{"services": [{"name": "gamma", "port": 2}]}')
    a.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while time.time() < deadline and "gamma" not in get(a, "/v1/agent/services").json():
        time.sleep(0.05)
    assert set(get(a, "/v1/agent/services").json()) == {"gamma", "api-made"}
    f.write_text('{"bogus_key": 1}')
    assert put(a, "/v1/agent/reload").status == 500
