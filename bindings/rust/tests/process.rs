// SPDX-License-Identifier: MIT
//! process.h and run.h: spawn from actions, wait, signal, pidfd; run with capture.
mod util;

use fdkit::{pipe, platform, Actions, Command, ExitStatus, InheritMode, Loop, Output, RunMode, SpawnBackend};
use std::cell::RefCell;
use std::os::unix::io::AsRawFd;
use std::rc::Rc;
use std::time::Duration;

#[test]
fn run_captures_stdout_and_stderr_and_feeds_stdin() {
    util::no_leaks(|| {
        let mut cmd = Command::new(["sh", "-c", "tr a-z A-Z; echo oops >&2; exit 3"]).unwrap();
        cmd.stdin(b"hello").stdout(Output::Capture).stderr(Output::Capture);
        let out = cmd.run().unwrap();
        assert_eq!(out.stdout, b"HELLO");
        assert_eq!(out.stderr, b"oops\n");
        assert_eq!(out.status, ExitStatus::Code(3));
        assert!(!out.status.success() && !out.timed_out && out.pid > 0);
    });
}

#[test]
fn run_times_out_and_kills() {
    util::no_leaks(|| {
        let mut cmd = Command::new(["sleep", "10"]).unwrap();
        cmd.timeout(Duration::from_millis(100));
        let out = cmd.run().unwrap();
        assert!(out.timed_out);
        assert_eq!(out.status, ExitStatus::Signal(platform::SIGKILL));
        assert!(out.duration < Duration::from_secs(5), "{:?}", out.duration);
    });
}

#[test]
fn run_of_a_missing_program_fails_to_start() {
    util::no_leaks(|| {
        let err = Command::new(["fdkit-no-such-program"]).unwrap().run().unwrap_err();
        assert_eq!(err.name(), "ENOENT");
    });
}

#[test]
fn run_async_completes_on_the_loop() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let mut cmd = Command::new(["echo", "async"]).unwrap();
        cmd.stdout(Output::Capture);
        let got = Rc::new(RefCell::new(None));
        let g = got.clone();
        let op = lp.run_async(&cmd, move |res| *g.borrow_mut() = Some(res.unwrap())).unwrap();
        drop(cmd); // options are copied when the run starts
        assert!(op.is_pending() && got.borrow().is_none());
        lp.run(RunMode::Default).unwrap();
        let out = got.borrow_mut().take().unwrap();
        assert_eq!((out.stdout, out.status), (b"async\n".to_vec(), ExitStatus::Code(0)));
        assert!(!op.is_pending());
    });
}

#[test]
fn spawn_with_an_inherited_pipe_and_wait() {
    util::no_leaks(|| {
        let (r, w) = pipe().unwrap();
        let mut actions = Actions::new().unwrap();
        actions.inherit_fd(1, &w).chdir("/").execvp("pwd", ["pwd"], None);
        let mut child = actions.spawn().unwrap();
        drop(w);
        assert!(child.pid() > 0);
        assert_eq!(child.wait().unwrap(), ExitStatus::Code(0));
        assert_eq!(child.wait().unwrap(), ExitStatus::Code(0)); // the same status again
        let mut buf = [0u8; 16];
        let n = r.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"/\n");
    });
}

#[test]
fn signal_try_wait_and_pidfd() {
    util::no_leaks(|| {
        let mut actions = Actions::new().unwrap();
        actions.execvp("sleep", ["sleep", "10"], Some(&[("PATH", "/bin:/usr/bin")]));
        let mut child = actions.spawn().unwrap();
        assert_eq!(child.try_wait().unwrap(), None);
        match child.pidfd() {
            Ok(fd) => assert!(fd.as_raw_fd() > 2),
            Err(e) => assert_eq!(e.name(), "ENOTSUP"),
        }
        child.signal(platform::SIGTERM).unwrap();
        assert_eq!(child.wait().unwrap(), ExitStatus::Signal(platform::SIGTERM));
        assert_eq!(child.signal(0).unwrap_err().name(), "ESRCH");
    });
}

