"""Custom containers: ``TrainingImage: local:path/to/train.py`` runs that script with SageMaker's
training contract, in a subprocess, under a temporary root that stands for ``/opt/ml``:

- ``input/config/{hyperparameters,inputdataconfig,resourceconfig}.json``;
- ``input/data/<channel>/``: File (and FastFile) mode channels, downloaded. Pipe mode channels
  are delivered as one regular file ``input/data/<channel>_0`` (the objects' bytes in order;
  an augmented manifest's records as JSON Lines of their AttributeNames) rather than a FIFO;
- ``model/`` (uploaded as model.tar.gz), ``output/data/`` (output.tar.gz), ``output/failure``;
- the ``SM_*`` variables of the SageMaker training toolkit, ``TRAINING_JOB_NAME``, the job's
  ``Environment``, and the hyperparameters as ``--name value`` arguments;
- with ``EnableNetworkIsolation``, no AWS credentials or endpoint in the environment (SageMaker
  gives an isolated container none); the process itself still has the machine's network.

Since the root is not ``/opt/ml``, a script must find its directories through ``SM_*``.
Metrics are the job's MetricDefinitions regexes applied to every line the script prints; the
last match of each is its final value.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from .base import TrainingAlgorithmError, TrainingClientError, TrainingContext, TrainingStopped

_HOST = "algo-1"
_AWS_ACCESS_VARIABLES = frozenset({
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
    "AWS_ENDPOINT_URL", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
})
_FAILURE_REASON_LIMIT = 1024


class CustomScript:
    algorithm = "custom"

    def __init__(self, script: Path):
        self.script = script

    def train(self, context: TrainingContext) -> None:
        if not self.script.is_file():
            raise TrainingClientError(f"The local training script {self.script} does not exist")
        root = context.work_dir
        directories = _layout(root, context)
        self._write_config(directories, context)
        self._deliver_channels(directories["data"], context)
        metrics = _metric_patterns(context.request.get("AlgorithmSpecification", {}).get("MetricDefinitions") or [])
        context.training_started()

        command = [sys.executable, str(self.script)]
        for name, value in context.hyperparameters.values.items():
            command += [f"--{name}", value]
        tail: list[str] = []

        def on_line(line: str) -> None:
            nonlocal tail
            context.log(line)
            tail = (tail + [line])[-20:]
            for name, pattern in metrics:
                match = pattern.search(line)
                if match:
                    try:
                        context.report_metric(name, float(match.group(1)))
                    except (IndexError, ValueError):
                        pass  # SageMaker drops values its regex does not capture as a number

        exit_code = run_script(command, cwd=self.script.parent, env=_environment(directories, context),
                               on_line=on_line, on_stop=context.on_stop)
        if context.stopping:
            raise TrainingStopped()
        if exit_code != 0:
            failure_file = directories["output"] / "failure"
            message = failure_file.read_text(encoding="utf-8", errors="replace").strip() if failure_file.exists() else ""
            if not message:
                message = (f"ExecuteUserScriptError: ExitCode {exit_code}\nCommand \"{' '.join(command)}\"\n"
                           + "\n".join(tail[-5:]))
            raise TrainingAlgorithmError(message[:_FAILURE_REASON_LIMIT])

    @staticmethod
    def _write_config(directories: dict[str, Path], context: TrainingContext) -> None:
        config = directories["config"]
        (config / "hyperparameters.json").write_text(json.dumps(context.hyperparameters.values), encoding="utf-8")
        (config / "inputdataconfig.json").write_text(json.dumps({
            channel.name: {
                "ContentType": channel.content_type, "TrainingInputMode": channel.input_mode,
                "S3DistributionType": "FullyReplicated", "RecordWrapperType": channel.record_wrapper_type,
            } for channel in context.channels.values()
        }), encoding="utf-8")
        (config / "resourceconfig.json").write_text(json.dumps(_resource_config()), encoding="utf-8")

    @staticmethod
    def _deliver_channels(data: Path, context: TrainingContext) -> None:
        for channel in context.channels.values():
            reader = context.reader_for(channel)
            if channel.input_mode != "Pipe":
                reader.download_to(data / channel.name)
                continue
            with open(data / f"{channel.name}_0", "wb") as pipe_file:
                if channel.s3_data_type == "AugmentedManifestFile":
                    for record in reader.manifest_records():
                        values = [value.decode("latin-1") if isinstance(value, bytes) else value for value in record]
                        pipe_file.write((json.dumps(dict(zip(channel.attribute_names, values))) + "\n").encode("utf-8"))
                else:
                    for bucket, key, _ in reader.objects():
                        pipe_file.write(reader.read(bucket, key))


# SageMaker sends SIGTERM to a stopped job's container and SIGKILL after a grace period; locally the
# grace is short, so that a stopped run (Ctrl-C) ends within seconds.
STOP_GRACE_SECONDS = 3.0
# How long the job's output may still arrive after the script exited (a child that inherited the pipe
# may hold it open for ever: the job ends anyway, and the child with it).
DRAIN_SECONDS = 1.0


def run_script(command: list[str], *, cwd: Path, env: dict[str, str], on_line: Callable[[str], None],
               on_stop: Callable[[Callable[[], None]], None]) -> int:
    """Run the script in a process group of its own and hand each line it prints to ``on_line``.

    The script's output is read as bytes and decoded leniently (SageMaker stores logs as bytes: a
    script printing Latin-1 must not fail its job). A stop sends SIGTERM to the whole group, then
    SIGKILL after ``STOP_GRACE_SECONDS``; when the script exits, whatever it left running in its group
    is killed, so no process outlives its job."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    with _running_lock:
        _running_groups.add(process.pid)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        try:
            for raw in iter(process.stdout.readline, b""):
                lines.put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        except (OSError, ValueError):
            pass  # the pipe was closed under us: the job has ended
        finally:
            lines.put(None)

    reader = threading.Thread(target=read, name=f"script-output-{process.pid}", daemon=True)
    reader.start()
    on_stop(lambda: _stop_group(process))
    drain_deadline: float | None = None
    while True:
        if drain_deadline is None and process.poll() is not None:
            drain_deadline = time.monotonic() + DRAIN_SECONDS
        timeout = 0.1 if drain_deadline is None else max(0.0, drain_deadline - time.monotonic())
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            if drain_deadline is not None and time.monotonic() >= drain_deadline:
                break
            continue
        if line is None:
            break
        on_line(line)
    exit_code = process.wait()
    _kill_group(process.pid)
    with _running_lock:
        _running_groups.discard(process.pid)
    if process.stdout is not None:
        process.stdout.close()
    return exit_code


