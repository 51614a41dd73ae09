"""DNS interface end to end: `dig` against a real agent over UDP and TCP.

See consul-api.md section 8 for the behaviour pinned here.
"""
import json
import os
import re
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

import pytest

from conftest import Agent, free_port

DIG = "/usr/bin/dig"
DNSMASQ = "/usr/sbin/dnsmasq"


class Dig:
    def __init__(self, out):
        self.out = out
        m = re.search(r"status: (\w+)", out)
        self.status = m.group(1) if m else None
        m = re.search(r";; flags: ([a-z ]*);", out)
        self.flags = set(m.group(1).split()) if m else set()
        self.sections = {"ANSWER": [], "AUTHORITY": [], "ADDITIONAL": []}
        current = None
        for line in out.splitlines():
            m = re.match(r";; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:", line)
            if m:
                current = m.group(1)
            elif not line.strip() or line.startswith(";"):
                current = None if not line.strip() else current
            elif current:
                self.sections[current].append(line.split())

    @property
    def answer(self):
        return self.sections["ANSWER"]

    def data(self, section="ANSWER", rtype=None):
        """The RDATA of each record as a string, optionally only one type."""
        return sorted(" ".join(r[4:]) for r in self.sections[section]
                      if rtype is None or r[3] == rtype)


def dig(agent_or_port, name, qtype="A", tcp=False, *extra):
    port = agent_or_port if isinstance(agent_or_port, int) else agent_or_port.dns_port
    args = [DIG, "@127.0.0.1", "-p", str(port), name, qtype, "+tries=1", "+time=3"]
    if tcp:
        args.append("+tcp")
    args += list(extra)
    out = subprocess.run(args, capture_output=True, text=True, timeout=20).stdout
    return Dig(out)


