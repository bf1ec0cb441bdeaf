// SPDX-License-Identifier: MIT
//! Per-operation trace spans (trace.h).
use std::cell::Cell;
use std::ffi::CStr;
use std::os::raw::{c_char, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::Mutex;

use crate::error::{check, Error, Result};
use crate::sys;

/// Whether an event opens or closes its span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Begin,
    End,
}

/// One trace event; its strings live only during the hook call.
#[derive(Clone, Debug)]
pub struct TraceEvent<'a> {
    pub phase: Phase,
    /// "read", "openat", "spawn"...
    pub name: &'a str,
    /// The same in a span's begin and end.
    pub span_id: u64,
    /// The descriptor involved, or -1.
    pub fd: i32,
    pub path: Option<&'a str>,
    /// End: bytes, 0 or a negative errno; begin: 0.
    pub result: i64,
    pub detail: Option<&'a str>,
    pub thread_id: u64,
    pub time_ns: i64,
    /// End: time since the begin; begin: 0.
    pub duration_ns: i64,
}

type Hook = Box<dyn Fn(&TraceEvent<'_>) + Send + Sync>;

// The installed hook, boxed twice so C gets a thin pointer. The lock is held across
// fdk_trace_set, after which C never calls a replaced hook, so it can be freed.
static HOOK: Mutex<usize> = Mutex::new(0);

thread_local! {
    // Whether this thread is inside the hook: replacing it from there would free the
    // closure that is running, or wait for the lock a replacing thread holds while C waits
    // for this hook to return.
    static IN_HOOK: Cell<bool> = Cell::new(false);
}

fn opt_str<'a>(ptr: *const c_char) -> Option<&'a str> {
    // SAFETY: trace.h: the strings are valid during the call.
    (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) }.to_str().unwrap_or(""))
}

unsafe extern "C" fn on_event(event: *const sys::fdk_trace_event, data: *mut c_void) {
    let e = &*event;
    let hook = &*data.cast::<Hook>();
    let event = TraceEvent {
        phase: if e.phase == sys::FDK_TRACE_BEGIN { Phase::Begin } else { Phase::End },
        name: opt_str(e.name).unwrap_or(""),
        span_id: e.span_id,
        fd: e.fd,
        path: opt_str(e.path),
        result: e.result,
        detail: opt_str(e.detail),
        thread_id: e.thread_id,
        time_ns: e.time_ns,
        duration_ns: e.duration_ns,
    };
    // The hook runs on whatever thread does the operation, with no caller to hand a panic
    // to: it is dropped rather than unwound into C.
    IN_HOOK.with(|h| h.set(true));
    let _ = panic::catch_unwind(AssertUnwindSafe(|| hook(&event)));
    IN_HOOK.with(|h| h.set(false));
}

fn replace(new: Option<Hook>) -> Result<()> {
    if IN_HOOK.with(|h| h.get()) {
        return Err(Error::invalid("trace: the hook cannot be replaced from inside a hook"));
    }
    let mut slot = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let data = new.map_or(ptr::null_mut(), |h| Box::into_raw(Box::new(h)));
    let cb: sys::fdk_trace_cb = if data.is_null() { None } else { Some(on_event) };
    let r = unsafe { sys::fdk_trace_set(ptr::null_mut(), cb, data.cast()) };
    if r < 0 {
        if !data.is_null() {
            drop(unsafe { Box::from_raw(data) });
        }
        return check(r.into()).map(drop);
    }
    let old = std::mem::replace(&mut *slot, data as usize) as *mut Hook;
    if !old.is_null() {
        // SAFETY: fdk_trace_set returned, so C no longer calls the old hook.
        drop(unsafe { Box::from_raw(old) });
    }
    Ok(())
}

/// Installs `hook` for every fdkit operation in the process, replacing any earlier one.
/// It runs on the thread doing the operation (a loop, a worker, a caller) and may call
/// fdkit: operations it starts produce no events, and calling `set_hook` or `clear_hook`
/// from it is EINVAL. A panic in it is caught and dropped.
pub fn set_hook<F>(hook: F) -> Result<()>
where
    F: Fn(&TraceEvent<'_>) + Send + Sync + 'static,
{
    replace(Some(Box::new(hook)))
}

/// Removes the hook; when this returns it is no longer called.
pub fn clear_hook() -> Result<()> {
    replace(None)
}
