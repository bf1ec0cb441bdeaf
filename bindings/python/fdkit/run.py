# SPDX-License-Identifier: MIT
"""Running a command to completion with its output captured (run.h), on a private loop
(run) or on a Loop (Loop.run_async). Errors before the start (a missing program, bad
options) raise Error; what happened to the child is in the Result."""
import ctypes
import math
import subprocess

from . import _native as n
from .errors import Error, check
from .loop import Loop, _deliver

INHERIT, CAPTURE, DISCARD, MERGE = n.FDK_RUN_INHERIT, n.FDK_RUN_CAPTURE, n.FDK_RUN_DISCARD, n.FDK_RUN_MERGE


class Result:
    """exit_code (None when killed), signal (None unless killed), stdout and stderr bytes,
    timed_out, truncated, pid."""

    def __init__(self, raw):
        kind, value = ctypes.c_int(), ctypes.c_int()
        check(n.fdk_run_result_status(raw, ctypes.byref(kind), ctypes.byref(value)))
        self.exit_code = value.value if kind.value == n.FDK_EXIT_CODE else None
        self.signal = value.value if kind.value == n.FDK_EXIT_SIGNAL else None
        self.stdout = self._bytes(n.fdk_run_result_stdout, raw)
        self.stderr = self._bytes(n.fdk_run_result_stderr, raw)
        self.timed_out = bool(n.fdk_run_result_timed_out(raw))
        self.truncated = bool(n.fdk_run_result_truncated(raw))
        self.pid = n.fdk_run_result_pid(raw)

    @property
    def returncode(self):
        """As subprocess gives it: the exit code, or -signal for a child killed by one."""
        return self.exit_code if self.signal is None else -self.signal

    @staticmethod
    def _bytes(getter, raw):
        length = ctypes.c_size_t()
        ptr = getter(raw, ctypes.byref(length))
        return ctypes.string_at(ptr, length.value) if ptr else b""


def _argv(args):
    encoded = [n.c_string(a) for a in args]
    return (ctypes.c_char_p * (len(encoded) + 1))(*encoded, None), encoded


class _Options:
    """The C options of one run; keepalive holds what they point at."""

    def __init__(self, argv, stdin, stdout, stderr, timeout_ms, max_output, env, cwd, new_group):
        self.raw = n.handle()
        c_argv, self._keep = _argv(argv)
        check(n.fdk_run_opts_new(ctypes.byref(self.raw), c_argv))
        try:
            if stdin is not None:
                data = bytes(stdin)
                self._stdin = data
                check(n.fdk_run_opts_set_stdin_bytes(self.raw, data, len(data)))
            check(n.fdk_run_opts_set_stdout(self.raw, stdout))
            check(n.fdk_run_opts_set_stderr(self.raw, stderr))
            if timeout_ms is not None:
                check(n.fdk_run_opts_set_timeout(self.raw, timeout_ms))
            if max_output is not None:
                check(n.fdk_run_opts_set_max_output(self.raw, max_output))
            if env is not None:
                c_env, self._env = _argv(f"{k}={v}" for k, v in env.items())
                check(n.fdk_run_opts_set_env(self.raw, c_env))
            if cwd is not None:
                check(n.fdk_run_opts_set_cwd_dir(self.raw, cwd._raw))
            if new_group:
                check(n.fdk_run_opts_set_group(self.raw, n.FDK_RUN_GROUP_NEW, 0))
        except Error:
            self.free()
            raise

    def free(self):
        if self.raw:
            n.fdk_run_opts_free(self.raw)
            self.raw = None


def _options(argv, stdin=None, stdout=CAPTURE, stderr=CAPTURE, timeout_ms=None, max_output=None, env=None, cwd=None,
             new_group=False):
    return _Options(argv, stdin, stdout, stderr, timeout_ms, max_output, env, cwd, new_group)


def _result(raw):
    try:
        return Result(raw)
    finally:
        n.fdk_run_result_free(raw)


class TimeoutExpired(subprocess.TimeoutExpired):
    """run(..., timeout=seconds) passed its timeout: the child (and its group with new_group)
    was killed and reaped. output and stderr hold what was captured; result is the Result."""

    def __init__(self, cmd, timeout, result):
        super().__init__(cmd, timeout, output=result.stdout, stderr=result.stderr)
        self.result = result


def run(argv, timeout=None, **options):
    """Runs argv (PATH searched) to completion and returns its Result (returncode, stdout,
    stderr...). timeout is in seconds, as subprocess.run takes it: when it passes the child
    is killed and TimeoutExpired raised. Options: stdin (bytes), stdout / stderr (CAPTURE,
    the default, INHERIT, DISCARD; stderr also MERGE), timeout_ms (the same kill, reported
    as Result.timed_out instead of raised), max_output (bytes kept over both streams), env
    (a dict replacing the environment), cwd (a Dir the child starts in), new_group."""
    if timeout is not None:
        options["timeout_ms"] = max(1, math.ceil(timeout * 1000))
    opts = _options(argv, **options)
    try:
        raw = n.handle()
        check(n.fdk_run(ctypes.byref(raw), opts.raw))
        result = _result(raw)
    finally:
        opts.free()
    if timeout is not None and result.timed_out:
        raise TimeoutExpired(list(argv), timeout, result)
    return result


@n.RUN_CB
def _on_run(result, res, key):
    _deliver(key, result, res)


def _run_async(self, argv, done, **options):
    """done(Result) or done(Error) on this loop; the same options as run()."""
    opts = _options(argv, **options)

    def finish(result, res):
        done(Error.last(result) if result < 0 else _result(n.handle(res)))

    try:
        # The options are copied by the call: they may go at once.
        return self._start(finish, None, lambda _cb, key, op: n.fdk_run_async(self._raw, opts.raw, _on_run, key, op))
    finally:
        opts.free()


Loop.run_async = _run_async
