//! process.h: spawn with actions, wait, signals, and a failing action.
mod util;

use fdkit::{pipe, ExitStatus, Spawn};

#[test]
fn inherited_descriptor_cwd_and_exit_code() {
    util::no_leaks(|| {
        let (r, w) = pipe().unwrap();
        let tmp = std::env::temp_dir().canonicalize().unwrap();
        let child = Spawn::new(["sh", "-c", "pwd -P >&5; exit 7"])
            .unwrap()
            .cwd(&tmp)
            .unwrap()
            .inherit(5, &w)
            .close_other_fds()
            .spawn()
            .unwrap();
        drop(w);
        assert!(child.pid() > 0);
        assert_eq!(child.wait().unwrap(), ExitStatus::Code(7));
        assert_eq!(child.wait().unwrap(), ExitStatus::Code(7));
        let mut buf = [0u8; 4096];
        let n = r.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], format!("{}\n", tmp.display()).as_bytes());
    });
}

#[test]
fn signal_try_wait_and_reaped() {
    util::no_leaks(|| {
        let child = Spawn::new(["sleep", "30"]).unwrap().setsid().spawn().unwrap();
        assert_eq!(child.try_wait().unwrap(), None);
        child.signal(15).unwrap();
        assert_eq!(child.wait().unwrap(), ExitStatus::Signal(15));
        assert_eq!(child.signal(15).unwrap_err().name(), "ESRCH");
    });
}

#[test]
fn a_failing_action_names_itself() {
    util::no_leaks(|| {
        let err = Spawn::new(["true"]).unwrap().cwd("/nonexistent-dir").unwrap().spawn().unwrap_err();
        assert_eq!(err.name(), "ENOENT");
        assert!(err.detail().contains("chdir"), "{}", err);
        assert_eq!(Spawn::new(["no-such-program-anywhere"]).unwrap().spawn().unwrap_err().name(), "ENOENT");
    });
}
