// SPDX-License-Identifier: MIT
//! process.h and run.h: spawn from actions, wait, signal, pidfd; run with capture.
mod util;

use fdkit::{pipe, platform, Actions, Command, ExitStatus, Loop, Output, RunMode};
use std::cell::RefCell;
use std::os::unix::io::AsRawFd;
use std::rc::Rc;
use std::time::Duration;

#[test]
fn run_captures_stdout_and_stderr_and_feeds_stdin() {
    util::no_leaks(|| {
        let mut cmd = Command::new(["sh", "-c", "tr a-z A-Z; echo oops >&2; exit 3"]).unwrap();
        cmd.stdin(b"hello").unwrap().stdout(Output::Capture).unwrap().stderr(Output::Capture).unwrap();
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
        cmd.timeout(Duration::from_millis(100)).unwrap();
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
        cmd.stdout(Output::Capture).unwrap();
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
        actions.inherit_fd(1, &w).unwrap().chdir("/").unwrap().execvp("pwd", ["pwd"], None).unwrap();
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
        actions.execvp("sleep", ["sleep", "10"], Some(&[("PATH", "/bin:/usr/bin")])).unwrap();
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
        actions.chdir("/nonexistent-fdkit").unwrap().execvp("true", ["true"], None).unwrap();
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
        actions.execvp("sh", ["sh", "-c", "exit 7"], None).unwrap();
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
        actions.kill_on_drop(true).execvp("sleep", ["sleep", "10"], None).unwrap();
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
            actions.kill_on_drop(kill).inherit_fd(1, &w).unwrap();
            actions.execvp("sh", ["sh", "-c", "sleep 0.2; echo alive"], None).unwrap();
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
