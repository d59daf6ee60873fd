"""Runs a benchmark script as its make target does, for the smoke tests of this folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_benchmark(script: str, **environment: str) -> tuple[list[str], dict]:
    """(the table's lines, the JSON of the last line) of ``benchmarks/<script>`` run with ``environment`` added;
    a failing run fails the test with the benchmark's stderr."""
    completed = subprocess.run([sys.executable, str(REPO / "benchmarks" / script)], env={**os.environ, **environment},
                               capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stderr
    *table, last = completed.stdout.strip().splitlines()
    return table, json.loads(last)
