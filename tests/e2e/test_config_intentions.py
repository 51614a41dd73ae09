"""Config entries and intentions end to end (service-intentions entries are the source of truth)."""
import threading
import time

from rawhttp import call, delete, get, put


def test_config_entry_crud_and_cas(agent):
    r = put(agent, "/v1/config", {"Kind": "service-defaults", "Name": "web", "Protocol": "http"})
    assert r.status == 200 and r.json() is True, r.text
    e = get(agent, "/v1/config/service-defaults/web").json()
    assert e["Kind"] == "service-defaults" and e["Name"] == "web" and e["Protocol"] == "http"
    idx = e["ModifyIndex"]
    assert put(agent, "/v1/config?cas=0", {"kind": "service-defaults", "name": "web"}).json() is False
    assert put(agent, "/v1/config?cas=%d" % idx,
               {"kind": "service-defaults", "name": "web", "protocol": "grpc"}).json() is True
    assert get(agent, "/v1/config/service-defaults/web").json()["Protocol"] == "grpc"
    put(agent, "/v1/config", {"Kind": "proxy-defaults", "Name": "global", "Config": {"protocol": "http"}})
    assert [x["Name"] for x in get(agent, "/v1/config/service-defaults").json()] == ["web"]
    assert get(agent, "/v1/config/service-router").json() == []
    r = delete(agent, "/v1/config/service-defaults/web")
    assert r.status == 200 and r.json() == {}
    r = get(agent, "/v1/config/service-defaults/web")
    assert r.status == 404 and r.text == 'Config entry not found for "service-defaults" / "web"'
    assert delete(agent, "/v1/config/proxy-defaults/global?cas=1").json() is False


def test_config_entry_bad_input(agent):
    r = put(agent, "/v1/config", {"Kind": "nonsense", "Name": "x"})
    assert r.status == 400 and "invalid config entry kind" in r.text
    r = put(agent, "/v1/config", {"Kind": "proxy-defaults", "Name": "other"})
    assert r.status == 400
    r = put(agent, "/v1/config", {"Kind": "service-defaults", "Name": "x", "Bogus": 1})
    assert r.status == 400 and "unknown field" in r.text
    r = put(agent, "/v1/config", b"{broken")
    assert r.status == 400 and r.text.startswith("Request decoding failed")
    assert get(agent, "/v1/config/nonsense").status == 400


def test_config_list_blocks_until_change(agent):
    idx = get(agent, "/v1/config/service-defaults").index()
    out = {}

    def waiter():
        out["r"] = get(agent, "/v1/config/service-defaults?index=%d&wait=10s" % idx)

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.2)
    put(agent, "/v1/config", {"Kind": "service-defaults", "Name": "api"})
    th.join(5)
    assert [x["Name"] for x in out["r"].json()] == ["api"]


def test_intentions_exact_check_match_and_entries(agent):
    assert put(agent, "/v1/connect/intentions/exact?source=web&destination=db",
               {"Action": "allow", "Description": "web may call db"}).json() is True
    assert put(agent, "/v1/connect/intentions/exact?source=*&destination=db",
               {"Action": "deny"}).json() is True
    i = get(agent, "/v1/connect/intentions/exact?source=web&destination=db").json()
    assert i["SourceName"] == "web" and i["DestinationName"] == "db" and i["Action"] == "allow"
    assert i["Precedence"] == 9
    assert get(agent, "/v1/connect/intentions/exact?source=x&destination=db").status == 404
    # The same state is visible as a service-intentions config entry.
    e = get(agent, "/v1/config/service-intentions/db").json()
    assert {s["Name"] for s in e["Sources"]} == {"web", "*"}
    lst = get(agent, "/v1/connect/intentions").json()
    assert [(x["SourceName"], x["Precedence"]) for x in lst] == [("web", 9), ("*", 8)]
    assert get(agent, "/v1/connect/intentions/check?source=web&destination=db").json() == {"Allowed": True}
    assert get(agent, "/v1/connect/intentions/check?source=api&destination=db").json() == {"Allowed": False}
    assert get(agent, "/v1/connect/intentions/check?source=api&destination=other").json() == {"Allowed": True}
    m = get(agent, "/v1/connect/intentions/match?by=destination&name=db").json()
    assert [x["SourceName"] for x in m["db"]] == ["web", "*"]
    assert get(agent, "/v1/connect/intentions/match?name=db").status == 400
    assert get(agent, "/v1/connect/intentions/check?source=web").status == 400
    assert delete(agent, "/v1/connect/intentions/exact?source=web&destination=db").json() is True
    assert get(agent, "/v1/connect/intentions/check?source=web&destination=db").json() == {"Allowed": False}


