// SPDX-License-Identifier: MIT
//! The event loop, pending operations, and the one trampoline every callback goes through.
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::os::raw::{c_int, c_void};
use std::os::unix::io::RawFd;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::rc::Rc;

use crate::error::{check, Error, Result};
use crate::sys;

/// How [`Loop::run`] waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// Until no operation is pending or [`Loop::stop`].
    Default,
    /// Wait for events once and run their callbacks.
    Once,
    /// Run what is ready without waiting.
    NoWait,
}

thread_local! {
    // A panic caught in a callback on this thread, resumed when Loop::run returns.
    static CAUGHT_PANIC: RefCell<Option<Box<dyn Any + Send>>> = RefCell::new(None);
}

/// Runs `f` without letting a panic unwind into C: the first panic is kept for
/// `Loop::run` to resume, and the loop is asked to stop.
pub(crate) fn call_from_c(lp: *mut sys::fdk_loop, f: impl FnOnce()) {
    if catch_panic(f).is_none() {
        unsafe { sys::fdk_loop_stop(lp) };
    }
}

/// Runs `f`; a panic is kept on this thread (the first one) for [`resume_caught_panic`]
/// and gives None.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> Option<T> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Some(value),
        Err(payload) => {
            CAUGHT_PANIC.with(|slot| {
                slot.borrow_mut().get_or_insert(payload);
            });
            None
        }
    }
}

/// Resumes the panic a callback raised on this thread, if any.
pub(crate) fn resume_caught_panic() {
    if let Some(payload) = CAUGHT_PANIC.with(|slot| slot.borrow_mut().take()) {
        panic::resume_unwind(payload);
    }
}

/// An fdkit event loop. It belongs to the thread that runs it, so it is neither `Send`
/// nor `Sync`; [`Loop::poster`] gives other threads a way to reach it.
pub struct Loop {
    raw: NonNull<sys::fdk_loop>,
    _single_thread: PhantomData<*mut ()>,
}

impl Loop {
    pub fn new() -> Result<Loop> {
        let mut raw = ptr::null_mut();
        check(unsafe { sys::fdk_loop_new(&mut raw) }.into())?;
        Ok(Loop {
            raw: NonNull::new(raw).expect("fdk_loop_new succeeded without a loop"),
            _single_thread: PhantomData,
        })
    }

    pub fn as_raw(&self) -> *mut sys::fdk_loop {
        self.raw.as_ptr()
    }

    /// Runs callbacks; returns whether operations are still pending. A panic raised by a
    /// callback during this run is resumed here.
    pub fn run(&self, mode: RunMode) -> Result<bool> {
        let mode = match mode {
            RunMode::Default => sys::FDK_RUN_DEFAULT,
            RunMode::Once => sys::FDK_RUN_ONCE,
            RunMode::NoWait => sys::FDK_RUN_NOWAIT,
        };
        let result = check(unsafe { sys::fdk_loop_run(self.as_raw(), mode) }.into());
        resume_caught_panic();
        Ok(result? > 0)
    }

    /// Makes the current (or next) run return early.
    pub fn stop(&self) {
        unsafe { sys::fdk_loop_stop(self.as_raw()) }
    }

    /// For hosts with their own event loop: poll this descriptor, then run with NoWait.
    pub fn backend_fd(&self) -> Result<RawFd> {
        check(unsafe { sys::fdk_loop_backend_fd(self.as_raw()) }.into()).map(|fd| fd as RawFd)
    }

    /// Milliseconds a host may wait on the backend descriptor; `None` when no timer is due.
    pub fn backend_timeout(&self) -> Option<u32> {
        let ms = unsafe { sys::fdk_loop_backend_timeout(self.as_raw()) };
        u32::try_from(ms).ok()
    }

    /// Queues `f` to run on this loop's thread during a run (or while the loop is dropped);
    /// it counts as pending work, so a `Default` run does not return before it ran. The
    /// loop is not `Send`, so this is the loop's own thread and `f` need not be `Send`;
    /// other threads use [`Loop::poster`].
    pub fn post<F: FnOnce() + 'static>(&self, f: F) -> Result<()> {
        let data = Box::into_raw(Box::new((self.as_raw(), f)));
        let r = unsafe { sys::fdk_loop_post(self.as_raw(), Some(run_posted::<F>), data.cast()) };
        if r < 0 {
            let err = Error::last(r.into());
            drop(unsafe { Box::from_raw(data) });
            return Err(err);
        }
        Ok(())
    }

    /// A handle other threads can use to post functions to this loop. It may outlive the
    /// loop: posting after the loop was dropped fails with ESHUTDOWN.
    pub fn poster(&self) -> Result<Poster> {
        let mut remote = ptr::null_mut();
        check(unsafe { sys::fdk_loop_remote_new(&mut remote, self.as_raw()) }.into())?;
        Ok(Poster {
            remote: NonNull::new(remote).expect("fdk_loop_remote_new succeeded without a handle"),
            lp: self.raw,
        })
    }

    /// Starts an asynchronous operation whose C callback is `fdk_result_cb`. `start` calls
    /// the C `*_async` function with the callback, its data and the op out-pointer; `done`
    /// receives the raw result on the loop thread. `done` owns whatever the operation
    /// borrows (buffers, handles), so it lives exactly until the callback ran, or is
    /// dropped here if the start failed.
    pub(crate) fn start<F>(
        &self,
        done: F,
        start: impl FnOnce(sys::fdk_result_cb, *mut c_void, *mut *mut sys::fdk_op) -> c_int,
    ) -> Result<Op>
    where
        F: FnOnce(i64) + 'static,
    {
        self.start_with(done, |data, op| start(Some(complete::<F>), data, op))
    }

    /// [`Loop::start`] for an operation whose result is 0 or a negative errno.
    pub(crate) fn start_unit<F>(
        &self,
        done: F,
        start: impl FnOnce(sys::fdk_result_cb, *mut c_void, *mut *mut sys::fdk_op) -> c_int,
    ) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        self.start(move |result| done(check(result).map(drop)), start)
    }

    /// The same for any C callback shape: `start` passes its own trampoline, which hands
    /// the data pointer and its converted arguments to [`finish`].
    pub(crate) fn start_with<A, F>(
        &self,
        done: F,
        start: impl FnOnce(*mut c_void, *mut *mut sys::fdk_op) -> c_int,
    ) -> Result<Op>
    where
        F: FnOnce(A) + 'static,
    {
        let op = Rc::new(Cell::new(ptr::null_mut()));
        let pending = Box::into_raw(Box::new(Pending {
            lp: self.as_raw(),
            op: op.clone(),
            done,
        }));
        let mut raw_op = ptr::null_mut();
        let r = start(pending.cast(), &mut raw_op);
        if r < 0 {
            let err = Error::last(r.into());
            drop(unsafe { Box::from_raw(pending) });
            return Err(err);
        }
        op.set(raw_op);
        Ok(Op { raw: op })
    }
}

