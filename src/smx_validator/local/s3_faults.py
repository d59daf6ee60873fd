"""S3 object writes that fail or hang, on request (tests and doc/faults.md).

The moto bridge calls ``intercept`` before every PutObject, UploadPart and CopyObject the emulated
S3 receives; a registered fault whose key filter accepts the write refuses it with an S3 error
code, or holds it until the Lambda invocation that made it times out.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from . import moto_bridge

KeyFilter = Callable[[str, str], bool]


@dataclass
class _S3PutFault:
    keys: KeyFilter
    remaining: int
    error: tuple[str, str] | None = None
    hang: bool = False
    hang_limit: float = 60.0


class S3PutFaults:
    def __init__(self) -> None:
        self._faults: list[_S3PutFault] = []
        self._lock = threading.Lock()
        self._hung_writes: set[threading.Event] = set()  # one per write now hanging

    def inject_error(self, code: str, message: str, *, keys: KeyFilter, times: int = 1) -> None:
        """The next ``times`` object writes whose (bucket, key) ``keys`` accepts are refused by S3
        with ``code`` (e.g. AccessDenied, as a bucket policy or a KMS key policy refuses them)."""
        with self._lock:
            self._faults.append(_S3PutFault(keys, times, error=(code, message)))

    def hang(self, *, keys: KeyFilter, times: int = 1, limit_seconds: float = 60.0) -> None:
        """The next ``times`` object writes whose (bucket, key) ``keys`` accepts never complete: they
        block until a Lambda invocation times out (Lambda then stops the sandbox that made them; here
        they fail, and are not retried) or ``limit_seconds`` pass. A stalled S3 transfer or a
        dataset too big for the function's Timeout looks like this."""
        with self._lock:
            self._faults.append(_S3PutFault(keys, times, hang=True, hang_limit=limit_seconds))

    def intercept(self, bucket: str, key: str) -> None:
        """Called by the moto bridge before a write: raise the fault it meets, if any."""
        with self._lock:
            fault = next((f for f in self._faults if f.remaining > 0 and f.keys(bucket, key)), None)
            if fault is None:
                return
            fault.remaining -= 1
        if fault.error is not None:
            raise moto_bridge.S3ApiError(*fault.error)
        # Each write hangs on its own: a timeout releases the writes hanging then, not later ones
        # (a retried invocation meets the fault again while it has times left).
        released = threading.Event()
        with self._lock:
            self._hung_writes.add(released)
        try:
            released.wait(fault.hang_limit)
        finally:
            with self._lock:
                self._hung_writes.discard(released)
        raise moto_bridge.S3ApiError(
            "LocalEngine.SandboxStopped", "the write never completed: the Lambda invocation making it timed out")

    def release_hung_writes(self, request_id: str | None = None) -> None:
        """Fail every write hanging now (a Lambda invocation timed out: its sandbox is gone)."""
        with self._lock:
            for released in self._hung_writes:
                released.set()
