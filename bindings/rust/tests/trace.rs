// SPDX-License-Identifier: MIT
//! trace.h: a hook sees every operation's spans.
use fdkit::trace::{self, Phase};
use fdkit::{pipe, Loop, RunMode};
use std::sync::{Arc, Mutex, MutexGuard};

// The hook is global to the process: one test at a time installs one.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn hook_sees_begin_and_end_of_sync_and_async_operations() {
    let _serial = serial();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    trace::set_hook(move |e| {
        s.lock().unwrap().push((e.phase, e.name.to_string(), e.span_id, e.result));
    })
    .unwrap();
    let (r, w) = pipe().unwrap();
    w.write(b"abc").unwrap();
    let lp = Loop::new().unwrap();
    lp.read_async(&r, vec![0; 8], |res, _| assert_eq!(res.unwrap(), 3)).unwrap();
    lp.run(RunMode::Default).unwrap();
    trace::clear_hook().unwrap();
    let events = seen.lock().unwrap().clone();
    let write_end = events.iter().find(|e| e.0 == Phase::End && e.1 == "write").expect("no write span");
    assert_eq!(write_end.3, 3);
    assert!(events.iter().any(|e| e.0 == Phase::Begin && e.1 == "write" && e.2 == write_end.2));
    assert!(events.iter().any(|e| e.0 == Phase::End && e.1 == "read" && e.3 == 3), "{:?}", events);

    let count = events.len();
    w.write(b"x").unwrap(); // after clear_hook nothing is recorded
    assert_eq!(seen.lock().unwrap().len(), count);
}

#[test]
fn a_panicking_hook_does_not_unwind_into_c() {
    let _serial = serial();
    trace::set_hook(|_| panic!("hook panics")).unwrap();
    let (_r, w) = pipe().unwrap();
    let written = w.write(b"x");
    trace::clear_hook().unwrap();
    assert_eq!(written.unwrap(), 1);
}

#[test]
fn replacing_the_hook_from_inside_it_is_einval() {
    let _serial = serial();
    let inner = Arc::new(Mutex::new(None));
    let i = inner.clone();
    trace::set_hook(move |_| {
        let mut slot = i.lock().unwrap();
        if slot.is_none() {
            *slot = Some(trace::clear_hook().map_err(|e| e.name()));
        }
    })
    .unwrap();
    let (_r, w) = pipe().unwrap();
    w.write(b"x").unwrap();
    trace::clear_hook().unwrap();
    assert_eq!(*inner.lock().unwrap(), Some(Err("EINVAL".to_string())));
}
