// SPDX-License-Identifier: MIT
//! The example of doc/bindings/rust.md, built by `cargo test` so it keeps compiling.
use fdkit::{pipe, Loop, RunMode};

fn main() -> fdkit::Result<()> {
    let lp = Loop::new()?;
    let (r, w) = pipe()?;
    lp.read_async(&r, vec![0; 64], |res, buf| match res {
        Ok(n) => println!("read {} bytes: {:?}", n, buf),
        Err(e) => eprintln!("read: {}", e), // "<detail> (EBADF)"
    })?;
    w.write(b"hello")?;
    lp.run(RunMode::Default)?; // the callback runs here, never inside read_async
    r.close()?;
    assert_eq!(r.read(&mut [0; 4]).unwrap_err().name(), "EBADF"); // after close
    Ok(())
}
