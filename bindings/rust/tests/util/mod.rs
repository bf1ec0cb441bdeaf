// SPDX-License-Identifier: MIT
//! Shared by the test files: descriptor-leak checks, run one test at a time.
use std::cell::RefCell;
use std::rc::Rc;
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

/// The completions of asynchronous calls, recorded as "what Ok(())" or "what Err(\"ENOENT\")".
#[derive(Clone, Default)]
#[allow(dead_code)] // not every test file uses it
pub struct Completions(Rc<RefCell<Vec<String>>>);

#[allow(dead_code)]
impl Completions {
    /// A callback that records `what` and the result it receives.
    pub fn note(&self, what: &'static str) -> impl FnOnce(fdkit::Result<()>) + 'static {
        let log = self.0.clone();
        move |res| log.borrow_mut().push(format!("{} {:?}", what, res.map_err(|e| e.name())))
    }

    /// Runs the loop until nothing is pending and returns the records, sorted; none may
    /// have come inside the call that started it.
    pub fn run(&self, lp: &fdkit::Loop) -> Vec<String> {
        assert!(self.0.borrow().is_empty(), "a callback ran inside its call");
        lp.run(fdkit::RunMode::Default).unwrap();
        let mut got = self.0.borrow_mut().drain(..).collect::<Vec<_>>();
        got.sort();
        got
    }
}
