"""Sidecar xDS end to end: the real agent's ADS server, read by xds_probe (an independent ADS
client built on gRPC's callback API that prints every response with its resources decoded).

Checks Consul's resource names, the mTLS settings, endpoints following health, RBAC following
intentions, and the state-of-the-world variant.
"""
import json
import os
import subprocess
import threading
import time

import requests

from conftest import ROOT

PROBE = os.environ.get("XDS_PROBE", os.path.join(ROOT, "build", "src", "xds", "tools", "xds_probe"))
CLA = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
LDS = "type.googleapis.com/envoy.config.listener.v3.Listener"
CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster"


class Probe:
    def __init__(self, agent, node, sotw=False, timeout=30):
        args = [PROBE, "--addr", "127.0.0.1:%d" % agent.grpc_port, "--node", node,
                "--timeout", str(timeout), "--responses", "200"]
        if sotw:
            args.append("--sotw")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.msgs = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.msgs.append(json.loads(line))

    def latest(self, type_url):
        """name -> resource, folding every response of a type seen so far (delta semantics)."""
        out = {}
        with self.lock:
            for m in self.msgs:
                if m.get("type") != type_url:
                    continue
                if "version_info" in m:  # state of the world: each response is complete
                    out = {}
                for r in m["resources"]:
                    res = r["resource"]
                    name = r.get("name") or res.get("name") or res.get("cluster_name")
                    out[name] = res
                for name in m.get("removed", []):
                    out.pop(name, None)
        return out

    def wait(self, pred, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = pred(self)
            if got:
                return got
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        with self.lock:
            tail = json.dumps(self.msgs[-5:])[:3000]
        raise AssertionError("condition not met; last responses: " + tail)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=5)


def put(agent, path, body=None):
    r = requests.put(agent.base + path, json=body)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r


def trust_domain(agent):
    return requests.get(agent.base + "/v1/connect/ca/roots").json()["TrustDomain"]


def register_pair(agent):
    # db's sidecar carries a TTL check so the test can flip its health at will.
    put(agent, "/v1/agent/service/register", {
        "Name": "db", "Port": 5432,
        "Connect": {"SidecarService": {"Checks": [{"CheckID": "db-side", "TTL": "60s"}]}}})
    put(agent, "/v1/agent/service/register", {
        "Name": "web", "Port": 8080,
        "Connect": {"SidecarService": {"Proxy": {
            "Upstreams": [{"DestinationName": "db", "LocalBindPort": 9191}]}}}})
    web_port = requests.get(agent.base + "/v1/agent/service/web-sidecar-proxy").json()["Port"]
    db_port = requests.get(agent.base + "/v1/agent/service/db-sidecar-proxy").json()["Port"]
    return web_port, db_port


def filters(listener):
    return {f["name"]: f["typed_config"] for f in listener["filter_chains"][0]["filters"]}


