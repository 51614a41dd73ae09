"""Catalog and health endpoints end to end."""
import threading
import time

from rawhttp import call, get, put


def register_web(agent, node="ext1", status="passing"):
    body = {
        "Node": node, "Address": "10.1.2.3", "NodeMeta": {"rack": "r1"},
        "Service": {"ID": "web1", "Service": "web", "Tags": ["v1", "blue"], "Port": 8080,
                    "Meta": {"env": "prod"}},
        "Checks": [{"CheckID": "web-alive", "Name": "web alive", "Status": status,
                    "ServiceID": "web1"}],
    }
    r = put(agent, "/v1/catalog/register", body)
    assert r.status == 200, r.text
    assert r.json() is True


def test_agent_node_is_ready_with_serf_health(agent):
    r = get(agent, "/v1/catalog/nodes")
    assert r.headers["X-Consul-KnownLeader"] == "true"
    assert r.index() >= 2
    nodes = r.json()
    assert [n["Node"] for n in nodes] == [agent.node]
    n = nodes[0]
    assert n["Address"] == "127.0.0.1" and n["Datacenter"] == "dc1"
    assert n["TaggedAddresses"]["lan"] == "127.0.0.1"
    assert n["Meta"] == {"consul-network-segment": ""}
    [serf] = get(agent, "/v1/health/node/" + agent.node).json()
    assert serf["CheckID"] == "serfHealth" and serf["Status"] == "passing"
    assert serf["Name"] == "Serf Health Status"
    # Like Consul, a server lists itself as the "consul" service (RPC port), not as a local service.
    assert get(agent, "/v1/catalog/services").json() == {"consul": []}
    [c] = get(agent, "/v1/catalog/service/consul").json()
    assert c["ServicePort"] == 8300 and c["Node"] == agent.node
    assert "consul" not in get(agent, "/v1/agent/services").json()


def test_register_and_read_back(agent):
    register_web(agent)
    svcs = get(agent, "/v1/catalog/services").json()
    assert svcs["web"] == ["blue", "v1"]
    [cs] = get(agent, "/v1/catalog/service/web").json()
    assert cs["ServiceID"] == "web1" and cs["ServicePort"] == 8080
    assert cs["Node"] == "ext1" and cs["Address"] == "10.1.2.3"
    assert cs["NodeMeta"] == {"rack": "r1"} and cs["ServiceMeta"] == {"env": "prod"}
    # structs.ConnectProxyConfig: Mode, MeshGateway and Expose are never omitted.
    assert cs["ServiceProxy"] == {"Mode": "", "MeshGateway": {}, "Expose": {}}
    assert cs["ServiceConnect"] == {}
    assert get(agent, "/v1/catalog/service/web?tag=v1&tag=blue").json() != []
    assert get(agent, "/v1/catalog/service/web?tag=v2").json() == []
    assert get(agent, "/v1/catalog/service/web?node-meta=rack:r1").json() != []
    assert get(agent, "/v1/catalog/service/web?node-meta=rack:r2").json() == []
    assert get(agent, "/v1/catalog/service/nothing").json() == []
    node = get(agent, "/v1/catalog/node/ext1").json()
    assert node["Node"]["Node"] == "ext1" and "web1" in node["Services"]
    ns = get(agent, "/v1/catalog/node-services/ext1").json()
    assert [s["ID"] for s in ns["Services"]] == ["web1"]
    assert get(agent, "/v1/catalog/node/missing").json() is None
    [entry] = get(agent, "/v1/health/service/web").json()
    assert entry["Service"]["ID"] == "web1"
    assert [c["CheckID"] for c in entry["Checks"]] == ["web-alive"]
    [chk] = get(agent, "/v1/health/checks/web").json()
    assert chk["ServiceName"] == "web" and chk["ServiceTags"] == ["v1", "blue"]
    assert get(agent, "/v1/catalog/datacenters").json() == ["dc1"]