#[test]
fn a_failed_action_names_itself() {
    util::no_leaks(|| {
        let mut actions = Actions::new().unwrap();
        actions.chdir("/nonexistent-fdkit").execvp("true", ["true"], None);
        let err = actions.spawn().unwrap_err();
        assert_eq!(err.name(), "ENOENT");
        assert!(err.detail().contains("chdir"), "{}", err.detail());
    });
}

#[test]
fn spawn_on_a_loop_calls_back_when_the_child_exits() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let mut actions = Actions::new().unwrap();
        actions.execvp("sh", ["sh", "-c", "exit 7"], None);
        let exited = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let e = exited.clone();
        let mut child = lp
            .spawn(&mut actions, move |res| {
                res.unwrap();
                e.store(true, std::sync::atomic::Ordering::SeqCst)
            })
            .unwrap();
        assert!(!exited.load(std::sync::atomic::Ordering::SeqCst));
        lp.run(RunMode::Default).unwrap(); // a pending exit callback keeps the run going
        assert!(exited.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(child.try_wait().unwrap(), Some(ExitStatus::Code(7)));
    });
}

#[test]
fn a_process_dropped_before_its_exit_never_calls_back() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let mut actions = Actions::new().unwrap();
        actions.kill_on_drop(true).execvp("sleep", ["sleep", "10"], None);
        let child = lp.spawn(&mut actions, |_| panic!("called back after drop")).unwrap();
        drop(child); // kills and reaps the child
        lp.run(RunMode::Default).unwrap();
    });
}

/// As with std::process::Child, dropping the handle leaves the child running: it still
/// writes to the pipe after the drop (the old Process killed it, and the read saw EOF).
#[test]
fn dropping_a_process_leaves_the_child_running_unless_kill_on_drop() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        for kill in [false, true] {
            let (r, w) = pipe().unwrap();
            let mut actions = Actions::new().unwrap();
            actions.kill_on_drop(kill).inherit_fd(1, &w);
            actions.execvp("sh", ["sh", "-c", "sleep 0.2; echo alive"], None);
            let child = lp.spawn(&mut actions, |_| ()).unwrap();
            drop(w);
            drop(child);
            let mut buf = [0u8; 16];
            let n = r.read(&mut buf).unwrap();
            assert_eq!(&buf[..n], if kill { &b""[..] } else { &b"alive\n"[..] }, "kill_on_drop({})", kill);
        }
        lp.run(RunMode::Default).unwrap(); // fdkit reaps the detached child
    });
}

/// Runs `script` with `sh -c` under `actions` (its stdout on a pipe) and returns the exit
/// status and what it printed.
fn run_with(actions: &mut Actions, script: &str) -> (ExitStatus, String) {
    let (r, w) = pipe().unwrap();
    actions.inherit_fd(1, &w).execvp("sh", ["sh", "-c", script], None);
    let mut child = actions.spawn().unwrap();
    drop(w);
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    (child.wait().unwrap(), String::from_utf8(out).unwrap())
}

fn am_root() -> bool {
    fdkit::Dir::fs().stat("/proc/self", false).unwrap().uid == 0
}

/// The builder keeps the first error and the spawn returns it; later adders are skipped.
#[test]
fn a_failed_adder_surfaces_at_spawn() {
    util::no_leaks(|| {
        let mut actions = Actions::new().unwrap();
        actions.chdir("bad\0path").umask(0o7777).execvp("true", ["true"], None);
        assert_eq!(actions.error().map(|e| e.name()), Some("EINVAL".to_string()));
        let err = actions.spawn().unwrap_err();
        assert!(err.detail().contains("NUL"), "{}", err);
        let lp = Loop::new().unwrap();
        assert_eq!(lp.spawn(&actions, |_| ()).unwrap_err().name(), "EINVAL");
        let mut actions = Actions::new().unwrap();
        actions.signal_ignore(platform::SIGKILL);
        assert_eq!(actions.spawn().unwrap_err().name(), "EINVAL");
    });
}