# Every script process group still running in this process. The command normally stops them through
# their jobs; when it ends early instead (a second Ctrl-C during that stop, an uncaught error), they are
# killed as the interpreter exits, so no script outlives the command.
_running_groups: set[int] = set()
_running_lock = threading.Lock()


def kill_all_scripts() -> None:
    with _running_lock:
        groups = list(_running_groups)
        _running_groups.clear()
    for pgid in groups:
        _kill_group(pgid)


atexit.register(kill_all_scripts)


def _stop_group(process: subprocess.Popen) -> None:
    _signal_group(process.pid, signal.SIGTERM)

    def escalate() -> None:
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        _kill_group(process.pid)

    threading.Thread(target=escalate, name=f"script-stop-{process.pid}", daemon=True).start()


def _kill_group(pgid: int) -> None:
    _signal_group(pgid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone


def _layout(root: Path, context: TrainingContext) -> dict[str, Path]:
    directories = {
        "input": root / "input", "config": root / "input" / "config", "data": root / "input" / "data",
        "model": context.model_dir, "output": root / "output", "output_data": root / "output" / "data",
        "intermediate": root / "output" / "intermediate",
    }
    for directory in directories.values():
        directory.mkdir(parents=True, exist_ok=True)
    return directories


def _resource_config() -> dict:
    return {"current_host": _HOST, "hosts": [_HOST], "network_interface_name": "eth0"}


def _environment(directories: dict[str, Path], context: TrainingContext) -> dict[str, str]:
    channels = sorted(context.channels)
    hyperparameters = context.hyperparameters.values
    resource = context.request.get("ResourceConfig", {})
    env = dict(os.environ)
    if context.request.get("EnableNetworkIsolation"):
        # SageMaker gives a network-isolated container no AWS credentials (and no network, which
        # a local process cannot be denied): a script that calls AWS fails as it would there.
        for name in list(env):
            if name in _AWS_ACCESS_VARIABLES or name.startswith("AWS_CONTAINER_"):
                del env[name]
        # ... nor may it fall back to this machine's own AWS configuration.
        env.update({"AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_CONFIG_FILE": os.devnull,
                    "AWS_EC2_METADATA_DISABLED": "true"})
    # A real container has its instance to itself; local jobs share this machine, and numerical
    # libraries spinning one thread per core in each job slow them all down. The job's
    # Environment can still set these.
    env.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    env.update(context.request.get("Environment") or {})
    env.update({
        "TRAINING_JOB_NAME": context.job_name,
        "SM_MODEL_DIR": str(directories["model"]),
        "SM_INPUT_DIR": str(directories["input"]),
        "SM_INPUT_CONFIG_DIR": str(directories["config"]),
        "SM_OUTPUT_DIR": str(directories["output"]),
        "SM_OUTPUT_DATA_DIR": str(directories["output_data"]),
        "SM_OUTPUT_INTERMEDIATE_DIR": str(directories["intermediate"]),
        "SM_CHANNELS": json.dumps(channels),
        "SM_HPS": json.dumps(hyperparameters),
        "SM_HOSTS": json.dumps([_HOST]),
        "SM_CURRENT_HOST": _HOST,
        "SM_CURRENT_INSTANCE_TYPE": str(resource.get("InstanceType", "")),
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NUM_GPUS": "0",
        "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_RESOURCE_CONFIG": json.dumps(_resource_config()),
        "SM_INPUT_DATA_CONFIG": (directories["config"] / "inputdataconfig.json").read_text(encoding="utf-8"),
        "SM_USER_ARGS": json.dumps([part for name, value in hyperparameters.items() for part in (f"--{name}", value)]),
    })
    for name in channels:
        channel = context.channels[name]
        location = directories["data"] / (f"{name}_0" if channel.input_mode == "Pipe" else name)
        env[f"SM_CHANNEL_{name.upper()}"] = str(location)
    for name, value in hyperparameters.items():
        env[f"SM_HP_{name.upper()}"] = value
    return env


def _metric_patterns(definitions: list[dict]) -> list[tuple[str, re.Pattern[str]]]:
    patterns = []
    for definition in definitions:
        try:
            patterns.append((definition["Name"], re.compile(definition["Regex"])))
        except (KeyError, re.error) as error:
            raise TrainingClientError(f"MetricDefinitions: {definition!r} is not a usable regex ({error})") from None
    return patterns
