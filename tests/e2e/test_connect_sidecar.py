"""Connect sidecar registration end to end: Connect.SidecarService expansion by the real agent,
read back through the agent, catalog and health endpoints (connect variants included), config
files and reload, the CLI, python-consul, and the 400s for bad definitions."""
import json
import subprocess
import time

import consul
import pytest

from conftest import TRELLIS
from rawhttp import get, put

WEB = {"Name": "web", "Port": 8080,
       "Connect": {"SidecarService": {"Proxy": {"Upstreams": [
           {"DestinationName": "api", "LocalBindPort": 9191}]}}}}
WEB_SNAKE = {"name": "web", "port": 8080,
             "connect": {"sidecar_service": {"proxy": {"upstreams": [
                 {"destination_name": "api", "local_bind_port": 9191}]}}}}


def register(agent, body, query=""):
    r = put(agent, "/v1/agent/service/register" + query, body)
    assert r.status == 200, r.text
    return r


def wait_for(fn, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    return fn()


@pytest.mark.parametrize("body", [WEB, WEB_SNAKE], ids=["pascal", "snake"])
def test_sidecar_is_expanded_with_consul_defaults(agent, body):
    register(agent, body)
    r = get(agent, "/v1/agent/service/web-sidecar-proxy")
    assert r.status == 200, r.text
    svc = r.json()
    assert svc["Kind"] == "connect-proxy"
    assert svc["ID"] == "web-sidecar-proxy" and svc["Service"] == "web-sidecar-proxy"
    assert svc["Port"] == 21000
    assert svc["Proxy"] == {
        "DestinationServiceName": "web", "DestinationServiceID": "web",
        "LocalServiceAddress": "127.0.0.1", "LocalServicePort": 8080,
        "Upstreams": [{"DestinationType": "service", "DestinationName": "api",
                       "LocalBindPort": 9191, "MeshGateway": {}}],
        "MeshGateway": {}, "Expose": {}}
    assert svc["ContentHash"] == r.headers["X-Consul-ContentHash"]
    assert "Connect" not in svc
    # The parent keeps no trace of the sidecar definition (Consul drops it after expansion).
    parent = get(agent, "/v1/agent/service/web").json()
    assert "Connect" not in parent and "Proxy" not in parent
    checks = get(agent, "/v1/agent/checks").json()
    tcp = checks["service:web-sidecar-proxy:1"]
    assert tcp["Name"] == "Connect Sidecar Listening" and tcp["Type"] == "tcp"
    assert tcp["Definition"]["TCP"] == "127.0.0.1:21000"
    assert tcp["Definition"]["Interval"] == "10s"
    alias = checks["service:web-sidecar-proxy:2"]
    assert alias["Name"] == "Connect Sidecar Aliasing web" and alias["Type"] == "alias"


def test_content_hash_changes_with_the_proxy(agent):
    register(agent, WEB)
    h1 = get(agent, "/v1/agent/service/web-sidecar-proxy").json()["ContentHash"]
    register(agent, WEB)  # same definition, same port, same hash
    assert get(agent, "/v1/agent/service/web-sidecar-proxy").json()["ContentHash"] == h1
    changed = json.loads(json.dumps(WEB))
    changed["Connect"]["SidecarService"]["Proxy"]["Upstreams"][0]["LocalBindPort"] = 9292
    register(agent, changed)
    svc = get(agent, "/v1/agent/service/web-sidecar-proxy").json()
    assert svc["ContentHash"] != h1 and svc["Port"] == 21000


def test_catalog_and_health_connect_endpoints(agent):
    register(agent, WEB)
    register(agent, {"Name": "native", "Port": 7000, "Connect": {"Native": True}})
    rows = get(agent, "/v1/catalog/connect/web").json()
    assert [r["ServiceID"] for r in rows] == ["web-sidecar-proxy"]
    row = rows[0]
    assert row["ServiceKind"] == "connect-proxy" and row["ServicePort"] == 21000
    assert row["ServiceProxy"]["DestinationServiceName"] == "web"
    assert row["ServiceProxy"]["Mode"] == ""
    assert row["ServiceProxy"]["Upstreams"][0]["Datacenter"] == ""
    assert row["ServiceConnect"] == {}
    assert get(agent, "/v1/catalog/service/web").json()[0]["ServiceConnect"] == {}
    native = get(agent, "/v1/catalog/connect/native").json()
    assert [(r["ServiceID"], r["ServiceConnect"]) for r in native] == [("native", {"Native": True})]
    assert get(agent, "/v1/agent/service/native").json()["Connect"] == {"Native": True}
    assert get(agent, "/v1/catalog/connect/nope").json() == []
    filtered = get(agent, "/v1/catalog/connect/web?filter=ServicePort%20%3D%3D%201").json()
    assert filtered == []

    entries = get(agent, "/v1/health/connect/web").json()
    assert len(entries) == 1
    e = entries[0]
    assert e["Service"]["ID"] == "web-sidecar-proxy"
    assert e["Service"]["Proxy"]["LocalServicePort"] == 8080
    ids = sorted(c["CheckID"] for c in e["Checks"])
    assert ids == ["serfHealth", "service:web-sidecar-proxy:1", "service:web-sidecar-proxy:2"]
    # Nothing listens on 21000, so the TCP check is critical and ?passing hides the proxy.
    assert get(agent, "/v1/health/connect/web?passing").json() == []
    assert get(agent, "/v1/health/connect/web?passing=bogus").status == 400
    # A typical service's Proxy renders in structs shape in health entries.
    plain = get(agent, "/v1/health/service/web").json()[0]["Service"]
    assert plain["Proxy"] == {"Mode": "", "MeshGateway": {}, "Expose": {}}


def test_health_connect_blocks_until_the_sidecar_appears(agent):
    first = get(agent, "/v1/health/connect/web")
    assert first.json() == []
    import threading
    out = {}

    def waiter():
        # As clients do: block on the last index until the answer changes (the parent's own
        # registration may wake the query first).
        index, started = first.index(), time.time()
        while time.time() - started < 10:
            r = get(agent, "/v1/health/connect/web?index=%d&wait=10s" % index)
            index = r.index()
            if r.json():
                out["r"], out["at"] = r, time.time()
                return

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.3)
    registered = time.time()
    register(agent, WEB)
    th.join(10)
    assert [e["Service"]["ID"] for e in out["r"].json()] == ["web-sidecar-proxy"]
    assert out["at"] - registered < 2


