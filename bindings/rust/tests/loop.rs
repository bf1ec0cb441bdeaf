// SPDX-License-Identifier: MIT
//! loop.h: running, posting, cancelling, panics in callbacks.
mod util;

use fdkit::{now_ns, pipe, Loop, RunMode};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[test]
fn idle_loop_returns_at_once() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        assert!(!lp.run(RunMode::Default).unwrap());
        assert!(!lp.run(RunMode::NoWait).unwrap());
        assert!(lp.backend_fd().unwrap() >= 0);
    });
}

#[test]
fn post_from_another_thread_runs_on_the_loop() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let ran_on = Arc::new(std::sync::Mutex::new(None));
        let poster = lp.poster().unwrap();
        std::thread::scope(|s| {
            let ran_on = ran_on.clone();
            s.spawn(move || {
                poster
                    .post(move || *ran_on.lock().unwrap() = Some(std::thread::current().id()))
                    .unwrap()
            });
        });
        lp.run(RunMode::Default).unwrap();
        assert_eq!(*ran_on.lock().unwrap(), Some(std::thread::current().id()));
    });
}

#[test]
fn sleep_never_ends_early_and_runs_from_the_loop() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let deadline = now_ns() + 20_000_000;
        let woke = Rc::new(Cell::new(0i64));
        let w = woke.clone();
        let op = lp.sleep_until(deadline, move |r| {
            r.unwrap();
            w.set(now_ns());
        });
        let op = op.unwrap();
        assert!(op.is_pending());
        assert_eq!(woke.get(), 0, "callback ran inside the starting call");
        lp.run(RunMode::Default).unwrap();
        assert!(woke.get() >= deadline);
        assert!(!op.is_pending());
        assert!(!op.cancel());
    });
}

#[test]
fn cancel_completes_with_ecanceled() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let (r, _w) = pipe().unwrap();
        let got = Rc::new(Cell::new(0));
        let g = got.clone();
        let op = lp
            .read_async(&r, vec![0; 8], move |res, buf| {
                g.set(res.unwrap_err().errno());
                assert!(buf.is_empty());
            })
            .unwrap();
        assert!(op.cancel());
        lp.run(RunMode::Default).unwrap();
        assert_eq!(got.get(), fdkit::sys::platform::ECANCELED);
    });
}

#[test]
fn dropping_the_loop_cancels_pending_operations() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let got = Rc::new(Cell::new(0));
        let g = got.clone();
        lp.sleep_until(now_ns() + 60_000_000_000, move |r| g.set(r.unwrap_err().errno()))
            .unwrap();
        drop(lp);
        assert_eq!(got.get(), fdkit::sys::platform::ECANCELED);
    });
}

#[test]
fn panic_in_a_callback_comes_out_of_run() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let later = Arc::new(AtomicBool::new(false));
        lp.sleep_until(0, |_| panic!("boom")).unwrap();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lp.run(RunMode::Default)));
        let payload = caught.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
        // The loop is still usable afterwards.
        let l = later.clone();
        lp.sleep_until(0, move |r| l.store(r.is_ok(), Ordering::SeqCst)).unwrap();
        lp.run(RunMode::Default).unwrap();
        assert!(later.load(Ordering::SeqCst));
    });
}

#[test]
fn run_from_inside_a_callback_is_ebusy() {
    util::no_leaks(|| {
        let lp = Rc::new(Loop::new().unwrap());
        let got = Rc::new(Cell::new(0));
        let (l, g) = (lp.clone(), got.clone());
        lp.sleep_until(0, move |_| g.set(l.run(RunMode::NoWait).unwrap_err().errno()))
            .unwrap();
        lp.run(RunMode::Default).unwrap();
        assert_eq!(got.get(), 16);
    });
}

/// Threads keep posting through their own Poster while the loop's thread drops the loop:
/// every post either runs (during the drop at the latest) or fails with ESHUTDOWN. The old
/// Poster borrowed the loop, so this program did not compile: a poster could not outlive it.
#[test]
fn posters_outlive_the_loop_and_get_eshutdown() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    util::no_leaks(|| {
        for _ in 0..20 {
            let lp = Loop::new().unwrap();
            let ran = Arc::new(AtomicUsize::new(0));
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let poster = lp.poster().unwrap();
                    let ran = ran.clone();
                    std::thread::spawn(move || {
                        let mut accepted = 0;
                        loop {
                            let ran = ran.clone();
                            match poster.post(move || {
                                ran.fetch_add(1, Ordering::SeqCst);
                            }) {
                                Ok(()) => accepted += 1,
                                Err(e) => return (accepted, e),
                            }
                        }
                    })
                })
                .collect();
            lp.run(RunMode::NoWait).unwrap();
            drop(lp);
            let mut accepted = 0;
            for t in threads {
                let (n, err) = t.join().unwrap();
                assert_eq!(err.errno(), fdkit::sys::platform::ESHUTDOWN, "{}", err);
                accepted += n;
            }
            assert_eq!(ran.load(Ordering::SeqCst), accepted);
        }
    });
}

/// Loop::post takes closures that are not Send (the loop's own thread posts them); they
/// run during the run, never inside post, and keep a Default run going.
#[test]
fn post_on_the_loop_thread_runs_during_the_run() {
    util::no_leaks(|| {
        let lp = Loop::new().unwrap();
        let ran = Rc::new(Cell::new(0));
        for _ in 0..3 {
            let r = ran.clone(); // an Rc: not Send
            lp.post(move || r.set(r.get() + 1)).unwrap();
        }
        assert_eq!(ran.get(), 0);
        lp.run(RunMode::Default).unwrap();
        assert_eq!(ran.get(), 3);
        // Posted before the drop, run during it.
        let r = ran.clone();
        lp.post(move || r.set(10)).unwrap();
        drop(lp);
        assert_eq!(ran.get(), 10);
    });
}
