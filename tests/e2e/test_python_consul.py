"""The python-consul client library (Debian's python3-consul), unchanged, against Trellis."""
import threading
import time

import consul


def client(agent):
    return consul.Consul(host="127.0.0.1", port=agent.port)


def test_kv_with_client(agent):
    c = client(agent)
    assert c.kv.put("cfg/db", "postgres://x") is True
    index, data = c.kv.get("cfg/db")
    assert data["Value"] == b"postgres://x"
    assert c.kv.put("cfg/db", "new", cas=data["ModifyIndex"]) is True
    assert c.kv.put("cfg/db", "stale", cas=data["ModifyIndex"]) is False
    index, missing = c.kv.get("cfg/none")
    assert missing is None
    index, keys = c.kv.get("cfg/", keys=True)
    assert keys == ["cfg/db"]
    assert c.kv.delete("cfg", recurse=True) is True
    assert c.kv.get("cfg/db")[1] is None


def test_blocking_get_with_client(agent):
    c = client(agent)
    c.kv.put("watch/me", "1")
    index, _ = c.kv.get("watch/me")
    out = {}

    def waiter():
        out["r"] = c.kv.get("watch/me", index=index, wait="10s")

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.2)
    c.kv.put("watch/me", "2")
    th.join(5)
    new_index, data = out["r"]
    assert int(new_index) > int(index)
    assert data["Value"] == b"2"


def test_services_and_health_with_client(agent):
    c = client(agent)
    assert c.agent.service.register("redis", service_id="redis-1", port=6379, tags=["primary"],
                                    check=consul.Check.ttl("30s")) is True
    assert "redis-1" in c.agent.services()
    assert c.agent.check.ttl_pass("service:redis-1", notes="fine") is True
    index, nodes = c.health.service("redis", passing=True)
    assert [n["Service"]["ID"] for n in nodes] == ["redis-1"]
    index, services = c.catalog.services()
    assert services["redis"] == ["primary"]
    index, nodes = c.catalog.nodes()
    assert agent.node in [n["Node"] for n in nodes]
    assert c.agent.service.deregister("redis-1") is True
    assert c.health.service("redis")[1] == []


def test_sessions_and_locks_with_client(agent):
    c = client(agent)
    sid = c.session.create(name="leader-election", lock_delay=0, ttl=10)
    assert c.kv.put("service/leader", "me", acquire=sid) is True
    other = c.session.create(lock_delay=0)
    assert c.kv.put("service/leader", "you", acquire=other) is False
    index, data = c.kv.get("service/leader")
    assert data["Session"] == sid
    c.session.renew(sid)
    assert c.session.destroy(sid) is True
    index, data = c.kv.get("service/leader")
    assert "Session" not in data
    index, sessions = c.session.list()
    assert [s["ID"] for s in sessions] == [other]


def test_status_and_agent_self_with_client(agent):
    c = client(agent)
    assert c.status.leader().endswith(":8300")
    assert c.agent.self()["Config"]["NodeName"] == agent.node