def test_passing_filter_and_states(agent):
    register_web(agent, node="ext1", status="passing")
    register_web(agent, node="ext2", status="warning")
    all_entries = get(agent, "/v1/health/service/web").json()
    assert len(all_entries) == 2
    passing = get(agent, "/v1/health/service/web?passing").json()
    assert [e["Node"]["Node"] for e in passing] == ["ext1"]
    assert len(get(agent, "/v1/health/service/web?passing=false").json()) == 2
    assert get(agent, "/v1/health/service/web?passing=maybe").status == 400
    warning = get(agent, "/v1/health/state/warning").json()
    assert [c["Node"] for c in warning] == ["ext2"]
    assert get(agent, "/v1/health/state/bogus").status == 400
    anyst = get(agent, "/v1/health/state/any").json()
    assert len(anyst) >= 3


def test_filter_expressions(agent):
    register_web(agent, node="ext1")
    r = get(agent, '/v1/catalog/service/web?filter=' +
            'ServiceMeta.env%20%3D%3D%20prod%20and%20%22v1%22%20in%20ServiceTags')
    assert len(r.json()) == 1
    r = get(agent, '/v1/catalog/service/web?filter=ServiceMeta.env%20%3D%3D%20dev')
    assert r.json() == []
    r = get(agent, '/v1/health/state/any?filter=Status%20!%3D%20passing')
    assert all(c["Status"] != "passing" for c in r.json())
    r = get(agent, '/v1/catalog/nodes?filter=Node%20matches%20%22^ext%22')
    assert [n["Node"] for n in r.json()] == ["ext1"]
    r = get(agent, '/v1/catalog/nodes?filter=Node%20%3D%3D')
    assert r.status == 400


def test_deregister_service_check_node(agent):
    register_web(agent)
    assert put(agent, "/v1/catalog/deregister", {"Node": "ext1", "CheckID": "web-alive"}).json()
    assert get(agent, "/v1/health/checks/web").json() == []
    assert put(agent, "/v1/catalog/deregister", {"Node": "ext1", "ServiceID": "web1"}).json()
    assert get(agent, "/v1/catalog/service/web").json() == []
    assert put(agent, "/v1/catalog/deregister", {"Node": "ext1"}).json()
    assert [n["Node"] for n in get(agent, "/v1/catalog/nodes").json()] == [agent.node]


def test_catalog_bad_input(agent):
    r = put(agent, "/v1/catalog/register", {"Address": "1.2.3.4"})
    assert r.status == 400 and r.text == "Must provide node"
    r = put(agent, "/v1/catalog/register", {"Node": "x", "Address": "1.2.3.4", "Bogus": 1})
    assert r.status == 400 and 'unknown field "Bogus"' in r.text
    r = put(agent, "/v1/catalog/register", b"{not json")
    assert r.status == 400 and r.text.startswith("Request decode failed")
    r = put(agent, "/v1/catalog/register", {"Node": "x", "Address": "1.2.3.4",
                                            "Check": {"CheckID": "c", "ServiceID": "nosuch"}})
    assert r.status == 400
    r = get(agent, "/v1/nope")
    assert r.status == 404 and r.text == "Invalid URL path: not a recognized HTTP API endpoint\n"
    r = get(agent, "/nope")
    assert r.status == 404 and "ensure the path starts with '/v1/'" in r.text
    r = call(agent, "OPTIONS", "/v1/catalog/register")
    assert r.status == 200 and r.headers["Allow"] == "OPTIONS,PUT"
    r = get(agent, "/v1/catalog/register")
    assert r.status == 405 and r.text == "method GET not allowed"
    assert r.headers["X-Consul-Default-ACL-Policy"] == "allow"


def test_health_blocking_wakes_on_check_change(agent):
    register_web(agent, status="passing")
    idx = get(agent, "/v1/health/service/web").index()
    out = {}

    def waiter():
        out["r"] = get(agent, "/v1/health/service/web?passing&index=%d&wait=20s" % idx)

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.2)
    register_web(agent, status="critical")
    th.join(5)
    assert out["r"].index() > idx
    assert out["r"].json() == []
