//! Trace spans (trace.h): a hook sees a begin and an end event for every operation.
use std::ffi::CStr;
use std::os::raw::{c_char, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::Mutex;

use crate::error::{check, Result};
use crate::sys;

/// One event. Borrowed strings live only during the hook call.
#[derive(Debug)]
pub struct Event<'a> {
    pub begin: bool,
    pub name: &'a str,
    pub span_id: u64,
    pub fd: i32,
    pub path: Option<&'a [u8]>,
    /// End: bytes, 0, or a negative errno; begin: 0.
    pub result: i64,
    pub detail: Option<&'a str>,
    pub thread_id: u64,
    pub duration_ns: i64,
}

type Hook = Box<dyn Fn(&Event<'_>) + Send + Sync>;

// The installed hook. It is called from any thread fdkit runs an operation on.
static HOOK: Mutex<Option<Hook>> = Mutex::new(None);

unsafe fn text<'a>(p: *const c_char) -> Option<&'a CStr> {
    if p.is_null() {
        None
    } else {
        Some(CStr::from_ptr(p))
    }
}

unsafe extern "C" fn call_hook(event: *const sys::fdk_trace_event, _data: *mut c_void) {
    let e = &*event;
    let ev = Event {
        begin: e.phase == sys::FDK_TRACE_BEGIN,
        name: text(e.name).and_then(|s| s.to_str().ok()).unwrap_or(""),
        span_id: e.span_id,
        fd: e.fd,
        path: text(e.path).map(CStr::to_bytes),
        result: e.result,
        detail: text(e.detail).and_then(|s| s.to_str().ok()),
        thread_id: e.thread_id,
        duration_ns: e.duration_ns,
    };
    // A panic must not unwind into C: it is caught and dropped (the hook is a side channel).
    let _ = panic::catch_unwind(AssertUnwindSafe(|| {
        if let Some(hook) = HOOK.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            hook(&ev);
        }
    }));
}

/// Installs `hook` for every operation of the process; `None` removes it. When this
/// returns, the previous hook is never called again. Operations the hook itself starts
/// produce no events.
pub fn set_hook(hook: Option<Hook>) -> Result<()> {
    let installing = hook.is_some();
    if installing {
        *HOOK.lock().unwrap_or_else(|p| p.into_inner()) = hook;
        check(unsafe { sys::fdk_trace_set(ptr::null_mut(), Some(call_hook), ptr::null_mut()) }.into())?;
    } else {
        check(unsafe { sys::fdk_trace_set(ptr::null_mut(), None, ptr::null_mut()) }.into())?;
        *HOOK.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
    Ok(())
}
