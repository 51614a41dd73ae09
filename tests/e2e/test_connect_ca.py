"""Connect CA end to end: roots, leaf certificates checked with `openssl verify`, rotation."""
import subprocess
import threading
import time

from rawhttp import get, put


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def openssl_verify(tmp_path, roots_pem, leaf_pem, untrusted=None):
    cmd = ["openssl", "verify", "-x509_strict", "-CAfile", write(tmp_path, "roots.pem", roots_pem)]
    if untrusted:
        cmd += ["-untrusted", write(tmp_path, "inter.pem", untrusted)]
    cmd.append(write(tmp_path, "leaf.pem", leaf_pem))
    return subprocess.run(cmd, capture_output=True, text=True)


def test_roots_and_leaf_verify_with_openssl(agent, tmp_path):
    roots = get(agent, "/v1/connect/ca/roots").json()
    assert roots["TrustDomain"].endswith(".consul")
    [root] = roots["Roots"]
    assert root["Active"] and root["ID"] == roots["ActiveRootID"]
    assert root["PrivateKeyType"] == "ec" and root["PrivateKeyBits"] == 256
    assert "PrivateKey" not in root and "SigningKey" not in root
    assert get(agent, "/v1/agent/connect/ca/roots").json()["ActiveRootID"] == root["ID"]
    pem = get(agent, "/v1/connect/ca/roots?pem=true")
    assert pem.headers["Content-Type"] == "application/pem-certificate-chain"
    assert pem.text.startswith("-----BEGIN CERTIFICATE-----")

    r = get(agent, "/v1/agent/connect/ca/leaf/web")
    assert r.status == 200, r.text
    leaf = r.json()
    assert leaf["Service"] == "web"
    assert leaf["ServiceURI"] == "spiffe://%s/ns/default/dc/dc1/svc/web" % roots["TrustDomain"]
    assert "EC PRIVATE KEY" in leaf["PrivateKeyPEM"]
    assert r.index() == leaf["ModifyIndex"]
    v = openssl_verify(tmp_path, root["RootCert"], leaf["CertPEM"])
    assert v.returncode == 0, v.stdout + v.stderr
    text = subprocess.run(["openssl", "x509", "-noout", "-text"], input=leaf["CertPEM"],
                          capture_output=True, text=True).stdout
    assert leaf["ServiceURI"] in text
    # The agent caches: the same leaf comes back until renewal.
    assert get(agent, "/v1/agent/connect/ca/leaf/web").json()["SerialNumber"] == leaf["SerialNumber"]
    assert get(agent, "/v1/agent/connect/ca/leaf/api").json()["SerialNumber"] != leaf["SerialNumber"]


def test_rotation_keeps_old_leaves_valid_and_wakes_parked_leaf_query(agent, tmp_path):
    old_root = get(agent, "/v1/connect/ca/roots").json()["Roots"][0]
    r = get(agent, "/v1/agent/connect/ca/leaf/web")
    old_leaf, idx = r.json(), r.index()
    out = {}

    def waiter():
        out["r"] = get(agent, "/v1/agent/connect/ca/leaf/web?index=%d&wait=30s" % idx)

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.3)
    assert "r" not in out
    cfg = get(agent, "/v1/connect/ca/configuration").json()
    cfg["Config"]["PrivateKeyType"] = "rsa"
    cfg["Config"]["PrivateKeyBits"] = 2048
    r = put(agent, "/v1/connect/ca/configuration", {"Provider": "consul", "Config": cfg["Config"]})
    assert r.status == 200, r.text
    th.join(10)
    new_leaf = out["r"].json()
    assert out["r"].index() > idx and new_leaf["SerialNumber"] != old_leaf["SerialNumber"]

    roots = get(agent, "/v1/connect/ca/roots").json()
    assert len(roots["Roots"]) == 2
    active = [x for x in roots["Roots"] if x["Active"]][0]
    assert active["ID"] != old_root["ID"] and active["PrivateKeyType"] == "rsa"
    assert active["IntermediateCerts"], "the new root must be cross-signed by the old one"
    both = old_root["RootCert"] + active["RootCert"]
    # Old leaves keep verifying while both roots are trusted ...
    assert openssl_verify(tmp_path, both, old_leaf["CertPEM"]).returncode == 0
    # ... and a peer that still trusts only the old root accepts new leaves via the cross-signed cert.
    v = openssl_verify(tmp_path, old_root["RootCert"], new_leaf["CertPEM"],
                       untrusted=active["IntermediateCerts"][0])
    assert v.returncode == 0, v.stdout + v.stderr
    assert openssl_verify(tmp_path, active["RootCert"], new_leaf["CertPEM"]).returncode == 0
    assert get(agent, "/v1/connect/ca/configuration").json()["Config"]["PrivateKeyType"] == "rsa"


