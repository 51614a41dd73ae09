"""End-to-end tests of `trellis config`, `trellis intention` and `trellis connect ca` against a
running agent (the `agent` fixture from conftest.py). Every subprocess has a timeout."""

import json
import os
import subprocess

TIMEOUT = 30


def run(agent, *args, stdin=None):
    env = dict(os.environ)
    env.pop("CONSUL_HTTP_ADDR", None)
    env.pop("CONSUL_HTTP_TOKEN", None)
    env["TRELLIS_HTTP_ADDR"] = agent.http_addr
    return subprocess.run([agent.trellis, *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=TIMEOUT)


def test_config_round_trip_with_hcl_and_json(agent, tmp_path):
    hcl = tmp_path / "web.hcl"
    hcl.write_text('Kind = "service-defaults"\nName = "web"\nProtocol = "http"\n'
                   'Meta {\n  owner = "ops"\n}\n')
    r = run(agent, "config", "write", str(hcl))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Config entry written: service-defaults/web\n"

    js = tmp_path / "api.json"
    js.write_text(json.dumps({"kind": "service-defaults", "name": "api", "protocol": "grpc"}))
    r = run(agent, "config", "write", str(js))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Config entry written: service-defaults/api\n"

    # From stdin, JSON again.
    r = run(agent, "config", "write", "-",
            stdin='{"Kind": "proxy-defaults", "Name": "global", "Config": {"protocol": "http"}}')
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Config entry written: proxy-defaults/global\n"

    r = run(agent, "config", "read", "-kind", "service-defaults", "-name", "web")
    assert r.returncode == 0, r.stderr
    entry = json.loads(r.stdout)
    assert entry["Kind"] == "service-defaults" and entry["Name"] == "web"
    assert entry["Protocol"] == "http" and entry["Meta"] == {"owner": "ops"}
    assert r.stdout.startswith('{\n    "Kind": "service-defaults",\n')
    modify_index = entry["ModifyIndex"]

    r = run(agent, "config", "list", "-kind", "service-defaults")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "api\nweb\n"

    # CAS with a stale index is refused, with the current one accepted.
    r = run(agent, "config", "write", "-cas", "-modify-index", str(modify_index + 100), str(hcl))
    assert r.returncode == 1
    assert r.stderr == "Config entry not updated: service-defaults/web\n"
    r = run(agent, "config", "write", "-cas", "-modify-index", str(modify_index), str(hcl))
    assert r.returncode == 0, r.stderr

    r = run(agent, "config", "delete", "-kind", "service-defaults", "-name", "web")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Config entry deleted: service-defaults/web\n"
    r = run(agent, "config", "delete", "-filename", str(js))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Config entry deleted: service-defaults/api\n"

    r = run(agent, "config", "list", "-kind", "service-defaults")
    assert r.returncode == 0 and r.stdout == ""
    r = run(agent, "config", "read", "-kind", "service-defaults", "-name", "web")
    assert r.returncode == 1
    assert r.stderr.startswith(
        'Error reading config entry "service-defaults" / "web": Unexpected response code: 404')


def test_config_write_rejections(agent, tmp_path):
    bad = tmp_path / "bad.hcl"
    bad.write_text('Kind = "service-defaults"\nName = "web"\nProtocol = \n')
    r = run(agent, "config", "write", str(bad))
    assert r.returncode == 1
    assert r.stderr.startswith(
        "Failed to decode config entry input: Failed to decode config entry input: ")
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"Kind": "service-defaults", "Name": "web", "Bogus": 1}')
    r = run(agent, "config", "write", str(unknown))
    assert r.returncode == 1
    assert r.stderr.startswith("Error writing config entry service-defaults/web: "
                               "Unexpected response code: 400")


