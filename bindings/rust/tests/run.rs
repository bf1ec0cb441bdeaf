// SPDX-License-Identifier: MIT
//! run.h options beyond capture and timeouts: cancel policy, stop signal, groups, fd policy,
//! early exit, working directory and stdin handles, backends, run_signal, result fields.
mod util;

use fdkit::{
    pipe, platform, CancelPolicy, Command, Dir, ExitStatus, FdPolicy, Group, Loop, Output, RunMode, SpawnBackend,
};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

#[test]
fn a_failed_setter_surfaces_at_run() {
    util::no_leaks(|| {
        let mut cmd = Command::new(["true"]).unwrap();
        cmd.stop_signal(100_000).stdout(Output::Capture);
        assert_eq!(cmd.error().map(|e| e.name()), Some("EINVAL".to_string()));
        assert_eq!(cmd.run().unwrap_err().name(), "EINVAL");
        let lp = Loop::new().unwrap();
        assert_eq!(lp.run_async(&cmd, |_| panic!("called back")).err().map(|e| e.name()), Some("EINVAL".into()));
        let mut cmd = Command::new(["true"]).unwrap();
        cmd.cwd("a\0b");
        assert!(cmd.run().unwrap_err().detail().contains("NUL"));
    });
}

/// The child is stopped once its trap is set (it says "ready"), by the graceful policy:
/// the stop signal first, which the trap turns into exit 5.
#[test]
fn graceful_cancel_sends_the_stop_signal_first() {
    util::no_leaks(|| {
        let mut cmd = Command::new(["sh", "-c", "trap 'echo got-usr1; exit 5' USR1; echo ready; sleep 10 & wait"]).unwrap();
        cmd.stdout(Output::Capture)
            .early_exit(|so_far| so_far == b"ready\n")
            .cancel(CancelPolicy::Graceful, Duration::from_secs(5))
            .stop_signal(platform::SIGUSR1);
        let out = cmd.run().unwrap();
        assert!(out.early_exit && !out.timed_out);
        assert_eq!((out.status, out.stdout.as_slice()), (ExitStatus::Code(5), &b"ready\ngot-usr1\n"[..]));
        assert!(out.usage.is_some());
    });
}

#[test]
fn cancel_none_waits_and_reports_the_overrun() {
    util::no_leaks(|| {
        let mut cmd = Command::new(["sleep", "0.3"]).unwrap();
        cmd.timeout(Duration::from_millis(50)).cancel(CancelPolicy::None, Duration::from_millis(100));
        let out = cmd.run().unwrap();
        assert!(out.timed_out);
        assert_eq!(out.status, ExitStatus::Code(0));
    });
}

#[test]
fn early_exit_stops_the_child_once_the_predicate_says_so() {
    util::no_leaks(|| {
        let mut cmd = Command::new(["sh", "-c", "echo ready; sleep 10"]).unwrap();
        cmd.stdout(Output::Capture).early_exit(|so_far| so_far.ends_with(b"ready\n"));
        let start = std::time::Instant::now();
        let out = cmd.run().unwrap();
        assert!(out.early_exit && !out.timed_out);
        assert_eq!(out.stdout, b"ready\n");
        assert_eq!(out.status, ExitStatus::Signal(platform::SIGKILL));
        assert!(start.elapsed() < Duration::from_secs(5));
    });
}

#[test]
fn a_panicking_predicate_stops_the_child_and_resumes_from_run() {
    util::no_leaks(|| {
        let mut cmd = Command::new(["sh", "-c", "echo x; sleep 10"]).unwrap();
        cmd.stdout(Output::Capture).early_exit(|_| panic!("predicate"));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cmd.run()));
        let payload = caught.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"predicate"));
    });
}

/// The predicate belongs to the runs still going: dropping the command after run_async
/// leaves it alive (the C options point at it) until the run's callback.
#[test]
fn early_exit_outlives_a_dropped_command_on_the_loop() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let mut cmd = Command::new(["sh", "-c", "echo a; echo b; sleep 10"]).unwrap();
        cmd.stdout(Output::Capture).early_exit(|so_far| so_far.ends_with(b"b\n"));
        let got = Rc::new(RefCell::new(None));
        let g = got.clone();
        let op = lp.run_async(&cmd, move |res| *g.borrow_mut() = Some(res.unwrap())).unwrap();
        drop(cmd);
        lp.run(RunMode::Default).unwrap();
        let out = got.borrow_mut().take().unwrap();
        assert!(out.early_exit);
        assert_eq!(out.stdout, b"a\nb\n");
        assert!(!op.is_pending());
    });
}

