// SPDX-License-Identifier: MIT
//! Errors: the negative errno of a failed call plus fdk_last_error()'s detail.
use std::ffi::{CStr, CString};
use std::fmt;
use std::io;
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::sys;

/// A failed fdkit call: the errno (positive), the detail fdkit recorded, and whether the
/// failure was a path refused for leaving its confined directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    errno: i32,
    detail: String,
    escape: bool,
}

pub type Result<T> = std::result::Result<T, Error>;

fn text(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: fdkit returns NUL-terminated strings valid until the next call on this thread.
    unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned()
}

impl Error {
    /// The error for `code` (negative or positive errno) with this thread's last detail.
    /// Call it right after the failing call, on the same thread.
    pub(crate) fn last(code: i64) -> Error {
        Error {
            errno: code.unsigned_abs() as i32,
            detail: text(unsafe { sys::fdk_last_error() }),
            // Read with the detail: both describe this thread's last failure only.
            escape: unsafe { sys::fdk_last_error_is_escape() } == 1,
        }
    }

    /// An invalid argument the binding itself refused (EINVAL) before calling fdkit.
    pub(crate) fn invalid(detail: &str) -> Error {
        Error {
            errno: sys::platform::EINVAL,
            detail: detail.to_string(),
            escape: false,
        }
    }

    /// The errno value, positive (`libc::ENOENT`'s value, not its negation).
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// The symbolic name, such as "EBADF".
    pub fn name(&self) -> String {
        text(unsafe { sys::fdk_errname(self.errno as c_int) })
    }

    /// The detail fdkit recorded ("read: ..."); may be empty.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The `io::ErrorKind` the standard library gives this errno.
    pub fn kind(&self) -> io::ErrorKind {
        io::Error::from_raw_os_error(self.errno).kind()
    }

    /// Whether a confined directory refused the path because it leaves the directory
    /// (errno EXDEV): tells such a refusal from a genuine cross-device EXDEV of a rename
    /// or link (`fdk_last_error_is_escape`).
    pub fn is_escape(&self) -> bool {
        self.escape
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.detail.is_empty() {
            text(unsafe { sys::fdk_strerror(self.errno as c_int) })
        } else {
            self.detail.clone()
        };
        write!(f, "{} ({})", what, self.name())
    }
}

impl std::error::Error for Error {}

/// An OS error of the same errno: `raw_os_error()` is `Some(errno)` and `kind()` is the
/// standard library's for it, as for an error std's own file calls return. `io::Error`
/// cannot carry both an errno and a message of its own, so fdkit's detail is not kept:
/// log the `fdkit::Error` (its `Display` has the detail) before converting when it
/// matters.
impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::from_raw_os_error(e.errno)
    }
}

/// A C result: non-negative values pass, negative ones become the thread's last error.
pub(crate) fn check(result: i64) -> Result<i64> {
    if result < 0 {
        Err(Error::last(result))
    } else {
        Ok(result)
    }
}

/// A path or other text as a C string; an interior NUL byte is EINVAL.
pub(crate) fn c_string(bytes: impl Into<Vec<u8>>) -> Result<CString> {
    CString::new(bytes).map_err(|_| Error::invalid("a string argument contains a NUL byte"))
}

/// A path as a C string.
pub(crate) fn c_path(path: &Path) -> Result<CString> {
    c_string(path.as_os_str().as_bytes())
}

/// Copies a C string fdkit allocated and frees it.
pub(crate) fn take_text(ptr: *mut c_char) -> Vec<u8> {
    // SAFETY: fdkit returned a NUL-terminated string that the caller now owns.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes().to_vec();
    unsafe { sys::fdk_free(ptr.cast()) };
    bytes
}

/// The loaded library's version as MAJOR * 10000 + MINOR * 100 + PATCH.
pub fn version() -> u32 {
    unsafe { sys::fdk_version() }
}

/// The loaded library's version as "MAJOR.MINOR.PATCH".
pub fn version_string() -> String {
    text(unsafe { sys::fdk_version_string() })
}
