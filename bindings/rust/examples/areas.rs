// SPDX-License-Identifier: MIT
//! The second example of doc/bindings/rust.md, built by `cargo test` so it keeps compiling.
use fdkit::{pipe, platform, socketpair, trace, Command, Dir, OpenFlags, Output};
use std::io::{IoSlice, IoSliceMut};

fn main() -> fdkit::Result<()> {
    // Confined directories: nothing beneath `etc` resolves outside it.
    let etc = Dir::fs().open_dir("/etc")?;
    let err = etc.open("../proc/version", OpenFlags::READ, 0).unwrap_err();
    assert_eq!(err.errno(), platform::EXDEV);
    println!("{} bytes of hostname", etc.stat("hostname", true).map(|m| m.size).unwrap_or(0));

    // Run to completion with capture.
    let mut cmd = Command::new(["sh", "-c", "echo out; echo err >&2"])?;
    cmd.stdout(Output::Capture).stderr(Output::Capture); // a failed setter errs at run()
    let out = cmd.run()?;
    println!("{:?}: {:?} / {:?}", out.status, out.stdout, out.stderr);

    // Descriptor passing: send a pipe's write end over a socketpair.
    let (a, b) = socketpair(platform::AF_UNIX, platform::SOCK_STREAM, 0)?;
    let (r, w) = pipe()?;
    a.send_msg(&[IoSlice::new(b"w")], &[&w])?;
    let msg = b.recv_msg(&mut [IoSliceMut::new(&mut [0; 1])], 1)?;
    msg.fds[0].write(b"via the passed end")?;
    println!("{} bytes readable", r.read(&mut [0; 64])?);

    // Trace spans of every operation, from any thread.
    trace::set_hook(|e| eprintln!("{:?} {} {}", e.phase, e.name, e.result))?;
    w.write(b"traced")?;
    trace::clear_hook()
}
