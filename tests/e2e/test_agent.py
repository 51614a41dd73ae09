"""Agent endpoints end to end: local services and checks, TTL, maintenance, health aggregation."""
import json
import time

from rawhttp import get, put


def test_self_members_version(agent):
    me = get(agent, "/v1/agent/self").json()
    assert me["Config"]["NodeName"] == agent.node
    assert me["Config"]["Datacenter"] == "dc1"
    assert me["Config"]["Server"] is True
    assert "xDS" in me and "Member" in me
    [m] = get(agent, "/v1/agent/members").json()
    assert m["Name"] == agent.node and m["Status"] == 1 and m["Tags"]["role"] == "consul"
    assert get(agent, "/v1/status/leader").json().endswith(":8300")
    assert len(get(agent, "/v1/status/peers").json()) == 1


def test_register_service_with_ttl_check(agent):
    body = {"Name": "api", "ID": "api-1", "Port": 9090, "Tags": ["a"],
            "Check": {"TTL": "30s", "Notes": "n"}}
    r = put(agent, "/v1/agent/service/register", body)
    assert r.status == 200 and r.body == b""
    svcs = get(agent, "/v1/agent/services").json()
    assert svcs["api-1"]["Service"] == "api" and svcs["api-1"]["Tags"] == ["a"]
    assert svcs["api-1"]["Meta"] == {} and svcs["api-1"]["Weights"] == {"Passing": 1, "Warning": 1}
    checks = get(agent, "/v1/agent/checks").json()
    assert checks["service:api-1"]["Status"] == "critical"
    assert checks["service:api-1"]["Type"] == "ttl"
    assert get(agent, "/v1/agent/health/service/id/api-1").status == 503
    assert put(agent, "/v1/agent/check/pass/service:api-1?note=ok").status == 200
    assert get(agent, "/v1/agent/checks").json()["service:api-1"]["Output"] == "ok"
    r = get(agent, "/v1/agent/health/service/id/api-1")
    assert r.status == 200 and r.json()["AggregatedStatus"] == "passing"
    r = get(agent, "/v1/agent/health/service/name/api?format=text")
    assert r.status == 200 and r.text == "passing"
    [e] = get(agent, "/v1/health/service/api?passing").json()
    assert e["Service"]["ID"] == "api-1"
    assert put(agent, "/v1/agent/check/warn/service:api-1").status == 200
    assert get(agent, "/v1/agent/health/service/id/api-1").status == 429
    r = put(agent, "/v1/agent/check/update/service:api-1", {"Status": "critical", "Output": "down"})
    assert r.status == 200
    assert get(agent, "/v1/health/checks/api").json()[0]["Output"] == "down"
    s = get(agent, "/v1/agent/service/api-1")
    assert s.json()["ContentHash"] == s.headers["X-Consul-ContentHash"]
    assert put(agent, "/v1/agent/service/deregister/api-1").status == 200
    assert get(agent, "/v1/agent/services").json() == {}
    assert get(agent, "/v1/catalog/service/api").json() == []
    assert get(agent, "/v1/agent/service/api-1").status == 404


def test_ttl_expiry_turns_critical(agent):
    put(agent, "/v1/agent/check/register", {"Name": "hb", "TTL": "1s", "Status": "passing"})
    assert get(agent, "/v1/agent/checks").json()["hb"]["Status"] == "passing"
    time.sleep(1.6)
    c = get(agent, "/v1/agent/checks").json()["hb"]
    assert c["Status"] == "critical" and c["Output"] == "TTL expired"


def test_http_and_tcp_checks_run(agent):
    # The agent's own HTTP API serves as the target of both checks.
    put(agent, "/v1/agent/check/register",
        {"Name": "self-http", "HTTP": agent.base + "/v1/status/leader", "Interval": "1s"})
    put(agent, "/v1/agent/check/register",
        {"Name": "self-tcp", "TCP": agent.http_addr, "Interval": "1s"})
    put(agent, "/v1/agent/check/register",
        {"Name": "bad-http", "HTTP": agent.base + "/v1/nope", "Interval": "1s"})
    deadline = time.time() + 5
    while time.time() < deadline:
        c = get(agent, "/v1/agent/checks").json()
        if (c["self-http"]["Status"] == "passing" and c["self-tcp"]["Status"] == "passing"
                and c["bad-http"]["Output"]):
            break
        time.sleep(0.1)
    assert c["self-http"]["Status"] == "passing"
    assert "200" in c["self-http"]["Output"]
    assert c["self-tcp"]["Status"] == "passing"
    assert c["bad-http"]["Status"] == "critical"


