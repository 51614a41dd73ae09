"""The npm `consul` client library (node-consul), unchanged, against Trellis."""
import os
import shutil
import subprocess

import pytest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_consul_client(agent):
    if not os.path.isdir(os.path.join(HERE, "node_modules", "consul")):
        pytest.fail("tests/e2e/node/node_modules is missing: run scripts/deps.sh")
    p = subprocess.run(["node", "consul_client.js", str(agent.port)], cwd=HERE,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "all checks passed" in p.stdout
