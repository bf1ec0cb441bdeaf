// SPDX-License-Identifier: MIT
//! Shared by the test files: descriptor-leak checks, run one test at a time.
use std::sync::{Mutex, MutexGuard};

static SERIAL: Mutex<()> = Mutex::new(());

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

/// Runs `f` alone and checks that it leaves as many descriptors open as it found.
/// libuv keeps two global descriptors after its first loop, so the baseline is taken
/// after one loop was created.
pub fn no_leaks<T>(f: impl FnOnce() -> T) -> T {
    let _serial: MutexGuard<'_, ()> = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(fdkit::Loop::new().expect("first loop"));
    let before = open_fds();
    let result = f();
    assert_eq!(open_fds(), before, "the test leaked descriptors");
    result
}
