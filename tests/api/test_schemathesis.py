"""The demo server against docs/session-api.openapi.yaml, by a tester we did not write.

Schemathesis (PyPI) generates requests from the document (valid and invalid ones, and
sequences of calls in its stateful phase) and runs all of its checks on the answers:
undocumented status codes, bodies and headers that do not match their schemas, invalid
requests that are accepted and valid ones that are refused. Its configuration is
tests/api/schemathesis.toml. The seed is fixed so that a run is reproducible; set
VIGIL_SCHEMATHESIS_SEED to explore others.

    VIGIL_BIN=target/debug/vigil python3 -m pytest -q tests/api/test_schemathesis.py
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from test_openapi_conformance import SPEC_PATH, TOKEN, Server

HERE = Path(__file__).resolve().parent


def test_schemathesis_finds_no_mismatch():
    server = Server(tick=0, sessions=300)
    try:
        seed = os.environ.get("VIGIL_SCHEMATHESIS_SEED", "20261206")
        cmd = [
            sys.executable, "-m", "schemathesis.cli",
            "--config-file", str(HERE / "schemathesis.toml"),
            "run", str(SPEC_PATH),
            "--url", server.base,
            "--header", f"Authorization: Bearer {TOKEN}",
            "--checks", "all",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", "100",
            "--seed", seed,
            "--workers", "2",
            "--request-timeout", "20",
            "--continue-on-failure",
            "--no-color",
            # No example database: every run starts from the seed alone.
            "--generation-database", "none",
        ]
        # Schemathesis keeps a cache in its working directory: a throw-away one, not the
        # checkout.
        with tempfile.TemporaryDirectory() as work:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                                    check=False, cwd=work)
        out = result.stdout + result.stderr
        assert result.returncode == 0, f"schemathesis (seed {seed}) found mismatches:\n{out[-20000:]}"
        print(out[-1500:])
    finally:
        server.stop()
