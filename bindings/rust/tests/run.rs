//! run.h: commands run to completion with capture, stdin, timeouts and a confined cwd.
mod util;

use fdkit::{Command, Dir, ExitStatus};

#[test]
fn capture_exit_code_and_stdin() {
    util::no_leaks(|| {
        let out = Command::new(["sh", "-c", "cat; echo err >&2; exit 3"]).unwrap().stdin(b"fed in").run().unwrap();
        assert_eq!(out.status, ExitStatus::Code(3));
        assert_eq!(out.stdout, b"fed in");
        assert_eq!(out.stderr, b"err\n");
        assert!(!out.timed_out);
    });
}

#[test]
fn timeout_kills_the_whole_group() {
    util::no_leaks(|| {
        let out = Command::new(["sh", "-c", "sleep 30 & wait"]).unwrap().timeout_ms(100).new_group().run().unwrap();
        assert!(out.timed_out);
        assert_eq!(out.status, ExitStatus::Signal(9));
    });
}

#[test]
fn cwd_is_a_dir_and_a_missing_program_fails_to_start() {
    util::no_leaks(|| {
        let tmp = std::env::temp_dir().canonicalize().unwrap();
        let dir = Dir::fs().open_dir(&tmp).unwrap();
        let out = Command::new(["pwd", "-P"]).unwrap().cwd(&dir).run().unwrap();
        assert_eq!(out.stdout, format!("{}\n", tmp.display()).into_bytes());
        drop(dir);
        let err = Command::new(["/nonexistent/program"]).unwrap().run().unwrap_err();
        assert_eq!(err.name(), "ENOENT");
    });
}
