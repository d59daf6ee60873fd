"""Lambda functions run in-process: the handler the template names (CodeUri + Handler).

What the function prints (Powertools logs JSON to stdout) is captured per invocation, like
the Lambda runtime does, and handed to a log sink (the engine writes it to the emulated
CloudWatch Logs group ``/aws/lambda/<function>``) instead of the terminal. An uncaught
exception is logged as the Python runtime logs it (``[ERROR] Type: message`` + traceback).

The function's Timeout is enforced: the handler runs on a thread of its own, and when it has
not returned after ``timeout`` seconds the invocation fails as Lambda fails it (errorType
``Sandbox.Timedout``, "Task timed out after N seconds" in the payload and the log), which
Step Functions reports as the Task's error. Loading the handler module (Lambda's Init phase)
is not counted. Lambda then throws the sandbox away; a thread cannot be killed, so the
handler's thread runs on, but its output is no longer recorded, and the ``on_timeout``
callbacks (the engine's fault injection) release whatever it is blocked in.

Not emulated: per-function environment variables (os.environ is shared by the process;
``lambda_environment`` builds the one environment every function of a template can share).
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, TextIO

from . import error_shapes

# (function name, log stream name, lines): where the engine writes an invocation's output.
LogSink = Callable[[str, str, list[str]], None]
# The errorType Lambda returns for an invocation that ran out of time (error_shapes: its one home).
TIMEOUT_ERROR_TYPE = error_shapes.LAMBDA_TIMEOUT_ERROR


@dataclass(frozen=True)
class FunctionCode:
    """One deployed function as the runtime needs it."""

    function_name: str
    function_arn: str
    code_dir: Path
    handler: str  # "module.function", as in the template
    memory_size: int = 128
    timeout: float = 3  # seconds, the template's Timeout


class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    def __init__(self, code: FunctionCode, request_id: str):
        self.function_name = code.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = code.function_arn
        self.memory_limit_in_mb = code.memory_size
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{code.function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._deadline = time.monotonic() + code.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class InProcessFunction:
    """Invokes one function's handler; callable as moto's ``_invoke_lambda`` replacement."""

    def __init__(self, code: FunctionCode, log_sink: LogSink | None = None,
                 on_timeout: Callable[[str], None] | None = None):
        """``on_timeout(request_id)`` is called when an invocation times out."""
        self.code = code
        self._log_sink = log_sink
        self._on_timeout = on_timeout
        self._handler: Callable[[Any, Any], Any] | None = None
        self._load_lock = threading.Lock()

    @property
    def module(self) -> ModuleType:
        """The loaded handler module (loading it if no invocation has yet)."""
        self._load()
        return sys.modules[module_name_for(self.code)]

    def __call__(self, event: Any) -> tuple[str, bool, str]:
        """(payload JSON, errored, log tail). An uncaught exception becomes the runtime's error
        payload, whose errorType Step Functions uses as the state's error name; so does a timeout."""
        if isinstance(event, (str, bytes)):
            event = json.loads(event or "{}")
        request_id = str(uuid.uuid4())
        output = io.StringIO()
        try:
            with _captured_output(output):
                handler = self._load()  # Lambda's Init phase: not part of the invocation's timeout
        except Exception as error:
            handler, load_error = None, error
        context = LambdaContext(self.code, request_id)
        started = time.monotonic()
        outcome: dict[str, Any] = {}
        finished = threading.Event()

        def invoke() -> None:
            with _captured_output(output):
                try:
                    if handler is None:
                        raise load_error
                    outcome["payload"], outcome["errored"] = json.dumps(handler(event, context)), False
                except Exception as error:  # the Lambda runtime reports every uncaught exception
                    outcome["payload"], outcome["errored"] = json.dumps(_error_payload(error, request_id)), True
                    print(_runtime_error_log(error))
                except BaseException as error:  # sys.exit() and the like end the runtime process
                    outcome["payload"], outcome["errored"] = json.dumps({
                        "errorType": error_shapes.LAMBDA_EXIT_ERROR,
                        "errorMessage": f"RequestId: {request_id} Error: Runtime exited ({type(error).__name__})"}), True
                finally:
                    finished.set()

        worker = threading.Thread(target=invoke, name=f"lambda-{self.code.function_name}-{request_id[:8]}", daemon=True)
        worker.start()
        timed_out = not finished.wait(self.code.timeout)
        duration_ms = (time.monotonic() - started) * 1000
        printed = output.getvalue().splitlines()  # a timed-out handler's later output is lost, as in Lambda
        if timed_out:
            message = f"Task timed out after {self.code.timeout:.2f} seconds"
            payload, errored = json.dumps({"errorType": TIMEOUT_ERROR_TYPE,
                                           "errorMessage": f"RequestId: {request_id} Error: {message}"}), True
            printed.append(f"{datetime.now(timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')} "
                           f"{request_id} {message}")
            if self._on_timeout is not None:
                self._on_timeout(request_id)
        else:
            payload, errored = outcome["payload"], outcome["errored"]
        status = "\tStatus: timeout" if timed_out else ""
        lines = [f"START RequestId: {request_id} Version: $LATEST", *printed,
                 f"END RequestId: {request_id}",
                 f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tMemory Size: {self.code.memory_size} MB{status}"]
        if self._log_sink is not None:
            try:
                self._log_sink(self.code.function_name, context.log_stream_name, lines)
            except Exception:  # losing a log must not fail the invocation (nor does it in Lambda)
                pass
        return payload, errored, "\n".join(lines[-20:])

    def _load(self) -> Callable[[Any, Any], Any]:
        with self._load_lock:
            if self._handler is None:
                install_output_routing()  # the module's loggers bind sys.stdout when it is imported
                self._handler = load_handler(self.code)
            return self._handler


def load_handler(code: FunctionCode) -> Callable[[Any, Any], Any]:
    """Import ``code.handler`` from ``code.code_dir`` under a module name of its own, so that two
    functions with an ``app.py`` each never share a module."""
    module_name, _, function_name = code.handler.rpartition(".")
    if not module_name:
        raise ValueError(f"Handler {code.handler!r} of {code.function_name} is not 'module.function'")
    source = code.code_dir / (module_name.replace(".", "/") + ".py")
    if not source.is_file():
        raise FileNotFoundError(f"{code.function_name}: handler module {source} does not exist")
    # Lambda puts the code directory on sys.path, so the handler's sibling modules import.
    if str(code.code_dir) not in sys.path:
        sys.path.append(str(code.code_dir))
    unique_name = module_name_for(code)
    spec = importlib.util.spec_from_file_location(unique_name, source)
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[unique_name] = module  # dataclasses and pickling look modules up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(unique_name, None)
        raise
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise AttributeError(f"{code.function_name}: {source} has no function {function_name!r}")
    return handler


def module_name_for(code: FunctionCode) -> str:
    """The name the handler module is loaded under (in sys.modules)."""
    module_name = code.handler.rpartition(".")[0]
    return f"smx_lambda__{_identifier(code.function_name)}__{_identifier(module_name)}"


def _identifier(name: str) -> str:
    return "".join(char if char.isalnum() else "_" for char in name)


def _runtime_error_log(error: BaseException) -> str:
    """What the Python runtime writes to the function's log for an uncaught exception."""
    trace = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
    return f"[ERROR] {type(error).__name__}: {error}\nTraceback (most recent call last):\n{trace}".rstrip("\n")


def _error_payload(error: BaseException, request_id: str) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)),
    }


