// SPDX-License-Identifier: MIT
//! The third program of doc/bindings/rust.md: builders, spawning, runs, native errors.
use fdkit::{platform, Actions, CancelPolicy, Command, Dir, ExitStatus, Output};
use std::io;
use std::time::Duration;

fn main() -> io::Result<()> {
    // Builders chain like std::process::Command; a bad value errs at spawn().
    let mut actions = Actions::new()?;
    actions.umask(0o077).rlimit(platform::RLIMIT_NOFILE, Some(256), Some(256));
    actions.setpgid(0).execvp("sh", ["sh", "-c", "exit 3"], None);
    let mut child = actions.spawn()?; // spawn(&self): one list, many spawns, any thread
    assert_eq!(child.wait()?, ExitStatus::Code(3));

    // Dropping a Process leaves its child running (fdkit reaps it); kill_on_drop(true)
    // kills it instead, and detach() keeps it alive whatever the list said.
    let mut sleeper = Actions::new()?;
    sleeper.kill_on_drop(true).execvp("sleep", ["sleep", "0.1"], None);
    sleeper.spawn()?.detach();

    // Run to completion: stop gracefully once the output says enough.
    let mut cmd = Command::new(["sh", "-c", "echo ready; sleep 10"])?;
    cmd.stdout(Output::Capture)
        .early_exit(|so_far| so_far.ends_with(b"ready\n"))
        .cancel(CancelPolicy::Graceful, Duration::from_secs(1))
        .timeout(Duration::from_secs(30));
    let out = cmd.run()?;
    println!("{:?} early_exit={} {:?}", out.status, out.early_exit, out.usage.map(|u| u.user_time));

    // Errors convert into io::Error with the errno kept; is_escape() tells a confined
    // directory's refusal from a genuine cross-device EXDEV.
    let etc = Dir::fs().open_dir("/etc")?;
    let refused = etc.stat("../proc", false).unwrap_err();
    assert!(refused.is_escape());
    let err: io::Error = Dir::fs().stat("/nonexistent", false).unwrap_err().into();
    assert_eq!((err.raw_os_error(), err.kind()), (Some(platform::ENOENT), io::ErrorKind::NotFound));
    fdkit::reap_detached()?; // children dropped without a loop are reaped here too
    Ok(())
}