def test_ports_are_allocated_in_order_and_kept(agent):
    register(agent, WEB)
    register(agent, {"Name": "db", "Port": 5432, "Connect": {"SidecarService": {}}})
    assert get(agent, "/v1/agent/service/db-sidecar-proxy").json()["Port"] == 21001
    assert put(agent, "/v1/agent/service/deregister/web").status == 200
    register(agent, {"Name": "db", "Port": 5432, "Connect": {"SidecarService": {}}})
    assert get(agent, "/v1/agent/service/db-sidecar-proxy").json()["Port"] == 21001
    register(agent, {"Name": "cache", "Port": 6379, "Connect": {"SidecarService": {}}})
    assert get(agent, "/v1/agent/service/cache-sidecar-proxy").json()["Port"] == 21000


def test_deregistering_the_parent_removes_the_sidecar(agent):
    register(agent, WEB)
    assert "web-sidecar-proxy" in get(agent, "/v1/agent/services").json()
    assert put(agent, "/v1/agent/service/deregister/web").status == 200
    services = get(agent, "/v1/agent/services").json()
    assert "web" not in services and "web-sidecar-proxy" not in services
    assert get(agent, "/v1/agent/service/web-sidecar-proxy").status == 404
    assert get(agent, "/v1/catalog/connect/web").json() == []
    assert not any(c.startswith("service:web-sidecar-proxy")
                   for c in get(agent, "/v1/agent/checks").json())


def test_explicit_proxy_registration_and_filter(agent):
    register(agent, {"name": "web-proxy", "kind": "connect-proxy", "port": 20000,
                     "proxy": {"destination_service_name": "web", "local_service_port": 8080,
                               "config": {"protocol": "http", "bind_port": 20000}}})
    svc = get(agent, "/v1/agent/service/web-proxy").json()
    assert svc["Proxy"]["Config"] == {"bind_port": 20000, "protocol": "http"}
    r = get(agent, '/v1/agent/services?filter=Proxy.DestinationServiceName%20%3D%3D%20%22web%22')
    assert list(r.json()) == ["web-proxy"]
    assert [s["ServiceID"] for s in get(agent, "/v1/catalog/connect/web").json()] == ["web-proxy"]


@pytest.mark.parametrize("body,reason", [
    ({"Name": "p", "Kind": "connect-proxy", "Port": 1},
     "Validation failed: Proxy.DestinationServiceName must be non-empty for Connect proxy services"),
    ({"Name": "p", "Kind": "connect-proxy", "Proxy": {"DestinationServiceName": "web"}},
     "Validation failed: Port or SocketPath must be set for a connect-proxy"),
    ({"Name": "web", "Port": 1, "Proxy": {"DestinationServiceName": "x"}},
     'Validation failed: Proxy is only valid for connect-proxy and gateway services (Kind "")'),
    ({"Name": "p", "Kind": "connect-proxy", "Port": 1, "Proxy": {"DestinationServiceName": "w"},
      "Connect": {"SidecarService": {}}},
     "Validation failed: A connect-proxy cannot have a sidecar service defined"),
    ({"Name": "web", "Connect": {"SidecarService": {"ID": "mine"}}},
     "Validation failed: A SidecarService cannot specify an ID as this is managed by the agent"),
    ({"Name": "web", "Port": 1, "Connect": {"SidecarService": {"Proxy": {"Upstreams": [
        {"DestinationName": "api"}]}}}},
     "Failed Validation: upstream local bind port or local socket path must be defined and "
     "nonzero"),
    ({"Name": "web", "Port": 1, "Connect": {"SidecarService": {"Proxy": {"Upstreams": [
        {"LocalBindPort": 9}]}}}},
     "Failed Validation: upstream destination name cannot be empty"),
    ({"Name": "web", "Connect": {"SidecarService": {"Proxy": {"LocalServicePort": "x"}}}},
     "Request decode failed: json: cannot unmarshal string into Go struct field "
     "ConnectProxyConfig.LocalServicePort of type int"),
    ({"Name": "web", "Connect": {"SidecarService": {"Proxy": {"Nope": 1}}}},
     'Request decode failed: json: unknown field "Nope"'),
])
def test_bad_definitions_are_400(agent, body, reason):
    r = put(agent, "/v1/agent/service/register", body)
    assert (r.status, r.text) == (400, reason)
    assert get(agent, "/v1/agent/services").json() == {}


