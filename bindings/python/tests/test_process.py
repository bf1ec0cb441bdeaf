# SPDX-License-Identifier: MIT
"""process.h: spawn with actions, waiting, signals, exit on the loop, a failing action."""
import errno
import gc
import os
import resource
import sys
import signal
import tempfile
import time

import fdkit
from support import TestCase


class ProcessTest(TestCase):
    def test_inherited_descriptor_cwd_and_exit_code(self):
        r, w = fdkit.pipe()
        with tempfile.TemporaryDirectory() as top:
            with fdkit.spawn(["sh", "-c", "pwd -P >&5; exit 7"], cwd=top, fds={5: w}, close_other_fds=True) as p:
                w.close()
                self.assertGreater(p.pid, 0)
                st = p.wait()
                self.assertEqual((st.exit_code, st.signal), (7, None))
            self.assertEqual(r.read(4096), os.path.realpath(top).encode() + b"\n")

    def test_signal_and_exit_on_the_loop(self):
        got = []
        with fdkit.Loop() as lp:
            with fdkit.spawn(["sleep", "30"], loop=lp, on_exit=got.append) as p:
                self.assertIsNone(p.try_wait())
                p.signal(signal.SIGTERM)
                lp.run()
                self.assertEqual(got, [None])
                self.assertEqual(p.try_wait().signal, signal.SIGTERM)
                with self.assertRaises(fdkit.Error) as caught:
                    p.signal(signal.SIGTERM)
                self.assertEqual(caught.exception.errno, errno.ESRCH)

    def test_collecting_the_handle_neither_kills_the_child_nor_drops_on_exit(self):
        # As subprocess.Popen: dropping the last reference leaves the child running, and the
        # on_exit callback of a spawn nobody keeps still runs (the binding roots it).
        exits = []
        with fdkit.Loop() as lp:
            fdkit.spawn(["sh", "-c", "sleep 0.2; exit 3"], loop=lp, on_exit=exits.append)
            gc.collect()
            started = time.monotonic()
            lp.run()
            self.assertEqual(exits, [None])
            self.assertGreaterEqual(time.monotonic() - started, 0.15, "the child was killed early")
            child = fdkit.spawn(["sleep", "30"], loop=lp, on_exit=exits.append)
            pid = child.pid
            del child
            gc.collect()
            os.kill(pid, 0)  # still running after its handle was collected
            os.kill(pid, signal.SIGKILL)
            lp.run()  # fdkit reaps it: no zombie is left
        self.assertEqual(exits, [None, None])
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)

    def test_calls_after_free_raise_value_error(self):
        # Never the -EINVAL of a NULL handle passed off as a pid.
        child = fdkit.spawn(["true"])
        child.wait()
        child.free()
        for call in (lambda: child.pid, child.wait, child.try_wait, lambda: child.signal(0)):
            with self.assertRaises(ValueError):
                call()

    def test_a_failing_action_names_itself(self):
        with self.assertRaises(fdkit.Error) as caught:
            fdkit.spawn(["true"], cwd="/nonexistent-dir")
        self.assertEqual(caught.exception.errno, errno.ENOENT)
        self.assertIn("chdir", caught.exception.detail)
        with self.assertRaises(fdkit.Error) as caught:
            fdkit.spawn(["no-such-program-anywhere"])
        self.assertEqual(caught.exception.errno, errno.ENOENT)


def _child_status(text, field):
    """A field of a child's /proc/PID/status as it printed it."""
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(field + ":")][0]


