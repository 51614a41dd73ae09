"""KV store end to end: raw HTTP against the real agent."""
import base64
import threading
import time

from rawhttp import delete, get, put


def test_put_get_roundtrip_and_shapes(agent):
    r = put(agent, "/v1/kv/app/config?flags=42", b"hello")
    assert r.status == 200 and r.json() is True
    r = get(agent, "/v1/kv/app/config")
    assert r.status == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["X-Consul-KnownLeader"] == "true"
    assert int(r.headers["X-Consul-Index"]) >= 1
    [e] = r.json()
    assert e["Key"] == "app/config"
    assert base64.b64decode(e["Value"]) == b"hello"
    assert e["Flags"] == 42
    assert e["LockIndex"] == 0
    assert e["CreateIndex"] == e["ModifyIndex"] == r.index()


def test_missing_key_is_404_with_index(agent):
    r = get(agent, "/v1/kv/nope")
    assert r.status == 404
    assert r.body == b""
    assert int(r.headers["X-Consul-Index"]) >= 1


def test_raw_keys_separator_recurse(agent):
    for k in ["a/b", "a/c/d", "a/c/e", "b"]:
        assert put(agent, "/v1/kv/" + k, k.encode()).json() is True
    r = get(agent, "/v1/kv/a/b?raw")
    assert r.body == b"a/b"
    assert r.headers["Content-Type"] == "text/plain"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert get(agent, "/v1/kv/a/?keys").json() == ["a/b", "a/c/d", "a/c/e"]
    assert get(agent, "/v1/kv/a/?keys&separator=/").json() == ["a/b", "a/c/"]
    assert get(agent, "/v1/kv/a/?keys&seperator=/").json() == ["a/b", "a/c/"]
    assert [e["Key"] for e in get(agent, "/v1/kv/a?recurse").json()] == ["a/b", "a/c/d", "a/c/e"]
    assert get(agent, "/v1/kv/zzz/?keys").status == 404
    assert get(agent, "/v1/kv/zzz?recurse").status == 404


def test_cas_conflicts(agent):
    assert put(agent, "/v1/kv/c?cas=0", b"1").json() is True
    assert put(agent, "/v1/kv/c?cas=0", b"2").json() is False
    idx = get(agent, "/v1/kv/c").json()[0]["ModifyIndex"]
    assert put(agent, "/v1/kv/c?cas=%d" % (idx + 100), b"3").json() is False
    assert put(agent, "/v1/kv/c?cas=%d" % idx, b"4").json() is True
    assert get(agent, "/v1/kv/c?raw").body == b"4"
    idx = get(agent, "/v1/kv/c").json()[0]["ModifyIndex"]
    assert delete(agent, "/v1/kv/c?cas=1").json() is False
    assert delete(agent, "/v1/kv/c?cas=%d" % idx).json() is True
    assert get(agent, "/v1/kv/c").status == 404


def test_delete_recurse(agent):
    for k in ["t/1", "t/2", "u"]:
        put(agent, "/v1/kv/" + k, b"x")
    assert delete(agent, "/v1/kv/t?recurse").json() is True
    assert get(agent, "/v1/kv/t?recurse").status == 404
    assert get(agent, "/v1/kv/u").status == 200


def test_bad_input(agent):
    assert put(agent, "/v1/kv/", b"x").status == 400
    r = put(agent, "/v1/kv/k?cas=1&acquire=abc", b"x")
    assert r.status == 400 and r.text.startswith("Conflicting flags")
    big = b"x" * (512 * 1024 + 1)
    r = put(agent, "/v1/kv/big", big)
    assert r.status == 413
    assert put(agent, "/v1/kv/k?flags=nope", b"x").status == 400
    r = get(agent, "/v1/kv/k?index=abc")
    assert r.status == 400 and r.text == "Invalid index"
    r = get(agent, "/v1/kv/k?index=1&wait=10")
    assert r.status == 400 and r.text == "Invalid wait time"
    r = call_method(agent, "POST", "/v1/kv/k")
    assert r.status == 405 and r.headers["Allow"].startswith("OPTIONS")


def call_method(agent, method, path):
    from rawhttp import call
    return call(agent, method, path, body=b"x")


def test_blocking_query_wakes_within_50ms(agent):
    put(agent, "/v1/kv/w", b"1")
    idx = get(agent, "/v1/kv/w").index()
    result = {}

    def waiter():
        t0 = time.monotonic()
        r = get(agent, "/v1/kv/w?index=%d&wait=30s" % idx)
        result["elapsed"] = time.monotonic() - t0
        result["resp"] = r
        result["returned_at"] = time.monotonic()

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.3)
    assert "resp" not in result, "blocking query returned before the write"
    wrote_at = time.monotonic()
    put(agent, "/v1/kv/w", b"2")
    th.join(10)
    r = result["resp"]
    assert r.status == 200
    assert r.index() > idx
    assert base64.b64decode(r.json()[0]["Value"]) == b"2"
    assert result["returned_at"] - wrote_at < 0.05


def test_blocking_query_times_out_with_same_index(agent):
    put(agent, "/v1/kv/t", b"1")
    idx = get(agent, "/v1/kv/t").index()
    t0 = time.monotonic()
    r = get(agent, "/v1/kv/t?index=%d&wait=300ms" % idx)
    elapsed = time.monotonic() - t0
    assert r.status == 200
    assert r.index() == idx
    assert 0.29 <= elapsed < 1.0


def test_blocking_on_prefix_ignores_other_prefixes(agent):
    put(agent, "/v1/kv/p/a", b"1")
    idx = get(agent, "/v1/kv/p?recurse").index()
    result = {}

    def waiter():
        result["resp"] = get(agent, "/v1/kv/p?recurse&index=%d&wait=2s" % idx)

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.2)
    put(agent, "/v1/kv/q/other", b"x")
    time.sleep(0.2)
    assert "resp" not in result
    put(agent, "/v1/kv/p/b", b"2")
    th.join(5)
    assert [e["Key"] for e in result["resp"].json()] == ["p/a", "p/b"]


def test_pretty_and_dev_pretty_default(agent):
    r = get(agent, "/v1/catalog/datacenters")
    assert r.body.endswith(b"\n") and b"\n    " in r.body  # -dev pretty-prints
    assert r.json() == ["dc1"]
