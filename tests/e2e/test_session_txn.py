"""Sessions, locks and transactions end to end."""
import base64
import time

from rawhttp import get, put


def b64(s):
    return base64.b64encode(s).decode()


def test_session_lifecycle_and_lock(agent):
    sid = put(agent, "/v1/session/create", {"Name": "s1"}).json()["ID"]
    [s] = get(agent, "/v1/session/info/" + sid).json()
    assert s["Name"] == "s1" and s["Node"] == agent.node and s["Behavior"] == "release"
    assert s["LockDelay"] == 15000000000 and s["NodeChecks"] == ["serfHealth"]
    assert [x["ID"] for x in get(agent, "/v1/session/list").json()] == [sid]
    assert [x["ID"] for x in get(agent, "/v1/session/node/" + agent.node).json()] == [sid]
    assert put(agent, "/v1/kv/lock?acquire=" + sid, b"me").json() is True
    e = get(agent, "/v1/kv/lock").json()[0]
    assert e["Session"] == sid and e["LockIndex"] == 1
    other = put(agent, "/v1/session/create", {"LockDelay": "0s"}).json()["ID"]
    assert put(agent, "/v1/kv/lock?acquire=" + other, b"them").json() is False
    assert put(agent, "/v1/kv/lock?release=" + other).json() is False
    assert put(agent, "/v1/kv/lock?release=" + sid, b"free").json() is True
    assert "Session" not in get(agent, "/v1/kv/lock").json()[0]
    assert put(agent, "/v1/kv/lock?acquire=" + other, b"them").json() is True
    assert get(agent, "/v1/kv/lock").json()[0]["LockIndex"] == 2
    assert put(agent, "/v1/session/destroy/" + other).json() is True
    assert "Session" not in get(agent, "/v1/kv/lock").json()[0]
    assert put(agent, "/v1/session/destroy/does-not-exist").json() is True
    assert get(agent, "/v1/session/info/" + other).json() == []


def test_renew_and_bad_sessions(agent):
    sid = put(agent, "/v1/session/create", {"TTL": "30s"}).json()["ID"]
    [s] = put(agent, "/v1/session/renew/" + sid).json()
    assert s["ID"] == sid and s["TTL"] == "30s"
    r = put(agent, "/v1/session/renew/nope")
    assert r.status == 404 and r.text == "Session id 'nope' not found"
    r = put(agent, "/v1/session/create", {"TTL": "1s"})
    assert r.status == 400 and "Invalid Session TTL" in r.text
    r = put(agent, "/v1/session/create", {"Behavior": "explode"})
    assert r.status == 400
    r = put(agent, "/v1/session/create", {"Node": "no-such-node"})
    assert r.status == 400
    r = put(agent, "/v1/kv/x?acquire=not-a-session", b"")
    assert r.status == 500 and "invalid session" in r.text


def test_session_ttl_expiry_releases_lock(make_agent, tmp_path):
    cfg = tmp_path / "fast.json"
    cfg.write_text('{"session_ttl_min": "1s"}')
    a = make_agent(config_files=[str(cfg)])
    sid = put(a, "/v1/session/create", {"TTL": "1s", "LockDelay": "0s"}).json()["ID"]
    assert put(a, "/v1/kv/ttl-lock?acquire=" + sid, b"x").json() is True
    deadline = time.time() + 6
    while time.time() < deadline and get(a, "/v1/session/info/" + sid).json():
        time.sleep(0.1)
    assert get(a, "/v1/session/info/" + sid).json() == []
    assert "Session" not in get(a, "/v1/kv/ttl-lock").json()[0]


def test_lock_delay_after_invalidation(agent):
    sid = put(agent, "/v1/session/create", {"LockDelay": "2s"}).json()["ID"]
    assert put(agent, "/v1/kv/ld?acquire=" + sid, b"x").json() is True
    put(agent, "/v1/session/destroy/" + sid)
    other = put(agent, "/v1/session/create", {}).json()["ID"]
    assert put(agent, "/v1/kv/ld?acquire=" + other, b"y").json() is False
    time.sleep(2.2)
    assert put(agent, "/v1/kv/ld?acquire=" + other, b"y").json() is True


def test_session_invalidated_by_critical_check(agent):
    put(agent, "/v1/agent/check/register", {"Name": "guard", "TTL": "60s", "Status": "passing"})
    sid = put(agent, "/v1/session/create",
              {"NodeChecks": ["serfHealth", "guard"], "Behavior": "delete", "LockDelay": 0}).json()["ID"]
    assert put(agent, "/v1/kv/held?acquire=" + sid, b"x").json() is True
    put(agent, "/v1/agent/check/fail/guard")
    assert get(agent, "/v1/session/info/" + sid).json() == []
    assert get(agent, "/v1/kv/held").status == 404  # Behavior=delete removed the key


def test_txn_atomic_success_and_rollback(agent):
    ops = [{"KV": {"Verb": "set", "Key": "t/a", "Value": b64(b"1")}},
           {"KV": {"Verb": "set", "Key": "t/b", "Value": b64(b"2"), "Flags": 7}},
           {"KV": {"Verb": "get", "Key": "t/a"}}]
    r = put(agent, "/v1/txn", ops)
    assert r.status == 200, r.text
    res = r.json()
    assert res["Errors"] is None
    assert [x["KV"]["Key"] for x in res["Results"]] == ["t/a", "t/b", "t/a"]
    assert res["Results"][0]["KV"]["Value"] is None
    assert base64.b64decode(res["Results"][2]["KV"]["Value"]) == b"1"
    idx = res["Results"][0]["KV"]["ModifyIndex"]
    bad = [{"KV": {"Verb": "set", "Key": "t/c", "Value": b64(b"3")}},
           {"KV": {"Verb": "check-index", "Key": "t/a", "Index": idx + 1000}}]
    r = put(agent, "/v1/txn", bad)
    assert r.status == 409
    assert r.json()["Errors"][0]["OpIndex"] == 1
    assert get(agent, "/v1/kv/t/c").status == 404
    ro = [{"KV": {"Verb": "get-tree", "Key": "t/"}}, {"KV": {"Verb": "check-not-exists", "Key": "t/z"}}]
    r = put(agent, "/v1/txn", ro)
    assert r.status == 200 and len(r.json()["Results"]) == 2
    r = put(agent, "/v1/txn", [{"KV": {"Verb": "delete-tree", "Key": "t/"}}])
    assert r.status == 200 and r.json()["Results"] == []
    assert get(agent, "/v1/kv/t?recurse").status == 404


def test_txn_lock_verbs_and_bad_input(agent):
    sid = put(agent, "/v1/session/create", {}).json()["ID"]
    r = put(agent, "/v1/txn", [{"KV": {"Verb": "lock", "Key": "l", "Session": sid}},
                               {"KV": {"Verb": "check-session", "Key": "l", "Session": sid}}])
    assert r.status == 200, r.text
    assert r.json()["Results"][0]["KV"]["LockIndex"] == 1
    r = put(agent, "/v1/txn", [{"KV": {"Verb": "set", "Key": "x", "Value": "%%%"}}])
    assert r.status == 400
    r = put(agent, "/v1/txn", [{"KV": {"Verb": "set", "Key": "x"}}] * 129)
    assert r.status == 413
    r = put(agent, "/v1/txn", {"KV": {}})
    assert r.status == 400
    r = put(agent, "/v1/txn", [{"KV": {"Verb": "explode", "Key": "x"}}])
    assert r.status == 409
