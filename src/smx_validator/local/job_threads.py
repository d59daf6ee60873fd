"""What the engine's local job services share: each job on threads of its own, waited for together, and create
requests a test may have refused before any job exists (ThrottlingException, ResourceLimitExceeded).

``training_jobs.TrainingJobService`` and ``transform_jobs.TransformJobService`` build on it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from .moto_bridge import SageMakerApiError


@dataclass
class _InjectedError:
    code: str
    message: str
    remaining: int
    matches: Callable[[str], bool]


class JobThreads:
    """Thread-safe: one lock guards every service's own state too (``self._lock``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._injected: list[_InjectedError] = []

    def inject_create_error(self, code: str, message: str, *, times: int = 1,
                            job_names: Callable[[str], bool] = lambda name: True) -> None:
        """The next ``times`` create requests whose job name ``job_names`` accepts are refused with ``code``
        (e.g. ThrottlingException) before any job exists."""
        with self._lock:
            self._injected.append(_InjectedError(code, message, times, job_names))

    def wait_until_idle(self, timeout: float | None = None) -> bool:
        """True once every thread of every job has finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                alive = [thread for thread in self._threads if thread.is_alive()]
                self._threads = alive
            if not alive:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            alive[0].join(remaining)

    def _refuse_if_injected(self, name: str) -> None:
        """Raise the injected refusal this create request meets, if any (one of its ``times`` is used)."""
        with self._lock:
            for injected in self._injected:
                if injected.remaining > 0 and injected.matches(name):
                    injected.remaining -= 1
                    raise SageMakerApiError(injected.code, injected.message)

    def _start_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.append(thread)
        thread.start()
