"""Custom training scripts run in a process group of their own: a stop ends them even when they
ignore SIGTERM, a job ends when its script exits even if a child still holds its output, nothing
outlives the job, and output that is not UTF-8 does not fail it."""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import time
from pathlib import Path

from smx_validator.local.trainers import custom_script


def _run(tmp_path: Path, body: str, *, stop_after: float | None = None) -> tuple[int, list[str], float]:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    lines: list[str] = []
    callbacks: list = []
    if stop_after is not None:
        threading.Timer(stop_after, lambda: [callback() for callback in callbacks]).start()
    started = time.monotonic()
    code = custom_script.run_script([sys.executable, str(script)], cwd=tmp_path, env=dict(os.environ),
                                    on_line=lines.append, on_stop=callbacks.append)
    return code, lines, time.monotonic() - started


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose (its parent, reaped by init, is gone).
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def test_a_script_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    # GIVEN a script that ignores SIGTERM and would train for a minute
    code, lines, elapsed = _run(tmp_path, """
        import os, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print(os.getpid(), flush=True)
        time.sleep(60)
    """, stop_after=0.5)
    # WHEN the job is stopped THEN it ends within the grace period (SIGKILL), and the process is gone
    assert elapsed < 0.5 + custom_script.STOP_GRACE_SECONDS + 2
    assert code != 0 and not _alive(int(lines[0]))


def test_a_job_ends_when_its_script_exits_even_if_a_child_holds_its_output(tmp_path):
    # GIVEN a script that starts a child inheriting its stdout, then exits
    code, lines, elapsed = _run(tmp_path, """
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(child.pid, flush=True)
    """)
    # THEN the job ends about DRAIN_SECONDS later, not when the child ends, and the child is killed with it
    assert code == 0 and elapsed < custom_script.DRAIN_SECONDS + 3
    time.sleep(0.2)
    assert not _alive(int(lines[0]))


def test_output_that_is_not_utf8_does_not_fail_the_job(tmp_path):
    # GIVEN a script that prints Latin-1 bytes, then a metric line
    code, lines, _ = _run(tmp_path, """
        import sys
        sys.stdout.buffer.write(b"\\xe9t\\xe9 caf\\xe9\\n")
        print("score: 0.5")
    """)
    # THEN the job succeeds and both lines are read (the undecodable bytes replaced)
    assert code == 0 and lines == ["\ufffdt\ufffd caf\ufffd", "score: 0.5"]