/// A complete list serves several spawns at once from several threads (spawn(&self)).
#[test]
fn one_list_spawns_from_several_threads() {
    util::no_leaks(|| {
        let mut actions = Actions::new().unwrap();
        actions.execve("/bin/sh", ["sh", "-c", "exit 4"], Some(&[("A", "b")]));
        let actions = &actions;
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..4).map(|_| s.spawn(move || actions.spawn().unwrap().wait().unwrap())).collect();
            for w in workers {
                assert_eq!(w.join().unwrap(), ExitStatus::Code(4));
            }
        });
    });
}

#[test]
fn umask_rlimit_no_new_privs_and_signal_dispositions() {
    util::no_leaks(|| {
        let mut actions = Actions::new().unwrap();
        actions.umask(0o027).rlimit(platform::RLIMIT_NOFILE, Some(64), Some(128)).no_new_privs();
        let script = "umask; ulimit -n; grep NoNewPrivs /proc/self/status | tr -d ' \\t'";
        let (status, out) = run_with(&mut actions, script);
        assert_eq!((status, out.as_str()), (ExitStatus::Code(0), "0027\n64\nNoNewPrivs:1\n"));

        // An ignored SIGTERM survives; back to default it kills.
        for ignore in [true, false] {
            let mut actions = Actions::new().unwrap();
            if ignore {
                actions.signal_ignore(platform::SIGTERM);
            } else {
                actions.signal_default(platform::SIGTERM);
            }
            actions.execvp("sleep", ["sleep", "10"], None);
            let mut child = actions.spawn().unwrap();
            std::thread::sleep(Duration::from_millis(100));
            child.signal(platform::SIGTERM).unwrap();
            std::thread::sleep(Duration::from_millis(100));
            if ignore {
                assert_eq!(child.try_wait().unwrap(), None);
                child.signal(platform::SIGKILL).unwrap();
                assert_eq!(child.wait().unwrap(), ExitStatus::Signal(platform::SIGKILL));
            } else {
                assert_eq!(child.wait().unwrap(), ExitStatus::Signal(platform::SIGTERM));
            }
        }
    });
}

#[test]
fn ids_are_set_or_refused() {
    util::no_leaks(|| {
        let mut actions = Actions::new().unwrap();
        actions.setgroups(&[65534]).setgid(65534).setuid(65534);
        if am_root() {
            let (status, out) = run_with(&mut actions, "id -u; id -g; id -G");
            assert_eq!((status, out.as_str()), (ExitStatus::Code(0), "65534\n65534\n65534\n"));
        } else {
            actions.execvp("true", ["true"], None);
            assert_eq!(actions.spawn().unwrap_err().name(), "EPERM");
        }
    });
}

#[test]
fn fchdir_execve_and_raw_inheritance() {
    util::no_leaks(|| {
        let dir = fdkit::Dir::fs().open_dir("/usr").unwrap();
        let (r, w) = pipe().unwrap();
        let mut actions = Actions::new().unwrap();
        actions.fchdir(&dir.handle().unwrap());
        // SAFETY: w stays open until the spawn below has returned.
        unsafe { actions.inherit_raw(1, w.as_raw_fd(), InheritMode::Blocking) };
        actions.execve("/bin/pwd", ["pwd"], None);
        let mut child = actions.spawn().unwrap();
        drop((w, actions));
        assert_eq!(child.wait().unwrap(), ExitStatus::Code(0));
        let mut buf = [0u8; 16];
        let n = r.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"/usr\n");
    });
}