def test_script_checks_need_enabling(agent):
    r = put(agent, "/v1/agent/check/register",
            {"Name": "s", "Args": ["/bin/true"], "Interval": "1s"})
    assert r.status == 400 and "enable_script_checks" in r.text


def test_script_check_runs_when_enabled(make_agent):
    a = make_agent(extra_args=["-enable-script-checks"])
    r = put(a, "/v1/agent/check/register",
            {"Name": "s", "Args": ["/bin/sh", "-c", "echo hi; exit 1"], "Interval": "1s"})
    assert r.status == 200, r.text
    deadline = time.time() + 5
    while time.time() < deadline:
        c = get(a, "/v1/agent/checks").json()["s"]
        if c["Status"] == "warning":
            break
        time.sleep(0.1)
    assert c["Status"] == "warning" and "hi" in c["Output"]


def test_maintenance_modes(agent):
    put(agent, "/v1/agent/service/register", {"Name": "m", "Check": {"TTL": "60s", "Status": "passing"}})
    assert put(agent, "/v1/agent/service/maintenance/m").status == 400
    assert put(agent, "/v1/agent/service/maintenance/m?enable=true&reason=upgrade").status == 200
    c = get(agent, "/v1/agent/checks").json()["_service_maintenance:m"]
    assert c["Status"] == "critical" and c["Notes"] == "upgrade"
    r = get(agent, "/v1/agent/health/service/id/m")
    assert r.status == 503 and r.json()["AggregatedStatus"] == "maintenance"
    assert put(agent, "/v1/agent/service/maintenance/m?enable=false").status == 200
    assert "_service_maintenance:m" not in get(agent, "/v1/agent/checks").json()
    assert put(agent, "/v1/agent/maintenance?enable=true").status == 200
    assert "_node_maintenance" in get(agent, "/v1/agent/checks").json()
    assert put(agent, "/v1/agent/maintenance?enable=false").status == 200
    assert put(agent, "/v1/agent/service/maintenance/nosuch?enable=true").status == 404


def test_register_bad_input(agent):
    r = put(agent, "/v1/agent/service/register", {"Port": 1})
    assert r.status == 400 and r.text == "Missing service name"
    r = put(agent, "/v1/agent/service/register", {"Name": "x", "Port": "80"})
    assert r.status == 400 and "cannot unmarshal string" in r.text
    r = put(agent, "/v1/agent/service/register", {"Name": "x", "Check": {"HTTP": "http://x"}})
    assert r.status == 400 and r.text.startswith("Invalid check")
    r = put(agent, "/v1/agent/service/register", b"[1,2")
    assert r.status == 400
    assert put(agent, "/v1/agent/check/pass/nosuch").status == 404
    assert put(agent, "/v1/agent/service/deregister/nosuch").status == 404
    r = put(agent, "/v1/agent/check/update/x", {"Status": "bogus"})
    assert r.status == 400


def test_replace_existing_checks(agent):
    put(agent, "/v1/agent/service/register",
        {"Name": "r", "Checks": [{"TTL": "60s"}, {"TTL": "60s"}]})
    assert {"service:r:1", "service:r:2"} <= set(get(agent, "/v1/agent/checks").json())
    put(agent, "/v1/agent/service/register?replace-existing-checks",
        {"Name": "r", "Checks": [{"CheckID": "only", "TTL": "60s"}]})
    ids = {k for k, v in get(agent, "/v1/agent/checks").json().items() if v["ServiceID"] == "r"}
    assert ids == {"only"}


def test_snake_case_registration(agent):
    r = put(agent, "/v1/agent/service/register",
            {"name": "snake", "port": 1, "enable_tag_override": True,
             "tagged_addresses": {"lan": {"address": "10.0.0.1", "port": 5}},
             "check": {"ttl": "10s", "deregister_critical_service_after": "90m"}})
    assert r.status == 200, r.text
    s = get(agent, "/v1/agent/services").json()["snake"]
    assert s["EnableTagOverride"] is True
    assert s["TaggedAddresses"]["lan"] == {"Address": "10.0.0.1", "Port": 5}


def test_event_fire_and_list(agent):
    r = put(agent, "/v1/event/fire/deploy?service=web", b"v2")
    assert r.status == 200
    ev = r.json()
    assert ev["Name"] == "deploy" and ev["ServiceFilter"] == "web"
    lst = get(agent, "/v1/event/list?name=deploy")
    assert [e["ID"] for e in lst.json()] == [ev["ID"]]
    assert int(lst.headers["X-Consul-Index"]) > 1