# --- per-invocation output capture -----------------------------------------------------------

_routing = threading.local()
_install_lock = threading.Lock()


class _ThreadRoutedStream(io.TextIOBase):
    """sys.stdout/sys.stderr stand-in: writes from a thread that is running a handler go to that
    invocation's buffer, every other write to the stream it replaced."""

    def __init__(self, fallback: TextIO):
        self._fallback = fallback

    def write(self, text: str) -> int:
        buffer = getattr(_routing, "buffer", None)
        return (buffer or self._fallback).write(text)

    def flush(self) -> None:
        if getattr(_routing, "buffer", None) is None:
            self._fallback.flush()

    def isatty(self) -> bool:
        return getattr(_routing, "buffer", None) is None and self._fallback.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._fallback, "encoding", "utf-8")


def install_output_routing() -> None:
    """Make sys.stdout/sys.stderr route per thread. Installed lazily and re-installed if something
    (pytest's capsys) swapped the streams since; loggers created meanwhile keep a router, and
    all routers share the thread-local routing. Handler modules must be loaded after this, so
    that the loggers they create at import time write through a router."""
    with _install_lock:
        if not isinstance(sys.stdout, _ThreadRoutedStream):
            sys.stdout = _ThreadRoutedStream(sys.stdout)
        if not isinstance(sys.stderr, _ThreadRoutedStream):
            sys.stderr = _ThreadRoutedStream(sys.stderr)


class _captured_output:
    """Routes this thread's writes to stdout/stderr into a buffer for the ``with`` block."""

    def __init__(self, buffer: io.StringIO | None = None):
        self._buffer = buffer if buffer is not None else io.StringIO()

    def __enter__(self) -> io.StringIO:
        install_output_routing()
        self._previous = getattr(_routing, "buffer", None)
        _routing.buffer = self._buffer
        return self._buffer

    def __exit__(self, *exc: Any) -> None:
        _routing.buffer = self._previous


def lambda_environment(functions: dict[str, dict[str, str]]) -> dict[str, str]:
    """One environment for every function of a template (they share this process's os.environ).

    Raises when two functions need different values for one variable: running them in one
    process would silently give one of them the wrong value.
    """
    merged: dict[str, str] = {}
    owners: dict[str, str] = {}
    for function_name, variables in functions.items():
        for key, value in variables.items():
            if key in merged and merged[key] != value:
                raise ValueError(
                    f"Environment variable {key} differs between {owners[key]} ({merged[key]!r}) and "
                    f"{function_name} ({value!r}): the local engine runs every function in one process")
            merged[key], owners[key] = value, function_name
    return merged