/// A blocking-mode inheritance clears O_NONBLOCK on the shared description.
#[test]
fn inherit_mode_sets_blocking() {
    util::no_leaks(|| {
        let (_r, w) = pipe().unwrap();
        let mut actions = Actions::new().unwrap();
        actions.inherit_fd_mode(3, &w, InheritMode::Blocking);
        let (status, out) = run_with(&mut actions, "sed -n 's/^flags:[[:space:]]*//p' /proc/self/fdinfo/3");
        assert_eq!(status, ExitStatus::Code(0));
        let flags = u32::from_str_radix(out.trim(), 8).unwrap();
        assert_eq!(flags & 0o4000, 0, "O_NONBLOCK still set: {:o}", flags);
    });
}

#[test]
fn a_new_group_is_signalled_whole() {
    util::no_leaks(|| {
        let mut actions = Actions::new().unwrap();
        actions.setpgid(0).execvp("sh", ["sh", "-c", "sleep 10 & wait"], None);
        let mut child = actions.spawn().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        child.signal_group(platform::SIGTERM).unwrap();
        assert_eq!(child.wait().unwrap(), ExitStatus::Signal(platform::SIGTERM));
        // The group died too (the sleep got the signal): nobody is left to signal.
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(child.signal_group(0).unwrap_err().name(), "ESRCH");

        // A child in the caller's group leads none.
        let mut actions = Actions::new().unwrap();
        actions.kill_on_drop(true).execvp("sleep", ["sleep", "10"], None);
        let alone = actions.spawn().unwrap();
        assert_eq!(alone.signal_group(0).unwrap_err().name(), "ESRCH");
    });
}

/// pdeathsig follows the spawning thread: when it ends, the child gets the signal. (fdkit
/// refuses SIGKILL there, as it does for the dispositions.)
#[test]
fn pdeathsig_fires_when_the_spawning_thread_exits() {
    util::no_leaks(|| {
        let mut actions = Actions::new().unwrap();
        actions.pdeathsig(platform::SIGTERM).execvp("sleep", ["sleep", "10"], None);
        let mut child = std::thread::spawn(move || actions.spawn().unwrap()).join().unwrap();
        let start = std::time::Instant::now();
        assert_eq!(child.wait().unwrap(), ExitStatus::Signal(platform::SIGTERM));
        assert!(start.elapsed() < Duration::from_secs(5));
    });
}

#[test]
fn login_tty_needs_a_terminal_and_its_own_session() {
    util::no_leaks(|| {
        let (r, _w) = pipe().unwrap();
        let mut actions = Actions::new().unwrap();
        actions.login_tty(&r).execvp("true", ["true"], None);
        let err = actions.spawn().unwrap_err();
        assert_eq!(err.name(), "ENOTTY");
        let mut actions = Actions::new().unwrap();
        actions.setsid().login_tty(&r).execvp("true", ["true"], None);
        assert_eq!(actions.spawn().unwrap_err().name(), "EINVAL");
    });
}

unsafe extern "C" fn fail_with_arg(arg: *mut std::os::raw::c_void) -> std::os::raw::c_int {
    // Async-signal-safe: reads an integer the parent laid out, allocates nothing.
    -*(arg as *const i32)
}

#[test]
fn a_user_action_runs_in_the_child() {
    util::no_leaks(|| {
        let code = std::cell::Cell::new(platform::EPERM);
        let mut actions = Actions::new().unwrap();
        // SAFETY: fail_with_arg is async-signal-safe and `code` outlives every spawn.
        unsafe { actions.user(fail_with_arg, code.as_ptr().cast(), "my-check") };
        actions.execvp("true", ["true"], None);
        let err = actions.spawn().unwrap_err();
        assert_eq!(err.name(), "EPERM");
        assert!(err.detail().contains("my-check"), "{}", err.detail());
        code.set(0);
        assert_eq!(actions.spawn().unwrap().wait().unwrap(), ExitStatus::Code(0));
    });
}

