"""What a local trainer sees of its training job, and how it reports back.

A trainer plays one SageMaker training image: it reads the job's channels the way that
container reads them, honours its hyperparameters, writes the model into ``model_dir`` and
reports metrics under the algorithm's own names. The training service
(``smx_validator.local.training_jobs``) turns that into DescribeTrainingJob's fields.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

from .channels import Channel, ChannelReader


class TrainingClientError(Exception):
    """A problem with the job's request or data: SageMaker reports it as ``ClientError: ...``."""


class TrainingAlgorithmError(Exception):
    """The algorithm itself failed: SageMaker reports it as ``AlgorithmError: ...``."""


class TrainingStopped(Exception):
    """Raised by ``TrainingContext.check_stopping`` once the job is being stopped."""


class Trainer(Protocol):
    algorithm: str

    def train(self, context: "TrainingContext") -> None:
        """Train, write the model into ``context.model_dir`` and report the final metrics."""


@dataclass
class TrainingContext:
    """One job's view of its container: request, channels, directories, stop signal."""

    job_name: str
    hyperparameters: "HyperParameters"
    channels: dict[str, Channel]
    reader_for: Callable[[Channel], ChannelReader]
    model_dir: Path
    work_dir: Path
    request: dict[str, Any]
    stop_requested: threading.Event
    on_training_started: Callable[[], None] = lambda: None
    metrics: dict[str, float] = field(default_factory=dict)
    log_lines: list[str] = field(default_factory=list)
    _stop_callbacks: list[Callable[[], None]] = field(default_factory=list)

    def channel(self, name: str, *, required: bool = True) -> ChannelReader | None:
        channel = self.channels.get(name)
        if channel is None:
            if required:
                raise TrainingClientError(
                    f"Required channel '{name}' is missing; the job has channels {sorted(self.channels) or 'none'}")
            return None
        return self.reader_for(channel)

    def report_metric(self, name: str, value: float) -> None:
        """The last value reported under a name is the job's final value, as SageMaker keeps it."""
        self.metrics[name] = float(value)
        self.log(f"#metric: {name}={value:.6g}")

    def training_started(self) -> None:
        """The channels are read: SecondaryStatus moves from Downloading to Training."""
        self.on_training_started()

    def log(self, line: str) -> None:
        self.log_lines.append(line)

    @property
    def stopping(self) -> bool:
        return self.stop_requested.is_set()

    def check_stopping(self) -> None:
        """Trainers call this between epochs: a stopped job ends there, as SIGTERM would end it."""
        if self.stopping:
            raise TrainingStopped()

    def on_stop(self, callback: Callable[[], None]) -> None:
        """``callback`` runs when the job is stopped (e.g. to terminate a subprocess), at once if
        it already is: a stop may arrive before the trainer registered its callback."""
        self._stop_callbacks.append(callback)
        if self.stopping:
            callback()

    def run_stop_callbacks(self) -> None:
        for callback in self._stop_callbacks:
            callback()


class HyperParameters:
    """A job's HyperParameters (all strings, as SageMaker passes them) read the way an algorithm
    reads them: typed, with its defaults, and refusing names the algorithm does not know."""

    def __init__(self, values: dict[str, str], *, algorithm: str):
        self.values = dict(values)
        self.algorithm = algorithm

    def reject_unknown(self, known: Iterable[str]) -> None:
        # Names starting with "_" are SageMaker's own and reach every container.
        unknown = sorted(name for name in set(self.values) - set(known) if not name.startswith("_"))
        if unknown:
            raise TrainingClientError(
                f"Additional hyperparameters are not allowed ({', '.join(repr(name) for name in unknown)} "
                f"{'was' if len(unknown) == 1 else 'were'} unexpected) for {self.algorithm}")

    def has(self, name: str) -> bool:
        return self._given(name) is not None

    def string(self, name: str, default: str | None = None, *, choices: Iterable[str] | None = None) -> str:
        value = self.values.get(name, default)
        if value is None:
            raise TrainingClientError(f"Missing required hyperparameter: {name}")
        value = str(value).strip()
        if choices is not None and value not in set(choices):
            raise TrainingClientError(
                f"Hyperparameter {name}: {value!r} is not one of {', '.join(sorted(set(choices)))}")
        return value

    def _given(self, name: str) -> str | None:
        """The value as given, or None when it is absent or "auto" (the algorithm's default applies)."""
        raw = self.values.get(name)
        return None if raw is None or raw.strip().lower() == "auto" else raw

    @staticmethod
    def _default(name: str, default):
        if default is None:
            raise TrainingClientError(f"Missing required hyperparameter: {name}")
        return default

    def integer(self, name: str, default: int | None = None, *, minimum: int | None = None,
                maximum: int | None = None) -> int:
        raw = self._given(name)
        if raw is None:
            return self._default(name, default)
        try:
            value = int(float(raw)) if float(raw).is_integer() else None
        except ValueError:
            value = None
        if value is None:
            raise TrainingClientError(f"Hyperparameter {name}: {raw!r} is not an integer")
        self._check_range(name, value, minimum, maximum)
        return value

    def number(self, name: str, default: float | None = None, *, minimum: float | None = None,
               maximum: float | None = None) -> float:
        raw = self._given(name)
        if raw is None:
            return self._default(name, default)
        try:
            value = float(raw)
        except ValueError:
            raise TrainingClientError(f"Hyperparameter {name}: {raw!r} is not a number") from None
        self._check_range(name, value, minimum, maximum)
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self._given(name)
        if raw is None:
            return default
        lowered = raw.strip().lower()
        if lowered in {"true", "1"}:
            return True
        if lowered in {"false", "0"}:
            return False
        raise TrainingClientError(f"Hyperparameter {name}: {raw!r} is not true or false")

    @staticmethod
    def _check_range(name: str, value: float, minimum: float | None, maximum: float | None) -> None:
        if minimum is not None and value < minimum:
            raise TrainingClientError(f"Hyperparameter {name}: {value} is less than the minimum {minimum}")
        if maximum is not None and value > maximum:
            raise TrainingClientError(f"Hyperparameter {name}: {value} is greater than the maximum {maximum}")
