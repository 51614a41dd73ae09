"""End-to-end tests of `trellis connect envoy` against a real dev agent: the agent advertises its
xDS port in /v1/agent/self, and the bootstrap printed for a registered sidecar carries what
Envoy needs to reach it. Every subprocess has a timeout."""

import json
import os
import stat
import subprocess
import urllib.request

from conftest import free_port

TIMEOUT = 30


def call(agent, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(agent.base + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
        return json.loads(raw) if raw.strip() else None


def run(agent, *args, env_extra=None):
    env = dict(os.environ)
    for name in ("CONSUL_HTTP_ADDR", "CONSUL_HTTP_TOKEN", "CONSUL_GRPC_ADDR",
                 "TRELLIS_HTTP_TOKEN", "TRELLIS_GRPC_ADDR"):
        env.pop(name, None)
    env["TRELLIS_HTTP_ADDR"] = agent.http_addr
    env.update(env_extra or {})
    return subprocess.run([agent.trellis, "connect", "envoy", *args], capture_output=True,
                          text=True, env=env, timeout=TIMEOUT)


def register_sidecar(agent, proxy_id="web-sidecar-proxy", dest_id="web", config=None):
    # PascalCase keys: the agent echoes the Proxy block back to the CLI.
    proxy = {"DestinationServiceName": "web", "DestinationServiceID": dest_id,
             "LocalServicePort": 8080}
    if config is not None:
        proxy["Config"] = config
    call(agent, "PUT", "/v1/agent/service/register",
         {"Kind": "connect-proxy", "ID": proxy_id, "Name": "web-sidecar-proxy", "Port": 21000,
          "Proxy": proxy})


def grpc_agent(make_agent):
    port = free_port()
    return make_agent(extra_args=("-grpc-port", str(port))), port


def test_agent_self_advertises_xds(make_agent):
    agent, port = grpc_agent(make_agent)
    xds = call(agent, "GET", "/v1/agent/self")["xDS"]
    assert xds["Port"] == port
    assert xds["Ports"] == {"Plaintext": port, "TLS": -1}
    versions = xds["SupportedProxies"]["envoy"]
    assert len(versions) == 4
    minors = [int(v.split(".")[1]) for v in versions]
    assert minors == sorted(minors, reverse=True)


def test_bootstrap_for_sidecar(make_agent):
    agent, port = grpc_agent(make_agent)
    call(agent, "PUT", "/v1/agent/service/register", {"Name": "web", "ID": "web", "Port": 8080})
    register_sidecar(agent, config={"envoy_stats_flush_interval": "7s"})

    r = run(agent, "-bootstrap", "-sidecar-for", "web")
    assert r.returncode == 0, r.stderr
    b = json.loads(r.stdout)
    assert b["node"]["id"] == "web-sidecar-proxy"
    assert b["node"]["cluster"] == "web"
    assert b["node"]["metadata"] == {"namespace": "default", "partition": "default"}
    assert b["admin"]["address"]["socket_address"]["port_value"] == 19000
    assert b["admin"]["access_log_path"] == "/dev/null"
    local = b["static_resources"]["clusters"][0]
    assert local["name"] == "local_agent"
    assert local["type"] == "STATIC"
    assert local["http2_protocol_options"] == {}
    sock = (local["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
            ["socket_address"])
    assert sock == {"address": "127.0.0.1", "port_value": port}
    dyn = b["dynamic_resources"]
    assert dyn["ads_config"]["api_type"] == "DELTA_GRPC"
    assert dyn["ads_config"]["transport_api_version"] == "V3"
    assert dyn["ads_config"]["grpc_services"]["envoy_grpc"]["cluster_name"] == "local_agent"
    for key in ("lds_config", "cds_config"):
        assert dyn[key] == {"ads": {}, "initial_fetch_timeout": "0s",
                            "resource_api_version": "V3"}
    assert b["stats_flush_interval"] == "7s"
    tags = {t["tag_name"]: t.get("fixed_value") for t in b["stats_config"]["stats_tags"]}
    assert tags["local_cluster"] == "web"
    assert tags["consul.source.datacenter"] == "dc1"

    # The same proxy by ID, with a token: it is sent to the agent and to xDS as metadata.
    r = run(agent, "-bootstrap", "-proxy-id", "web-sidecar-proxy", "-token", "t0ken")
    assert r.returncode == 0, r.stderr
    meta = json.loads(r.stdout)["dynamic_resources"]["ads_config"]["grpc_services"]
    assert meta["initial_metadata"] == [{"key": "x-consul-token", "value": "t0ken"}]


def test_sidecar_lookup_errors(make_agent):
    agent, _ = grpc_agent(make_agent)
    r = run(agent, "-bootstrap", "-sidecar-for", "web")
    assert r.returncode == 1
    assert r.stderr == "No sidecar proxy registered for web\n"

    register_sidecar(agent, proxy_id="web-proxy-a")
    register_sidecar(agent, proxy_id="web-proxy-b")
    r = run(agent, "-bootstrap", "-sidecar-for", "web")
    assert r.returncode == 1
    assert "More than one sidecar proxy registered for web." in r.stderr
    assert "web-proxy-a, web-proxy-b" in r.stderr


def test_execs_envoy_with_the_bootstrap(make_agent, tmp_path):
    agent, port = grpc_agent(make_agent)
    register_sidecar(agent)
    # A stand-in envoy that records its arguments and the config it was given.
    fake = tmp_path / "envoy"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$0.args"\ncp "$2" "$0.json"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    r = run(agent, "-sidecar-for", "web", "--", "--log-level", "debug",
            env_extra={"PATH": "%s:%s" % (tmp_path, os.environ.get("PATH", ""))})
    assert r.returncode == 0, r.stderr
    args = (tmp_path / "envoy.args").read_text().split("\n")
    assert args[0] == "--config-path"
    assert args[2:4] == ["--log-level", "debug"]
    b = json.loads((tmp_path / "envoy.json").read_text())
    assert b["node"]["id"] == "web-sidecar-proxy"
    os.unlink(args[1])