def test_authorize_matrix(agent):
    td = get(agent, "/v1/connect/ca/roots").json()["TrustDomain"]

    def authorize(src, dst):
        uri = "spiffe://%s/ns/default/dc/dc1/svc/%s" % (td, src)
        r = call(agent, "POST", "/v1/agent/connect/authorize",
                 body={"Target": dst, "ClientCertURI": uri, "ClientCertSerial": "01"})
        assert r.status == 200, r.text
        return r.json()

    d = authorize("web", "db")
    assert d["Authorized"] is True and d["Reason"] == "Default behavior configured by ACLs"
    put(agent, "/v1/connect/intentions/exact?source=web&destination=db", {"Action": "deny"})
    d = authorize("web", "db")
    assert d["Authorized"] is False and "Matched L4 intention" in d["Reason"]
    put(agent, "/v1/connect/intentions/exact?source=*&destination=db", {"Action": "allow"})
    assert authorize("api", "db")["Authorized"] is True
    assert authorize("web", "db")["Authorized"] is False  # exact beats wildcard
    put(agent, "/v1/connect/intentions/exact?source=api&destination=db",
        {"Permissions": [{"Action": "allow", "HTTP": {"PathPrefix": "/v1"}}]})
    d = authorize("api", "db")
    assert d["Authorized"] is False and "L7" in d["Reason"]  # L7 counts as deny here
    r = call(agent, "POST", "/v1/agent/connect/authorize", body={"Target": "db", "ClientCertURI": "nope"})
    assert r.status == 400
    foreign = "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/api"
    r = call(agent, "POST", "/v1/agent/connect/authorize", body={"Target": "db", "ClientCertURI": foreign})
    assert r.status == 200 and r.json()["Authorized"] is False and "trust domain" in r.json()["Reason"]


def test_default_deny_from_acl_policy(make_agent, tmp_path):
    cfg = tmp_path / "acl.hcl"
    cfg.write_text('acl {\n  default_policy = "deny"\n}\n')
    a = make_agent(config_files=[str(cfg)])
    assert get(a, "/v1/connect/intentions/check?source=a&destination=b").json() == {"Allowed": False}
    put(a, "/v1/connect/intentions/exact?source=a&destination=b", {"Action": "allow"})
    assert get(a, "/v1/connect/intentions/check?source=a&destination=b").json() == {"Allowed": True}


def test_legacy_id_api(agent):
    r = call(agent, "POST", "/v1/connect/intentions",
             body={"SourceName": "web", "DestinationName": "api", "Action": "allow"})
    assert r.status == 200, r.text
    iid = r.json()["ID"]
    got = get(agent, "/v1/connect/intentions/" + iid).json()
    assert got["ID"] == iid and got["Action"] == "allow"
    r = put(agent, "/v1/connect/intentions/" + iid,
            {"SourceName": "web", "DestinationName": "api", "Action": "deny"})
    assert r.status == 200, r.text
    assert get(agent, "/v1/connect/intentions/" + iid).json()["Action"] == "deny"
    r = put(agent, "/v1/connect/intentions/" + iid,
            {"SourceName": "web", "DestinationName": "billing", "Action": "deny"})
    assert r.status == 200, r.text
    assert get(agent, "/v1/connect/intentions/" + iid).json()["DestinationName"] == "billing"
    assert get(agent, "/v1/config/service-intentions/api").status == 404
    assert delete(agent, "/v1/connect/intentions/" + iid).status == 200
    assert get(agent, "/v1/connect/intentions/" + iid).status == 404
    assert delete(agent, "/v1/connect/intentions/" + iid).status == 404


def test_intention_bad_input(agent):
    r = put(agent, "/v1/connect/intentions/exact?source=web&destination=db", {"Action": "maybe"})
    assert r.status == 400
    r = put(agent, "/v1/connect/intentions/exact?source=web&destination=db",
            {"Permissions": [{"Action": "allow", "HTTP": {"PathExact": "/a", "PathPrefix": "/b"}}]})
    assert r.status == 400
    r = put(agent, "/v1/connect/intentions/exact?source=web&destination=db", {"Bogus": 1})
    assert r.status == 400


def test_check_explain_names_the_deciding_rule(agent):
    import subprocess
    r = get(agent, "/v1/connect/intentions/check?source=web&destination=db&explain").json()
    assert r["Allowed"] is True
    assert r["Explanation"]["DecidedBy"] == "default" and r["Explanation"]["DefaultPolicy"] == "allow"
    put(agent, "/v1/connect/intentions/exact?source=*&destination=db", {"Action": "deny"})
    r = get(agent, "/v1/connect/intentions/check?source=web&destination=db&explain").json()
    assert r["Allowed"] is False
    assert r["Explanation"]["DecidedBy"] == "intention" and r["Explanation"]["Precedence"] == 8
    assert r["Explanation"]["Intention"]["SourceName"] == "*"
    # Without ?explain the answer keeps Consul's shape.
    assert get(agent, "/v1/connect/intentions/check?source=web&destination=db").json() == {"Allowed": False}
    env = {"TRELLIS_HTTP_ADDR": agent.http_addr, "PATH": "/usr/bin:/bin"}
    p = subprocess.run([agent.trellis, "intention", "check", "-explain", "web", "db"],
                       capture_output=True, text=True, env=env, timeout=20)
    assert p.returncode == 1
    assert p.stdout.startswith("Denied\n")
    assert "* => db (deny)" in p.stdout and "precedence 8" in p.stdout