#[test]
fn spawn_backends() {
    util::no_leaks(|| {
        for backend in [SpawnBackend::Fork, SpawnBackend::PosixSpawn, SpawnBackend::Auto] {
            let mut actions = Actions::new().unwrap();
            actions.backend(backend);
            assert_eq!(run_with(&mut actions, "echo $0").1, "sh\n", "{:?}", backend);
        }
        let mut actions = Actions::new().unwrap();
        let (r, _w) = pipe().unwrap();
        actions.backend(SpawnBackend::PosixSpawn).login_tty(&r).execvp("true", ["true"], None);
        assert_eq!(actions.spawn().unwrap_err().errno(), platform::ENOTSUP);
    });
}

/// Dropping a loop-less child's handle no longer kills it: fdkit keeps it on its list of
/// detached children and reaps it (the old Drop killed it, so "alive" never came).
#[test]
fn a_dropped_or_detached_loopless_child_runs_on_and_is_reaped() {
    util::no_leaks(|| {
        for detach in [false, true] {
            let (r, w) = pipe().unwrap();
            let mut actions = Actions::new().unwrap();
            actions.kill_on_drop(detach).inherit_fd(1, &w);
            actions.execvp("sh", ["sh", "-c", "sleep 0.2; echo alive"], None);
            let child = actions.spawn().unwrap();
            let pid = child.pid();
            if detach {
                child.detach(); // wins over kill_on_drop
            } else {
                drop(child);
            }
            drop(w);
            let mut buf = [0u8; 16];
            let n = r.read(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"alive\n", "detach {}", detach);
            // It exits right after: reaped by a sweep, never left a zombie.
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while fdkit::reap_detached().unwrap() > 0 && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert!(std::fs::metadata(format!("/proc/{}", pid)).is_err(), "pid {} is still there", pid);
        }
    });
}

#[test]
fn a_detached_loop_child_keeps_the_run_going_and_calls_back() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let mut actions = Actions::new().unwrap();
        actions.kill_on_drop(true).execvp("sleep", ["sleep", "0.2"], None);
        let called = std::sync::Arc::new(std::sync::Mutex::new(None));
        let c = called.clone();
        let child = lp.spawn(&actions, move |r| *c.lock().unwrap() = Some(r.is_ok())).unwrap();
        let pid = child.pid();
        child.detach();
        let start = std::time::Instant::now();
        lp.run(RunMode::Default).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(150), "{:?}", start.elapsed());
        assert_eq!(*called.lock().unwrap(), Some(true));
        assert!(std::fs::metadata(format!("/proc/{}", pid)).is_err());
    });
}

/// The exit callback of a dropped LoopProcess still runs (the old drop freed the process
/// and the callback never ran), and the child is reaped after it; when the loop goes first,
/// it runs with ECANCELED and the child is left to fdkit's loop-less reaper.
#[test]
fn a_dropped_loop_process_still_calls_back() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let mut actions = Actions::new().unwrap();
        actions.execvp("sh", ["sh", "-c", "exit 3"], None);
        let called = std::sync::Arc::new(std::sync::Mutex::new(None));
        let c = called.clone();
        let child = lp.spawn(&actions, move |r| *c.lock().unwrap() = Some(r.map_err(|e| e.name()))).unwrap();
        let pid = child.pid();
        drop(child);
        lp.run(RunMode::Default).unwrap(); // the pending callback keeps the run going
        assert_eq!(*called.lock().unwrap(), Some(Ok(())));
        assert!(std::fs::metadata(format!("/proc/{}", pid)).is_err(), "pid {} not reaped", pid);

        let mut actions = Actions::new().unwrap();
        actions.execvp("sleep", ["sleep", "0.2"], None);
        let c = called.clone();
        let child = lp.spawn(&actions, move |r| *c.lock().unwrap() = Some(r.map_err(|e| e.name()))).unwrap();
        let pid = child.pid();
        drop(child);
        drop(lp);
        assert_eq!(*called.lock().unwrap(), Some(Err("ECANCELED".to_string())));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while fdkit::reap_detached().unwrap() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(std::fs::metadata(format!("/proc/{}", pid)).is_err(), "pid {} not reaped", pid);
    });
}
