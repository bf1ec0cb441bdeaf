# SPDX-License-Identifier: MIT
"""Running a command to completion with its output captured (run.h), on a private loop
(run) or on a Loop (Loop.run_async). Errors before the start (a missing program, bad
options) raise Error; what happened to the child is in the Result."""
import ctypes
import errno
import math
import subprocess

from . import _native as n
from .errors import Error, check
from .fd import Fd
from .fs import Dir
from .loop import Loop, Op, _on_pointer
from .process import BACKEND_AUTO, Usage

INHERIT, CAPTURE, DISCARD, MERGE = n.FDK_RUN_INHERIT, n.FDK_RUN_CAPTURE, n.FDK_RUN_DISCARD, n.FDK_RUN_MERGE
CANCEL_NONE, CANCEL_KILL, CANCEL_GRACEFUL = n.FDK_RUN_CANCEL_NONE, n.FDK_RUN_CANCEL_KILL, n.FDK_RUN_CANCEL_GRACEFUL


class Result:
    """exit_code (None when killed), signal (None unless killed), stdout and stderr bytes,
    timed_out, truncated, early_exit (the early_exit predicate stopped it),
    pipes_abandoned (a descendant kept a captured pipe open past the grace: output may be
    incomplete), pid, duration_ns, usage (a Usage)."""

    def __init__(self, raw):
        kind, value = ctypes.c_int(), ctypes.c_int()
        check(n.fdk_run_result_status(raw, ctypes.byref(kind), ctypes.byref(value)))
        self.exit_code = value.value if kind.value == n.FDK_EXIT_CODE else None
        self.signal = value.value if kind.value == n.FDK_EXIT_SIGNAL else None
        self.stdout = self._bytes(n.fdk_run_result_stdout, raw)
        self.stderr = self._bytes(n.fdk_run_result_stderr, raw)
        self.timed_out = bool(n.fdk_run_result_timed_out(raw))
        self.truncated = bool(n.fdk_run_result_truncated(raw))
        self.early_exit = bool(n.fdk_run_result_early_exit(raw))
        self.pipes_abandoned = bool(n.fdk_run_result_pipes_abandoned(raw))
        self.pid = n.fdk_run_result_pid(raw)
        self.duration_ns = n.fdk_run_result_duration_ns(raw)
        usage = n.rusage()
        check(n.fdk_run_result_rusage(raw, ctypes.byref(usage)))
        self.usage = Usage(usage)

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
    """The C options of one run; what they point at stays referenced here (the early-exit
    predicate until the run ended: keep the _Options as long)."""

    def __init__(self, argv, stdin=None, stdout=CAPTURE, stderr=CAPTURE, timeout_ms=None, max_output=None, env=None,
                 cwd=None, new_group=False, start_new_session=False, process_group=None, cancel=None,
                 kill_grace_ms=1000, stop_signal=None, stop_at_max_output=False, close_fds=False, pass_fds=(),
                 early_exit=None, backend=BACKEND_AUTO):
        self.raw = n.handle()
        self.error = None  # an exception the early-exit predicate raised
        c_argv, self._keep = _argv(argv)
        check(n.fdk_run_opts_new(ctypes.byref(self.raw), c_argv))
        try:
            self._stdin(stdin)
            check(n.fdk_run_opts_set_stdout(self.raw, stdout))
            check(n.fdk_run_opts_set_stderr(self.raw, stderr))
            if timeout_ms is not None:
                check(n.fdk_run_opts_set_timeout(self.raw, timeout_ms))
            if max_output is not None:
                check(n.fdk_run_opts_set_max_output(self.raw, max_output))
            if env is not None:
                c_env, self._env = _argv(f"{k}={v}" for k, v in env.items())
                check(n.fdk_run_opts_set_env(self.raw, c_env))
            self._cwd(cwd)
            self._group(new_group, start_new_session, process_group)
            if cancel is not None:
                check(n.fdk_run_opts_set_cancel(self.raw, cancel, kill_grace_ms))
            if stop_signal is not None:
                check(n.fdk_run_opts_set_stop_signal(self.raw, stop_signal))
            if stop_at_max_output:
                check(n.fdk_run_opts_set_stop_at_max_output(self.raw, 1))
            self._fds(close_fds, pass_fds)
            if early_exit is not None:
                self._predicate = self._early_exit(early_exit)
                check(n.fdk_run_opts_set_early_exit(self.raw, self._predicate, None))
            check(n.fdk_run_opts_set_backend(self.raw, backend))
        except BaseException:
            self.free()
            raise

    def _stdin(self, stdin):
        """bytes (fed to the child), or an Fd the child gets as descriptor 0."""
        if isinstance(stdin, Fd):
            check(n.fdk_run_opts_set_stdin_fd(self.raw, stdin._live))
        elif stdin is not None:
            self._stdin_bytes = bytes(stdin)
            check(n.fdk_run_opts_set_stdin_bytes(self.raw, self._stdin_bytes, len(self._stdin_bytes)))

    def _cwd(self, cwd):
        """A Dir, an Fd open on a directory, or a path."""
        if isinstance(cwd, Dir):
            check(n.fdk_run_opts_set_cwd_dir(self.raw, cwd._live))
        elif isinstance(cwd, Fd):
            check(n.fdk_run_opts_set_cwd_fd(self.raw, cwd._live))
        elif cwd is not None:
            check(n.fdk_run_opts_set_cwd(self.raw, n.c_string(cwd)))

    def _group(self, new_group, start_new_session, process_group):
        if new_group:
            check(n.fdk_run_opts_set_group(self.raw, n.FDK_RUN_GROUP_NEW, 0))
        if start_new_session:
            check(n.fdk_run_opts_set_group(self.raw, n.FDK_RUN_GROUP_SESSION, 0))
        if process_group:
            check(n.fdk_run_opts_set_group(self.raw, n.FDK_RUN_GROUP_JOIN, process_group))
        elif process_group == 0:
            check(n.fdk_run_opts_set_group(self.raw, n.FDK_RUN_GROUP_NEW, 0))

    def _fds(self, close_fds, pass_fds):
        """As subprocess: close_fds keeps none beyond 0-2; pass_fds keeps exactly those."""
        if pass_fds:
            keep = (ctypes.c_int * len(pass_fds))(*pass_fds)
            check(n.fdk_run_opts_set_fds(self.raw, n.FDK_RUN_FDS_ALLOWLIST, keep, len(pass_fds)))
        elif close_fds:
            check(n.fdk_run_opts_set_fds(self.raw, n.FDK_RUN_FDS_CLOSE_FROM_3, None, 0))

    def _early_exit(self, predicate):
        @n.EARLY_EXIT_FN
        def call(data, length, _arg):
            if self.error is not None:
                return 1
            try:
                return 1 if predicate(ctypes.string_at(data, length) if length else b"") else 0
            except BaseException as e:  # never into C: stop the run, raise it from run()
                self.error = e
                return 1
        return call

    def raise_error(self):
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def free(self):
        if self.raw:
            n.fdk_run_opts_free(self.raw)
            self.raw = None


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
    is stopped by the cancel policy and TimeoutExpired raised. Options:
    - stdin: bytes, or an Fd the child reads as descriptor 0.
    - stdout / stderr: CAPTURE (the default), INHERIT, DISCARD; stderr also MERGE.
    - timeout_ms: the same stop, reported as Result.timed_out instead of raised.
    - cancel: CANCEL_KILL (the default), CANCEL_GRACEFUL (stop_signal, default SIGTERM,
      then SIGKILL kill_grace_ms later), CANCEL_NONE (wait, only report the overrun).
      kill_grace_ms is also how long pipes a descendant keeps open are waited for.
    - max_output: bytes kept over both streams; stop_at_max_output stops the child there.
    - early_exit: predicate(stdout so far) -> true stops the child (Result.early_exit).
      It runs on the thread running the run; an exception in it stops the child and is
      raised from run (from Loop.run for run_async).
    - env (a dict replacing the environment), cwd (a Dir, an Fd or a path).
    - new_group, start_new_session, process_group (a leader to join; 0: a new group).
    - close_fds (keep no descriptor beyond 0-2), pass_fds (keep exactly these).
    - backend: process.BACKEND_*."""
    if timeout is not None:
        options["timeout_ms"] = max(1, math.ceil(timeout * 1000))
    opts = _Options(argv, **options)
    try:
        raw = n.handle()
        check(n.fdk_run(ctypes.byref(raw), opts.raw))
        result = _result(raw)
        opts.raise_error()
    finally:
        opts.free()
    if timeout is not None and result.timed_out:
        raise TimeoutExpired(list(argv), timeout, result)
    return result


class RunOp(Op):
    """The pending run of Loop.run_async: cancel() applies the cancel policy (done still
    gets the Result), signal(sig) passes a signal on to the child (or its group)."""

    def signal(self, sig):
        """ProcessLookupError (ESRCH) once the child exited or the run completed."""
        if not self.pending:
            raise Error(errno.ESRCH, "the run has completed")
        check(n.fdk_run_signal(self._raw, sig))


def _run_async(self, argv, done, **options):
    """done(Result) or done(Error) on this loop; returns a RunOp. The same options as
    run() but timeout (use timeout_ms)."""
    opts = _Options(argv, **options)

    def finish(result, res):
        outcome = Error.last(result) if result < 0 else _result(n.handle(res))
        opts.raise_error()
        done(outcome)

    try:
        # The C options are copied by the call and may go at once; opts (the early-exit
        # predicate) stays referenced by the pending entry until the run ended.
        op = self._start(finish, opts, lambda _cb, key, op: n.fdk_run_async(self._live, opts.raw, _on_pointer, key, op))
    finally:
        opts.free()
    return RunOp(op._key, op._raw)


Loop.run_async = _run_async