impl Drop for Loop {
    /// Completes every pending operation with ECANCELED (their callbacks run) and frees
    /// the loop. Panics from those callbacks are dropped: a destructor must not unwind.
    fn drop(&mut self) {
        // -EBUSY (dropped from inside one of its own callbacks) leaks the loop, which is safe.
        unsafe { sys::fdk_loop_free(self.as_raw()) };
        CAUGHT_PANIC.with(|slot| slot.borrow_mut().take());
    }
}

struct Pending<F> {
    lp: *mut sys::fdk_loop,
    op: Rc<Cell<*mut sys::fdk_op>>,
    done: F,
}

/// Ends an operation started with [`Loop::start_with`]: `data` is its pending state,
/// `arg` what `done` receives. Runs on the loop thread, inside the C callback.
///
/// # Safety
/// `data` must come from `start_with` with the same `F`, and be finished once.
pub(crate) unsafe fn finish<A, F: FnOnce(A)>(data: *mut c_void, arg: A) {
    let pending = Box::from_raw(data.cast::<Pending<F>>());
    let lp = pending.lp;
    call_from_c(lp, move || {
        let Pending { op, done, .. } = *pending;
        op.set(ptr::null_mut()); // the C op is gone once this callback returns
        done(arg)
    });
}

unsafe extern "C" fn complete<F: FnOnce(i64)>(result: i64, data: *mut c_void) {
    finish::<i64, F>(data, result)
}

/// A pending asynchronous operation, valid on the loop's thread.
pub struct Op {
    raw: Rc<Cell<*mut sys::fdk_op>>,
}

impl Op {
    /// Whether the callback has not run yet.
    pub fn is_pending(&self) -> bool {
        !self.raw.get().is_null()
    }

    /// The C op while it is pending, else null.
    pub(crate) fn raw(&self) -> *mut sys::fdk_op {
        self.raw.get()
    }

    /// Asks the operation to complete with ECANCELED; false if it already completed. The
    /// callback's result tells whether the cancellation took effect.
    pub fn cancel(&self) -> bool {
        let raw = self.raw.get();
        !raw.is_null() && unsafe { sys::fdk_op_cancel(raw) } == 0
    }
}

/// Posts functions to a loop from any thread, for as long as the poster lives: it holds a
/// reference to fdkit's cross-thread handle, never to the loop itself, so it may outlive
/// the loop (posts then fail with ESHUTDOWN). Cloning adds a reference.
pub struct Poster {
    remote: NonNull<sys::fdk_loop_remote>,
    // Handed to the posted function for fdk_loop_stop; only used while that function runs
    // on the loop thread, when the loop is alive by construction.
    lp: NonNull<sys::fdk_loop>,
}

// SAFETY: every fdk_loop_remote_* call is safe from any thread and never touches a freed
// loop; the posted function must itself be Send.
unsafe impl Send for Poster {}
unsafe impl Sync for Poster {}

impl Poster {
    /// Queues `f` to run on the loop thread during a run (or while the loop is dropped).
    /// Fails with ESHUTDOWN (and drops `f` here) once the loop is being dropped.
    pub fn post<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<()> {
        let data = Box::into_raw(Box::new((self.lp.as_ptr(), f)));
        let r = unsafe { sys::fdk_loop_remote_post(self.remote.as_ptr(), Some(run_posted::<F>), data.cast()) };
        if r < 0 {
            let err = Error::last(r.into());
            drop(unsafe { Box::from_raw(data) });
            return Err(err);
        }
        Ok(())
    }
}

impl Clone for Poster {
    fn clone(&self) -> Poster {
        unsafe { sys::fdk_loop_remote_ref(self.remote.as_ptr()) };
        Poster {
            remote: self.remote,
            lp: self.lp,
        }
    }
}

impl Drop for Poster {
    fn drop(&mut self) {
        unsafe { sys::fdk_loop_remote_unref(self.remote.as_ptr()) };
    }
}

unsafe extern "C" fn run_posted<F: FnOnce()>(data: *mut c_void) {
    let posted = Box::from_raw(data.cast::<(*mut sys::fdk_loop, F)>());
    let lp = posted.0;
    call_from_c(lp, move || (posted.1)());
}