def test_managed_proxy_is_rejected(agent):
    r = put(agent, "/v1/agent/service/register", {"Name": "web", "Connect": {"Proxy": {}}})
    assert r.status == 400 and "Connect.Proxy" in r.text and "\n" not in r.text


def test_no_port_left_registers_nothing(make_agent, tmp_path):
    f = tmp_path / "ports.json"
    f.write_text('{"ports": {"sidecar_min_port": 21500, "sidecar_max_port": 21500}}')
    a = make_agent(config_files=[str(f)])
    register(a, {"Name": "a", "Port": 1, "Connect": {"SidecarService": {}}})
    assert get(a, "/v1/agent/service/a-sidecar-proxy").json()["Port"] == 21500
    r = put(a, "/v1/agent/service/register", {"Name": "b", "Port": 2,
                                               "Connect": {"SidecarService": {}}})
    assert r.status == 400
    assert r.text == ("Invalid SidecarService: no port provided for sidecar_service and none "
                      "left in the configured range [21500, 21500]")
    assert "b" not in get(a, "/v1/agent/services").json()


def test_config_file_sidecar_survives_reload(make_agent, tmp_path):
    f = tmp_path / "svc.json"
    f.write_text(json.dumps({"services": [
        {"name": "other", "port": 21000},
        dict(WEB_SNAKE, tags=["v1"], meta={"team": "a"})]}))
    a = make_agent(config_files=[str(f)])
    sc = wait_for(lambda: get(a, "/v1/agent/services").json().get("web-sidecar-proxy"))
    assert sc and sc["Port"] == 21001 and sc["Tags"] == ["v1"] and sc["Meta"] == {"team": "a"}
    assert sc["Proxy"]["Upstreams"][0]["DestinationName"] == "api"
    # Drop the service that held 21000: the sidecar keeps its port across the reload.
    f.write_text(json.dumps({"services": [WEB_SNAKE]}))
    assert put(a, "/v1/agent/reload").status == 200
    services = get(a, "/v1/agent/services").json()
    assert set(services) == {"web", "web-sidecar-proxy"}
    assert services["web-sidecar-proxy"]["Port"] == 21001
    # Remove the parent from the file: the sidecar goes with it.
    f.write_text('{"services": [{"name": "other", "port": 1}]}')
    assert put(a, "/v1/agent/reload").status == 200
    assert set(get(a, "/v1/agent/services").json()) == {"other"}


def test_cli_services_register_hcl_sidecar(agent, tmp_path):
    definition = tmp_path / "web.hcl"
    definition.write_text('''
service {
  name = "web"
  port = 8080
  connect {
    sidecar_service {
      proxy {
        upstreams {
          destination_name = "api"
          local_bind_port  = 9191
        }
        config {
          protocol = "http"
        }
      }
    }
  }
}
''')
    env = {"TRELLIS_HTTP_ADDR": agent.http_addr, "PATH": "/usr/bin:/bin"}
    r = subprocess.run([TRELLIS, "services", "register", str(definition)], capture_output=True,
                       text=True, env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    svc = get(agent, "/v1/agent/service/web-sidecar-proxy").json()
    assert svc["Proxy"]["Upstreams"][0]["LocalBindPort"] == 9191
    assert svc["Proxy"]["Config"] == {"protocol": "http"}
    r = subprocess.run([TRELLIS, "services", "deregister", "-id", "web"], capture_output=True,
                       text=True, env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    assert get(agent, "/v1/agent/services").json() == {}


def test_python_consul_reads_the_sidecar(agent):
    register(agent, WEB)
    c = consul.Consul(host="127.0.0.1", port=agent.port)
    services = c.agent.services()
    assert services["web-sidecar-proxy"]["Proxy"]["DestinationServiceName"] == "web"
    _, rows = c.catalog.service("web-sidecar-proxy")
    assert rows[0]["ServiceProxy"]["Upstreams"][0]["LocalBindPort"] == 9191
    _, entries = c.health.service("web-sidecar-proxy")
    assert entries[0]["Service"]["Kind"] == "connect-proxy"
    c.agent.service.deregister("web")
    assert "web-sidecar-proxy" not in c.agent.services()
