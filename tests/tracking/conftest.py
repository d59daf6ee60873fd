"""A real MLflow tracking server on 127.0.0.1, started by the tests (the mlflow package's own `mlflow server`,
with a SQLite store and proxied artifacts in a temporary folder)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "doc" / "examples"
DATASETS = REPO / "resources" / "datasets"
BREAST_CANCER = {DATASETS / "breast_cancer.csv": "s3://smx-demo-input/breast_cancer/breast_cancer.csv"}
IRIS = {DATASETS / "iris.csv": "s3://smx-demo-input/iris/iris.csv"}
TEST_SCRIPT = REPO / "tests" / "local" / "scripts" / "configurable_train.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(folder: Path, *store: str):
    """`mlflow server` on a free port of 127.0.0.1 with a SQLite store in ``folder``; (process, tracking URI)."""
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}", "--workers", "1",
         *(store or ("--artifacts-destination", str(folder / "artifacts")))],
        stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    log.close()
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    return server, uri
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"the MLflow server did not start:\n{(folder / 'server.log').read_text()[-3000:]}")
        time.sleep(0.5)


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """The tracking URI of a running MLflow server that stores artifacts itself (proxied uploads)."""
    server, uri = start_server(tmp_path_factory.mktemp("mlflow-server"))
    yield uri
    stop_server(server)


@pytest.fixture(scope="module")
def s3_artifact_server(tmp_path_factory):
    """An MLflow server whose clients write artifacts to S3 themselves, as a SageMaker managed server's do, to a
    bucket that does not exist."""
    server, uri = start_server(tmp_path_factory.mktemp("mlflow-s3-server"), "--no-serve-artifacts",
                               "--default-artifact-root", "s3://no-such-mlflow-artifact-bucket/mlflow")
    yield uri
    stop_server(server)