def test_sidecar_resources_use_consul_names_and_mtls(agent):
    web_port, db_port = register_pair(agent)
    td = trust_domain(agent)
    db_cluster = "db.default.dc1.internal." + td
    probe = Probe(agent, "web-sidecar-proxy")
    try:
        listeners = probe.wait(lambda p: len(p.latest(LDS)) == 2 and p.latest(LDS))
        public = listeners["public_listener:0.0.0.0:%d" % web_port]
        upstream = listeners["db:127.0.0.1:9191"]
        assert public["traffic_direction"] == "INBOUND"
        assert upstream["traffic_direction"] == "OUTBOUND"
        chain = public["filter_chains"][0]
        tls = chain["transport_socket"]["typed_config"]
        assert tls["require_client_certificate"] is True
        leaf = requests.get(agent.base + "/v1/agent/connect/ca/leaf/web").json()
        presented = tls["common_tls_context"]["tls_certificates"][0]
        assert presented["certificate_chain"]["inline_string"].strip() == leaf["CertPEM"].strip()
        roots = requests.get(agent.base + "/v1/connect/ca/roots").json()["Roots"]
        trusted = tls["common_tls_context"]["validation_context"]["trusted_ca"]["inline_string"]
        assert roots[0]["RootCert"].strip() in trusted
        assert filters(public)["envoy.filters.network.tcp_proxy"]["cluster"] == "local_app"
        assert filters(upstream)["envoy.filters.network.tcp_proxy"]["cluster"] == db_cluster

        clusters = probe.wait(lambda p: len(p.latest(CDS)) == 2 and p.latest(CDS))
        assert set(clusters) == {"local_app", db_cluster}
        db = clusters[db_cluster]
        assert db["type"] == "EDS"
        utls = db["transport_socket"]["typed_config"]
        assert utls["sni"] == db_cluster
        sans = json.dumps(utls["common_tls_context"]["validation_context"])
        assert "spiffe://%s/ns/default/dc/dc1/svc/db" % td in sans
        local = clusters["local_app"]
        addr = local["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
        assert addr["socket_address"]["port_value"] == 8080

        cla = probe.wait(lambda p: p.latest(CLA).get(db_cluster))
        lb = cla["endpoints"][0]["lb_endpoints"]
        assert [e["endpoint"]["address"]["socket_address"]["port_value"] for e in lb] == [db_port]
    finally:
        probe.stop()


def endpoint_health(probe, cluster):
    cla = probe.latest(CLA).get(cluster)
    if not cla or not cla.get("endpoints"):
        return None
    return cla["endpoints"][0]["lb_endpoints"][0].get("health_status", "UNKNOWN")


def test_endpoints_follow_health_within_a_second(agent):
    register_pair(agent)
    db_cluster = "db.default.dc1.internal." + trust_domain(agent)
    probe = Probe(agent, "web-sidecar-proxy")
    try:
        # A TTL check starts critical: Consul's rule makes the instance UNHEALTHY.
        probe.wait(lambda p: endpoint_health(p, db_cluster) == "UNHEALTHY")
        put(agent, "/v1/agent/check/pass/db-side")
        start = time.time()
        probe.wait(lambda p: endpoint_health(p, db_cluster) == "HEALTHY", timeout=5)
        assert time.time() - start < 1.0
        put(agent, "/v1/agent/check/fail/db-side")
        probe.wait(lambda p: endpoint_health(p, db_cluster) == "UNHEALTHY", timeout=5)
        # Maintenance mode on the proxy counts as critical too.
        put(agent, "/v1/agent/check/pass/db-side")
        probe.wait(lambda p: endpoint_health(p, db_cluster) == "HEALTHY", timeout=5)
        put(agent, "/v1/agent/service/maintenance/db-sidecar-proxy?enable=true")
        probe.wait(lambda p: endpoint_health(p, db_cluster) == "UNHEALTHY", timeout=5)
    finally:
        probe.stop()


def rbac_of(probe, port):
    lst = probe.latest(LDS).get("public_listener:0.0.0.0:%d" % port)
    if not lst:
        return None
    return filters(lst).get("envoy.filters.network.rbac")


def test_rbac_follows_intentions(agent):
    _, db_port = register_pair(agent)
    td = trust_domain(agent)
    probe = Probe(agent, "db-sidecar-proxy")
    try:
        # Default allow, no intentions: a DENY policy list with nothing in it.
        first = probe.wait(lambda p: rbac_of(p, db_port))
        assert first["rules"]["action"] in ("DENY", None) or "policies" not in first["rules"]
        put(agent, "/v1/connect/intentions/exact?source=web&destination=db", {"Action": "deny"})
        rbac = probe.wait(lambda p: (r := rbac_of(p, db_port)) and r["rules"].get("policies")
                          and r)
        assert rbac["rules"].get("action", "ALLOW") == "DENY"
        text = json.dumps(rbac["rules"]["policies"])
        assert "^spiffe://%s/ns/default/dc/[^/]+/svc/web$" % td in text
        requests.delete(agent.base + "/v1/connect/intentions/exact?source=web&destination=db")
        probe.wait(lambda p: (r := rbac_of(p, db_port)) and not r["rules"].get("policies"))
    finally:
        probe.stop()


def test_state_of_the_world_stream(agent):
    web_port, _ = register_pair(agent)
    db_cluster = "db.default.dc1.internal." + trust_domain(agent)
    probe = Probe(agent, "web-sidecar-proxy", sotw=True)
    try:
        probe.wait(lambda p: "public_listener:0.0.0.0:%d" % web_port in p.latest(LDS))
        probe.wait(lambda p: db_cluster in p.latest(CDS))
        probe.wait(lambda p: db_cluster in p.latest(CLA))
    finally:
        probe.stop()


def prom(agent):
    text = requests.get(agent.base + "/v1/agent/metrics?format=prometheus").text
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.split(" ", 1)
            out[name] = float(value)
    return out


def test_metrics_count_streams_and_acks(agent):
    register_pair(agent)
    assert prom(agent)["trellis_xds_streams_active"] == 0
    probe = Probe(agent, "web-sidecar-proxy")
    try:
        probe.wait(lambda p: len(p.latest(LDS)) == 2)
        m = {}
        deadline = time.time() + 5
        while time.time() < deadline:
            m = prom(agent)
            if m["trellis_xds_acks"] >= 3:
                break
            time.sleep(0.05)
        assert m["trellis_xds_streams_active"] == 1
        assert m["trellis_xds_acks"] >= 3  # clusters, endpoints, listeners
        assert m["trellis_xds_nacks"] == 0
        assert m["trellis_proxycfg_watches"] == 1
        j = requests.get(agent.base + "/v1/agent/metrics").json()
        assert any(g["Name"] == "trellis.xds.streams_active" and g["Value"] == 1
                   for g in j["Gauges"])
    finally:
        probe.stop()
    deadline = time.time() + 5
    while time.time() < deadline and prom(agent)["trellis_xds_streams_active"] != 0:
        time.sleep(0.05)
    assert prom(agent)["trellis_xds_streams_active"] == 0
    assert prom(agent)["trellis_proxycfg_watches"] == 0