class SpawnActionsTest(TestCase):
    """Every spawn action, seen from inside the child."""

    def output_of(self, argv, fds=None, **kwargs):
        r, w = fdkit.pipe()
        with fdkit.spawn(argv, fds={1: w, **(fds or {})}, **kwargs) as p:
            w.close()
            status = p.wait()
        out = b""
        while True:
            chunk = r.read(65536)
            if not chunk:
                return status, out.decode()
            out += chunk

    def test_executable_env_and_raw_descriptors(self):
        status, out = self.output_of(["whatever-name", "-c", 'echo "$0 $ONLY"'], executable="/bin/sh",
                                     env={"ONLY": "this"})
        self.assertEqual((status.returncode, out), (0, "whatever-name this\n"))
        with self.assertRaises(FileNotFoundError):
            fdkit.spawn(["sh"], executable="sh")  # used as is: no PATH search
        rr, rw = os.pipe2(os.O_CLOEXEC)
        status, out = self.output_of(["sh", "-c", "echo raw >&7; ls /proc/self/fd"], fds={7: (rw, fdkit.process.INHERIT_BLOCKING)},
                                     close_other_fds=True)
        os.close(rw)
        self.assertEqual(os.read(rr, 16), b"raw\n")
        os.close(rr)
        self.assertEqual(sorted(int(x) for x in out.split()), [0, 1, 2, 3, 7])  # 3: ls's own directory

    def test_cwd_as_dir_and_fd(self):
        with tempfile.TemporaryDirectory() as top:
            with fdkit.Dir.at(top) as d:
                self.assertEqual(self.output_of(["pwd", "-P"], cwd=d)[1], os.path.realpath(top) + "\n")
                with d.fd() as fd:
                    self.assertEqual(self.output_of(["pwd", "-P"], cwd=fd)[1], os.path.realpath(top) + "\n")
            self.assertEqual(self.output_of(["pwd", "-P"], cwd=fdkit.Dir.cwd())[1], os.path.realpath(".") + "\n")

    def test_process_group_and_signal_group(self):
        with fdkit.spawn(["sh", "-c", "sleep 30 & wait"], process_group=0) as p:
            time.sleep(0.1)
            self.assertEqual(os.getpgid(p.pid), p.pid)
            p.signal_group(signal.SIGTERM)
            self.assertEqual(p.wait().signal, signal.SIGTERM)
            with self.assertRaises(ProcessLookupError):
                p.signal_group(signal.SIGTERM)
        with fdkit.spawn(["sleep", "30"]) as p:
            with self.assertRaises(fdkit.Error) as caught:  # it leads no group
                p.signal_group(0)
            self.assertEqual(caught.exception.errno, errno.ESRCH)

    def test_ids_umask_limits_and_no_new_privs(self):
        script = "umask; ulimit -n; id -u; id -g; id -G; grep -E '^(NoNewPrivs|SigIgn)' /proc/self/status"
        status, out = self.output_of(["sh", "-c", script], umask=0o027, rlimits={resource.RLIMIT_NOFILE: (77, 77)},
                                     no_new_privs=True)
        lines = out.splitlines()
        self.assertEqual(lines[:2], ["0027", "77"])
        self.assertEqual(_child_status(out, "NoNewPrivs"), "1")
        if os.geteuid() == 0:
            status, out = self.output_of(["sh", "-c", "id -u; id -g; id -G"], user=65534, group=65533,
                                         extra_groups=[65532, 65531])
            self.assertEqual(out.split("\n")[:3], ["65534", "65533", "65533 65531 65532"])
        else:
            with self.assertRaises(PermissionError):
                fdkit.spawn(["true"], user=0 if os.getuid() else 1)
        with self.assertRaises(fdkit.Error) as caught:
            fdkit.spawn(["true"], rlimits={resource.RLIMIT_NOFILE: (10, 5)})
        self.assertEqual(caught.exception.errno, errno.EINVAL)
        with self.assertRaises(fdkit.Error):
            fdkit.spawn(["true"], umask=0o1000)

    def test_signal_dispositions(self):
        old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
        try:
            bit = 1 << (signal.SIGHUP - 1)
            kept = int(_child_status(self.output_of(["grep", "SigIgn", "/proc/self/status"])[1], "SigIgn"), 16)
            reset = int(_child_status(self.output_of(["grep", "SigIgn", "/proc/self/status"],
                                                     signal_default=[signal.SIGHUP])[1], "SigIgn"), 16)
            ignored = int(_child_status(self.output_of(["grep", "SigIgn", "/proc/self/status"],
                                                       signal_ignore=[signal.SIGUSR2])[1], "SigIgn"), 16)
        finally:
            signal.signal(signal.SIGHUP, old)
        self.assertTrue(kept & bit)
        self.assertFalse(reset & bit)
        self.assertTrue(ignored & (1 << (signal.SIGUSR2 - 1)))
        with self.assertRaises(fdkit.Error):
            fdkit.spawn(["true"], signal_ignore=[signal.SIGKILL])

    def test_pdeathsig_follows_the_spawning_thread(self):
        import threading
        box = []
        t = threading.Thread(target=lambda: box.append(fdkit.spawn(["sleep", "30"], pdeathsig=signal.SIGUSR1)))
        t.start()
        t.join()  # the spawning thread is gone: the child gets SIGUSR1
        with box[0] as p:
            self.assertEqual(p.wait().signal, signal.SIGUSR1)

    def test_login_tty_makes_a_controlling_terminal(self):
        master, slave = os.openpty()
        os.set_inheritable(master, False)
        tty = fdkit.Fd.adopt(slave, blocking=True)
        code = "import os; print(os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpid(), flush=True)"
        with fdkit.spawn([sys.executable, "-c", code], login_tty=tty, fds={0: tty, 1: tty, 2: tty}) as p:
            self.assertEqual(p.wait().exit_code, 0)
        tty.close()
        self.assertIn(b"True True", os.read(master, 100))
        os.close(master)
        with self.assertRaises(fdkit.Error) as caught:
            fdkit.spawn(["true"], login_tty=fdkit.pipe()[0])
        self.assertEqual(caught.exception.errno, errno.ENOTTY)
        self.assertIn("login_tty", caught.exception.detail)

    def test_backends_status_usage_and_pidfd(self):
        for backend in (fdkit.process.BACKEND_FORK, fdkit.process.BACKEND_POSIX_SPAWN):
            with fdkit.spawn(["sh", "-c", "exit 5"], backend=backend) as p:
                st = p.wait()
                self.assertEqual((st.exit_code, st.returncode, st.core_dumped), (5, 5, False))
                self.assertGreater(st.usage.maxrss_kib, 0)
                self.assertGreaterEqual(st.usage.utime_ns, 0)
        with self.assertRaises(fdkit.Error) as caught:
            fdkit.spawn(["true"], login_tty=fdkit.pipe()[0], backend=fdkit.process.BACKEND_POSIX_SPAWN)
        self.assertEqual(caught.exception.errno, errno.ENOTSUP)
        with fdkit.spawn(["sleep", "30"]) as p:
            try:
                pidfd = p.pidfd
            except fdkit.Error as e:
                self.assertEqual(e.errno, errno.ENOTSUP)
            else:
                with open(f"/proc/self/fdinfo/{pidfd}") as f:
                    self.assertIn(f"Pid:\t{p.pid}\n", f.read())

    def test_detached_children_without_a_loop_are_reaped_never_killed(self):
        # Collected (or detached and freed), a loop-less child keeps running; once it exits
        # reap_detached (or a later spawn or wait) reaps it: no zombie stays.
        child = fdkit.spawn(["sleep", "0.3"])
        pid = child.pid
        del child
        gc.collect()
        os.kill(pid, 0)  # running, not killed
        self.assertGreaterEqual(fdkit.reap_detached(), 1)
        other = fdkit.spawn(["sleep", "30"])
        other.detach()
        other_pid = other.pid
        other.free()
        os.kill(other_pid, 0)
        os.kill(other_pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while fdkit.reap_detached() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(fdkit.reap_detached(), 0)
        for p in (pid, other_pid):
            self.assertFalse(os.path.exists(f"/proc/{p}"), "a detached child stayed a zombie")