def test_intention_lifecycle(agent):
    r = run(agent, "intention", "check", "web", "db")
    assert (r.returncode, r.stdout) == (0, "Allowed\n"), r.stderr

    r = run(agent, "intention", "create", "-deny", "-description", "no web to db", "web", "db")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Created: web => db (deny)\n"

    # Consul's exit code for a denied connection is 1 (2 means the check itself failed).
    r = run(agent, "intention", "check", "web", "db")
    assert (r.returncode, r.stdout) == (1, "Denied\n"), r.stderr

    r = run(agent, "intention", "create", "web", "db")
    assert r.returncode == 1
    assert r.stderr == ('Error creating intention "web => db (allow)": '
                        "duplicate intention found: web => db (deny)\n")

    r = run(agent, "intention", "create", "*", "db")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Created: * => db (allow)\n"

    r = run(agent, "intention", "match", "db")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "web => db (deny)\n* => db (allow)\n"
    # By source, the wildcard source matches too.
    r = run(agent, "intention", "match", "-source", "web")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "web => db (deny)\n* => db (allow)\n"
    r = run(agent, "intention", "match", "-source", "api")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "* => db (allow)\n"

    r = run(agent, "intention", "get", "web", "db")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["Source:", "web"]
    assert lines[1].split() == ["Destination:", "db"]
    assert lines[2].split() == ["Action:", "deny"]
    assert lines[3].split(None, 1) == ["Description:", "no web to db"]
    assert lines[-1].startswith("Created At:")

    r = run(agent, "intention", "list")
    assert r.returncode == 0, r.stderr
    rows = [l.split() for l in r.stdout.splitlines()]
    assert rows[0] == ["ID", "Source", "Action", "Destination", "Precedence"]
    assert ["web", "deny", "db", "9"] in [row[-4:] for row in rows[1:]]
    assert ["*", "allow", "db", "8"] in [row[-4:] for row in rows[1:]]

    r = run(agent, "intention", "create", "-replace", "-allow", "web", "db")
    assert r.returncode == 0, r.stderr
    r = run(agent, "intention", "check", "web", "db")
    assert (r.returncode, r.stdout) == (0, "Allowed\n")
    r = run(agent, "intention", "create", "-replace", "-deny", "web", "db")
    assert r.returncode == 0, r.stderr

    r = run(agent, "intention", "delete", "web", "db")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Intention deleted.\n"
    r = run(agent, "intention", "check", "web", "db")
    assert (r.returncode, r.stdout) == (0, "Allowed\n")
    r = run(agent, "intention", "get", "web", "db")
    assert r.returncode == 1
    assert r.stderr == 'Intention not found with source "web" and destination "db"\n'

    run(agent, "intention", "delete", "*", "db")
    r = run(agent, "intention", "list")
    assert r.returncode == 2
    assert r.stderr == "There are no intentions.\n"


def test_intention_with_meta_uses_legacy_api(agent):
    # Meta only exists on legacy (ID-addressed) intentions; such an intention has an ID.
    r = run(agent, "intention", "create", "-deny", "-meta", "owner=ops", "api", "cache")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Created: api => cache (deny)\n"
    r = run(agent, "intention", "get", "api", "cache")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "Meta[owner]:  ops" in lines
    [ixn_id] = [l.split()[1] for l in lines if l.startswith("ID:")]
    r = run(agent, "intention", "get", ixn_id)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:3] == lines[:3]
    r = run(agent, "intention", "create", "-replace", "-allow", "-meta", "owner=dev", "api", "cache")
    assert r.returncode == 0, r.stderr
    assert "Meta[owner]:  dev" in run(agent, "intention", "get", ixn_id).stdout.splitlines()
    r = run(agent, "intention", "check", "api", "cache")
    assert (r.returncode, r.stdout) == (0, "Allowed\n")
    r = run(agent, "intention", "delete", ixn_id)
    assert r.returncode == 0, r.stderr
    r = run(agent, "intention", "get", ixn_id)
    assert r.returncode == 1
    assert r.stderr == 'Intention not found with ID "%s"\n' % ixn_id


def test_intention_written_by_config_entry_is_visible(agent, tmp_path):
    f = tmp_path / "ixn.hcl"
    f.write_text('Kind = "service-intentions"\nName = "db"\n'
                 'Sources = [\n  {\n    Name = "web"\n    Action = "deny"\n  }\n]\n')
    r = run(agent, "config", "write", str(f))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Config entry written: service-intentions/db\n"
    r = run(agent, "intention", "check", "web", "db")
    assert (r.returncode, r.stdout) == (1, "Denied\n")
    r = run(agent, "config", "delete", "-filename", str(f))
    assert r.returncode == 0, r.stderr
    r = run(agent, "intention", "check", "web", "db")
    assert (r.returncode, r.stdout) == (0, "Allowed\n")


def test_connect_ca_get_and_set_config(agent, tmp_path):
    r = run(agent, "connect", "ca", "get-config")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('{\n\t"Provider": "consul",\n\t"Config": {\n')
    config = json.loads(r.stdout)
    assert list(config) == ["Provider", "Config", "State", "ForceWithoutCrossSigning",
                            "CreateIndex", "ModifyIndex"]
    assert "PrivateKey" not in config["Config"]

    new = {"Provider": "consul", "Config": dict(config["Config"], LeafCertTTL="24h")}
    f = tmp_path / "ca.json"
    f.write_text(json.dumps(new))
    r = run(agent, "connect", "ca", "set-config", "-config-file", str(f))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Configuration updated!\n"
    r = run(agent, "connect", "ca", "get-config")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Config"]["LeafCertTTL"] == "24h"

    r = run(agent, "connect", "ca", "set-config")
    assert r.returncode == 1
    assert r.stderr == "The -config-file flag is required\n"