def call(agent, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(agent.base + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read()


def register(agent, node, address, service=None, status=None, meta=None):
    body = {"Node": node, "Address": address}
    if meta:
        body["NodeMeta"] = meta
    if service:
        body["Service"] = service
    if status:
        body["Check"] = {"CheckID": "chk-" + service["ID"], "Name": "chk", "Status": status,
                         "ServiceID": service["ID"]}
    call(agent, "PUT", "/v1/catalog/register", body)


def write_config(obj):
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(obj, f)
    f.close()
    return f.name


@pytest.fixture(scope="module")
def catalog_agent():
    """An agent with a `web` service in every health state and a sidecar proxy."""
    a = Agent(dns=True)
    register(a, "n-a", "10.0.0.1", {"ID": "web-a", "Service": "web", "Port": 80, "Tags": ["v1"]},
             "passing", meta={"env": "prod", "rfc1035-raw": "hello"})
    register(a, "n-b", "10.0.0.2", {"ID": "web-b", "Service": "web", "Port": 81, "Tags": ["v2"]},
             "warning")
    register(a, "n-c", "10.0.0.3", {"ID": "web-c", "Service": "web", "Port": 82}, "critical")
    register(a, "n-d", "10.0.0.4", {"ID": "web-d", "Service": "web", "Port": 83,
                                    "Address": "192.168.0.4"})
    register(a, "n-a", "10.0.0.1", {"ID": "web-proxy", "Service": "web-sidecar-proxy",
                                    "Kind": "connect-proxy", "Port": 21000,
                                    "Proxy": {"DestinationServiceName": "web"}}, "passing",
             meta={"env": "prod", "rfc1035-raw": "hello"})
    yield a
    a.stop()


TRANSPORTS = [pytest.param(False, id="udp"), pytest.param(True, id="tcp")]


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_service_a_drops_critical_instances(catalog_agent, tcp):
    r = dig(catalog_agent, "web.service.consul", "A", tcp, "+bufsize=4096")
    assert r.status == "NOERROR"
    assert "aa" in r.flags and "ra" not in r.flags
    assert r.data() == ["10.0.0.1", "10.0.0.2", "192.168.0.4"]
    assert all(rec[1] == "0" for rec in r.answer)  # default TTL 0


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_service_srv_with_additional_records(catalog_agent, tcp):
    r = dig(catalog_agent, "web.service.consul", "SRV", tcp)
    assert r.status == "NOERROR"
    assert r.data() == ["1 1 80 n-a.node.dc1.consul.", "1 1 81 n-b.node.dc1.consul.",
                        "1 1 83 c0a80004.addr.dc1.consul."]
    assert r.data("ADDITIONAL", "A") == ["10.0.0.1", "10.0.0.2", "192.168.0.4"]
    assert '"env=prod"' in r.data("ADDITIONAL", "TXT")


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_tag_and_rfc2782_forms(catalog_agent, tcp):
    assert dig(catalog_agent, "v1.web.service.consul", "A", tcp).data() == ["10.0.0.1"]
    assert dig(catalog_agent, "_web._v2.service.consul", "SRV", tcp).data() == [
        "1 1 81 n-b.node.dc1.consul."]
    assert len(dig(catalog_agent, "_web._tcp.service.dc1.consul", "SRV", tcp).answer) == 3
    assert dig(catalog_agent, "web.service.dc1.consul", "A", tcp).status == "NOERROR"


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_names_are_case_insensitive(catalog_agent, tcp):
    r = dig(catalog_agent, "V1.WEB.Service.CONSUL", "A", tcp)
    assert r.status == "NOERROR" and r.data() == ["10.0.0.1"]


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_node_lookup_and_txt(catalog_agent, tcp):
    r = dig(catalog_agent, "n-a.node.consul", "A", tcp)
    assert r.data() == ["10.0.0.1"]
    assert r.data("ADDITIONAL", "TXT") == ['"env=prod"', '"hello"']
    txt = dig(catalog_agent, "n-a.node.dc1.consul", "TXT", tcp)
    assert txt.data() == ['"env=prod"', '"hello"']
    any_ = dig(catalog_agent, "n-a.node.consul", "ANY", tcp)
    assert any_.data(rtype="A") == ["10.0.0.1"] and len(any_.data(rtype="TXT")) == 2


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_addr_lookup(catalog_agent, tcp):
    assert dig(catalog_agent, "c0a80004.addr.dc1.consul", "A", tcp).data() == ["192.168.0.4"]
    r = dig(catalog_agent, "fe800000000000000000000000000001.addr.consul", "AAAA", tcp)
    assert r.data() == ["fe80::1"]


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_connect_lookup_returns_the_sidecar(catalog_agent, tcp):
    r = dig(catalog_agent, "web.connect.consul", "SRV", tcp)
    assert r.data() == ["1 1 21000 n-a.node.dc1.consul."]
    assert dig(catalog_agent, "web.connect.consul", "A", tcp).data() == ["10.0.0.1"]


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_nxdomain_carries_soa(catalog_agent, tcp):
    for name in ("nope.service.consul", "nope.node.consul", "web.service.dc9.consul"):
        r = dig(catalog_agent, name, "A", tcp)
        assert r.status == "NXDOMAIN", name
        soa = r.sections["AUTHORITY"]
        assert len(soa) == 1 and soa[0][3] == "SOA"
        assert soa[0][4:6] == ["ns.consul.", "hostmaster.consul."]
        assert soa[0][7:] == ["3600", "600", "86400", "0"]
    # The name exists but has no record of this type: NOERROR, empty, SOA.
    r = dig(catalog_agent, "web.service.consul", "AAAA", tcp)
    assert r.status == "NOERROR" and not r.answer and len(r.sections["AUTHORITY"]) == 1


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_outside_the_domain_is_refused_without_recursors(catalog_agent, tcp):
    assert dig(catalog_agent, "example.com", "A", tcp).status == "REFUSED"


def test_reverse_lookup(catalog_agent):
    r = dig(catalog_agent, "-x", "10.0.0.2")
    assert r.data() == ["n-b.node.dc1.consul."]


def test_bad_packets_get_formerr_or_silence(catalog_agent):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    addr = ("127.0.0.1", catalog_agent.dns_port)
    # A header claiming a question that is not there: FORMERR with our ID.
    s.sendto(struct.pack(">HHHHHH", 0xBEEF, 0x0100, 1, 0, 0, 0) + b"\x05ab", addr)
    reply, _ = s.recvfrom(512)
    assert struct.unpack(">HH", reply[:4]) == (0xBEEF, 0x8101)
    # A compression loop in the question name: FORMERR too.
    s.sendto(struct.pack(">HHHHHH", 7, 0, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01", addr)
    reply, _ = s.recvfrom(512)
    assert reply[3] & 0xF == 1
    # An unsupported opcode (STATUS): NOTIMP.
    s.sendto(struct.pack(">HHHHHH", 8, 0x1000, 0, 0, 0, 0), addr)
    reply, _ = s.recvfrom(512)
    assert reply[3] & 0xF == 4
    # A runt is not answered at all.
    s.sendto(b"\x01\x02\x03", addr)
    with pytest.raises(socket.timeout):
        s.recvfrom(512)
    s.close()
    assert dig(catalog_agent, "web.service.consul", "A").status == "NOERROR"


def test_only_passing_drops_warning_instances():
    a = Agent(dns=True, config_files=[write_config({"dns_config": {"only_passing": True,
                                                                   "service_ttl": {"*": "7s"},
                                                                   "node_ttl": "11s"}})])
    try:
        register(a, "n-a", "10.0.0.1", {"ID": "web-a", "Service": "web", "Port": 80}, "passing")
        register(a, "n-b", "10.0.0.2", {"ID": "web-b", "Service": "web", "Port": 80}, "warning")
        r = dig(a, "web.service.consul", "A")
        assert r.data() == ["10.0.0.1"]
        assert r.answer[0][1] == "7"
        assert dig(a, "n-b.node.consul", "A").answer[0][1] == "11"
    finally:
        a.stop()


@pytest.fixture(scope="module")
def many():
    """Two agents with 20 instances of `big`, without and with enable_truncate."""
    truncate = write_config({"dns_config": {"enable_truncate": True}})
    agents = [Agent(dns=True), Agent(dns=True, config_files=[truncate])]
    for a in agents:
        for i in range(20):
            register(a, "node-%02d" % i, "10.9.0.%d" % (i + 1),
                     {"ID": "big-%d" % i, "Service": "big", "Port": 9000 + i})
    yield agents
    for a in agents:
        a.stop()


def test_udp_without_edns_is_cut_to_three_answers_silently(many):
    r = dig(many[0], "big.service.consul", "A", False, "+noedns", "+ignore")
    assert len(r.answer) == 3 and "tc" not in r.flags


def test_enable_truncate_sets_tc_and_dig_retries_over_tcp(many):
    r = dig(many[1], "big.service.consul", "SRV", False, "+noedns", "+ignore")
    assert "tc" in r.flags and len(r.answer) == 3
    retried = dig(many[1], "big.service.consul", "SRV", False, "+noedns")
    assert "tc" not in retried.flags and len(retried.answer) == 20


@pytest.mark.parametrize("agent_index", [0, 1])
def test_edns_and_tcp_carry_everything(many, agent_index):
    a = many[agent_index]
    assert len(dig(a, "big.service.consul", "A", False, "+bufsize=4096").answer) == 20
    assert len(dig(a, "big.service.consul", "A", True).answer) == 20
    srv = dig(a, "big.service.consul", "SRV", True)
    assert len(srv.answer) == 20 and len(srv.data("ADDITIONAL", "A")) == 20


def test_srv_over_small_edns_buffer_is_truncated_to_fit(many):
    r = dig(many[1], "big.service.consul", "SRV", False, "+bufsize=700", "+ignore")
    assert "tc" in r.flags
    assert 3 < len(r.answer) < 20
    m = re.search(r"MSG SIZE\s+rcvd: (\d+)", r.out)
    assert m and int(m.group(1)) <= 700


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_deregistration_disappears_at_once(tcp):
    a = Agent(dns=True)
    try:
        call(a, "PUT", "/v1/agent/service/register", {"Name": "ephemeral", "Port": 1234})
        assert dig(a, "ephemeral.service.consul", "SRV", tcp).data() == [
            "1 1 1234 e2e-node.node.dc1.consul."]
        call(a, "PUT", "/v1/agent/service/deregister/ephemeral")
        r = dig(a, "ephemeral.service.consul", "SRV", tcp)
        assert r.status == "NXDOMAIN" and not r.answer
    finally:
        a.stop()


def test_domain_and_alt_domain():
    a = Agent(dns=True, config_files=[write_config({"domain": "mesh.", "alt_domain": "alt.test."})])
    try:
        register(a, "n-a", "10.0.0.1", {"ID": "web", "Service": "web", "Port": 80})
        assert dig(a, "web.service.mesh", "A").data() == ["10.0.0.1"]
        r = dig(a, "web.service.alt.test", "SRV")
        assert r.data() == ["1 1 80 n-a.node.dc1.alt.test."]
        assert dig(a, "web.service.consul", "A").status == "REFUSED"
        nx = dig(a, "nope.service.mesh", "A")
        assert nx.status == "NXDOMAIN" and nx.sections["AUTHORITY"][0][0] == "mesh."
    finally:
        a.stop()


@pytest.fixture
def dnsmasq(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("93.184.216.34 www.example.test\n")
    port = free_port()
    proc = subprocess.Popen([DNSMASQ, "--no-daemon", "--port=%d" % port,
                             "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                             "--no-hosts", "--addn-hosts=%s" % hosts, "--pid-file="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 5
    while time.time() < deadline:
        if dig(port, "www.example.test", "A").data() == ["93.184.216.34"]:
            break
        time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(timeout=5)


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_recursor_forwarding_to_dnsmasq(dnsmasq, tcp):
    a = Agent(dns=True, config_files=[write_config({
        "recursors": ["127.0.0.1:%d" % dnsmasq], "dns_config": {"recursor_timeout": "1s"}})])
    try:
        register(a, "n-a", "10.0.0.1", {"ID": "web", "Service": "web", "Port": 80})
        r = dig(a, "www.example.test", "A", tcp)
        assert r.status == "NOERROR" and r.data() == ["93.184.216.34"]
        own = dig(a, "web.service.consul", "A", tcp)
        assert own.data() == ["10.0.0.1"] and "ra" in own.flags
    finally:
        a.stop()


def test_dead_recursor_gives_servfail():
    dead = free_port()
    a = Agent(dns=True, config_files=[write_config({
        "recursors": ["127.0.0.1:%d" % dead], "dns_config": {"recursor_timeout": "300ms"}})])
    try:
        assert dig(a, "www.example.test", "A").status == "SERVFAIL"
    finally:
        a.stop()


def test_start_fails_clearly_when_the_dns_port_is_taken():
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    port = blocker.getsockname()[1]
    try:
        with pytest.raises(RuntimeError) as e:
            Agent(extra_args=["-dns-port", str(port)])
        assert "cannot listen for DNS on udp 127.0.0.1:%d" % port in str(e.value)
    finally:
        blocker.close()
