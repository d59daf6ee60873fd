"""Ctrl-C and SIGTERM for the CLI: both interrupt the command the same way (KeyboardInterrupt), so that
``local run``, ``local serve`` and ``start --wait`` stop what they started and say what is kept, and a
second interrupt during that cleanup ends the command at once, without a traceback. The exit code is
the shell's convention, 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM)."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator

_received: list[int] = []


def interrupted_exit_code() -> int:
    return 128 + (_received[-1] if _received else signal.SIGINT)


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt again if a signal arrived inside the block: the handler's own raise can
    land in library code that swallows it (a cleanup's ``except BaseException``), and a wait loop that
    calls this between polls still stops within one poll."""
    if _received:
        raise KeyboardInterrupt


@contextmanager
def interruptible() -> Iterator[None]:
    """While the block runs (in the main thread), SIGINT and SIGTERM raise KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received.clear()

    def interrupt(signum: int, frame: Any) -> None:
        _received.append(signum)
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