#[test]
fn stop_at_max_output_kills_a_chatty_child() {
    util::no_leaks(|| {
        let mut cmd = Command::new(["sh", "-c", "while :; do echo spam; done"]).unwrap();
        cmd.stdout(Output::Capture).max_output(100).stop_at_max_output(true);
        let out = cmd.run().unwrap();
        assert!(out.truncated);
        assert_eq!(out.stdout.len(), 100);
        assert_eq!(out.status, ExitStatus::Signal(platform::SIGKILL));
    });
}

#[test]
fn groups_fd_policies_cwd_and_stdin_handles() {
    util::no_leaks(|| {
        // A new group: the child leads it (field 5 of its stat is its group).
        let mut cmd = Command::new(["sh", "-c", "cut -d' ' -f5 /proc/$$/stat; echo $$"]).unwrap();
        cmd.stdout(Output::Capture).group(Group::New);
        let text = String::from_utf8(cmd.run().unwrap().stdout).unwrap();
        let ids: Vec<&str> = text.split_whitespace().collect();
        assert!(ids.len() == 2 && ids[0] == ids[1], "{}", text);
        let mut cmd = Command::new(["true"]).unwrap();
        cmd.group(Group::Join(-1));
        assert_eq!(cmd.run().unwrap_err().name(), "EINVAL");

        // Descriptor policies: an inheritable pipe end is kept, closed or allow-listed.
        let (_r, w) = pipe().unwrap();
        let kept = w.with_raw_fd(dup_inheritable).unwrap();
        let probe = format!("test -e /proc/self/fd/{} && echo open || echo closed", kept);
        for (policy, want) in [
            (FdPolicy::CloexecOnly, "open\n"),
            (FdPolicy::CloseFrom3, "closed\n"),
            (FdPolicy::Only(vec![kept]), "open\n"),
        ] {
            let mut cmd = Command::new(["sh", "-c", probe.as_str()]).unwrap();
            cmd.stdout(Output::Capture).fds(policy.clone());
            assert_eq!(cmd.run().unwrap().stdout, want.as_bytes(), "{:?}", policy);
        }
        close_raw(kept);

        // Working directory as a handle or a confined dir; stdin from a descriptor.
        let usr = Dir::fs().open_dir("/usr").unwrap();
        let (sr, sw) = pipe().unwrap();
        sw.write(b"from a pipe").unwrap();
        drop(sw);
        let mut cmd = Command::new(["sh", "-c", "pwd; cat"]).unwrap();
        cmd.stdout(Output::Capture).cwd_dir(&usr).stdin_fd(&sr).backend(SpawnBackend::Fork);
        assert_eq!(cmd.run().unwrap().stdout, b"/usr\nfrom a pipe");
        let mut cmd = Command::new(["pwd"]).unwrap();
        cmd.stdout(Output::Capture).cwd_fd(&usr.handle().unwrap());
        let out = cmd.run().unwrap();
        assert_eq!((out.stdout.as_slice(), out.pipes_abandoned), (&b"/usr\n"[..], false));
    });
}

/// A descendant that keeps the pipe open past the grace: the run gives up on it.
#[test]
fn pipes_kept_open_by_a_descendant_are_abandoned() {
    util::no_leaks(|| {
        let mut cmd = Command::new(["sh", "-c", "sleep 3 & echo done"]).unwrap();
        cmd.stdout(Output::Capture).cancel(CancelPolicy::Kill, Duration::from_millis(100));
        let out = cmd.run().unwrap();
        assert!(out.pipes_abandoned);
        assert_eq!((out.status, out.stdout.as_slice()), (ExitStatus::Code(0), &b"done\n"[..]));
    });
}

#[test]
fn run_signal_reaches_the_child_of_a_pending_run() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let mut cmd = Command::new(["sleep", "10"]).unwrap();
        cmd.stdout(Output::Discard);
        let got = Rc::new(RefCell::new(None));
        let g = got.clone();
        let op = Rc::new(lp.run_async(&cmd, move |res| *g.borrow_mut() = Some(res.unwrap())).unwrap());
        op.signal(0).unwrap();
        let o = op.clone();
        lp.sleep_until(fdkit::now_ns() + 50_000_000, move |_| o.signal(platform::SIGTERM).unwrap()).unwrap();
        lp.run(RunMode::Default).unwrap();
        assert_eq!(got.borrow().as_ref().unwrap().status, ExitStatus::Signal(platform::SIGTERM));
        assert_eq!(op.signal(0).unwrap_err().name(), "EINVAL"); // the run is over
    });
}

/// A copy of `raw` without close-on-exec (every descriptor fdkit makes has it), through
/// libc's own dup, which std links anyway.
fn dup_inheritable(raw: i32) -> i32 {
    extern "C" {
        fn dup(fd: i32) -> i32;
    }
    let copy = unsafe { dup(raw) };
    assert!(copy >= 0);
    copy
}

fn close_raw(raw: i32) {
    extern "C" {
        fn close(fd: i32) -> i32;
    }
    assert_eq!(unsafe { close(raw) }, 0);
}