def test_ca_config_bad_input(agent):
    r = put(agent, "/v1/connect/ca/configuration", {"Provider": "vault", "Config": {}})
    assert r.status == 400
    r = put(agent, "/v1/connect/ca/configuration", {"Provider": "consul", "Config": {"LeafCertTTL": "1m"}})
    assert r.status == 400 and "LeafCertTTL" in r.text
    r = put(agent, "/v1/connect/ca/configuration",
            {"Provider": "consul", "Config": {"PrivateKeyType": "dsa"}})
    assert r.status == 400
    r = put(agent, "/v1/connect/ca/configuration", {"Provider": "consul", "Config": {"Bogus": 1}})
    assert r.status == 400
    assert get(agent, "/v1/agent/connect/ca/leaf/").status in (400, 404)


def test_cluster_id_from_agent_config(make_agent, tmp_path):
    cfg = tmp_path / "ca.hcl"
    cfg.write_text('connect {\n  enabled = true\n  ca_config {\n'
                   '    cluster_id = "11111111-2222-3333-4444-555555555555"\n'
                   '    leaf_cert_ttl = "2h"\n  }\n}\n')
    a = make_agent(config_files=[str(cfg)])
    assert get(a, "/v1/connect/ca/roots").json()["TrustDomain"] == \
        "11111111-2222-3333-4444-555555555555.consul"
    assert get(a, "/v1/connect/ca/configuration").json()["Config"]["LeafCertTTL"] == "2h"


def test_csr_rate_limit_answers_429(make_agent, tmp_path):
    cfg = tmp_path / "ca.json"
    cfg.write_text('{"connect": {"ca_config": {"csr_max_per_second": 2}}}')
    a = make_agent(config_files=[str(cfg)])
    codes = [get(a, "/v1/agent/connect/ca/leaf/svc%d" % i).status for i in range(8)]
    assert codes.count(200) >= 2 and 429 in codes
    r = [get(a, "/v1/agent/connect/ca/leaf/more%d" % i) for i in range(4)][-1]
    if r.status == 429:
        assert r.headers["Retry-After"] == "1" and "Rate limit" in r.text
    time.sleep(1.1)
    assert get(a, "/v1/agent/connect/ca/leaf/later").status == 200


def test_import_root_key_and_cert(agent, tmp_path):
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "30", "-subj", "/CN=Imported Test CA",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                   check=True, capture_output=True)
    old = get(agent, "/v1/connect/ca/roots").json()["ActiveRootID"]
    cfg = {"Provider": "consul", "Config": {"PrivateKey": key.read_text(), "RootCert": cert.read_text()}}
    r = put(agent, "/v1/connect/ca/configuration", cfg)
    assert r.status == 200, r.text
    roots = get(agent, "/v1/connect/ca/roots").json()
    active = [x for x in roots["Roots"] if x["Active"]][0]
    assert active["ID"] != old
    assert active["RootCert"].strip() == cert.read_text().strip()
    leaf = get(agent, "/v1/agent/connect/ca/leaf/imported").json()
    v = openssl_verify(tmp_path, cert.read_text(), leaf["CertPEM"])
    assert v.returncode == 0, v.stdout + v.stderr
    # The private key is never echoed back.
    assert "PrivateKey" not in get(agent, "/v1/connect/ca/configuration").json()["Config"]
    bad = {"Provider": "consul", "Config": {"PrivateKey": "garbage", "RootCert": cert.read_text()}}
    assert put(agent, "/v1/connect/ca/configuration", bad).status == 400
