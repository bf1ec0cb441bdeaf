// SPDX-License-Identifier: MIT
//! Descriptor handles (fd.h).
use std::os::raw::{c_int, c_void};
use std::os::unix::io::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::ptr::{self, NonNull};

use crate::error::{check, Error, Result};
use crate::event_loop::{finish, Loop, Op};
use crate::sys;

/// Blocking mode of an adopted descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocking {
    /// Read it from the descriptor.
    Detect,
    /// The descriptor is blocking and its open file description may be shared: fdkit must
    /// leave it so.
    Keep,
}

/// A reference to an fdkit descriptor handle. Every call may be made from any thread
/// (fd.h), so it is `Send + Sync`. `clone` adds a reference; dropping the last one closes
/// the descriptor if nobody did.
pub struct Fd {
    raw: NonNull<sys::fdk_fd>,
    borrowed: bool,
}

// SAFETY: fd.h: "every call here may be made from any thread", and so may sync I/O.
unsafe impl Send for Fd {}
unsafe impl Sync for Fd {}

fn adopt(raw: RawFd, flags: u32) -> Result<NonNull<sys::fdk_fd>> {
    let mut out = ptr::null_mut();
    check(unsafe { sys::fdk_fd_adopt(&mut out, raw, flags) }.into())?;
    Ok(NonNull::new(out).expect("fdk_fd_adopt succeeded without a handle"))
}

impl Fd {
    /// Takes ownership of `fd`. On failure the descriptor is closed.
    pub fn from_owned(fd: OwnedFd, blocking: Blocking) -> Result<Fd> {
        let flags = match blocking {
            Blocking::Detect => 0,
            Blocking::Keep => sys::FDK_FD_BLOCKING,
        };
        let raw = fd.into_raw_fd();
        match adopt(raw, flags) {
            Ok(handle) => Ok(Fd { raw: handle, borrowed: false }),
            Err(e) => {
                drop(unsafe { OwnedFd::from_raw_fd(raw) });
                Err(e)
            }
        }
    }

    /// A handle on a descriptor fdkit never closes (FDK_FD_BORROW).
    ///
    /// # Safety
    /// `raw` must stay open as long as the handle is used.
    pub unsafe fn borrow_raw(raw: RawFd, blocking: Blocking) -> Result<Fd> {
        let mode = if blocking == Blocking::Keep { sys::FDK_FD_BLOCKING } else { 0 };
        Ok(Fd {
            raw: adopt(raw, sys::FDK_FD_BORROW | mode)?,
            borrowed: true,
        })
    }

    /// Takes ownership of a handle returned by the C API (one reference).
    ///
    /// # Safety
    /// `raw` must be a valid handle whose reference the caller gives up.
    pub unsafe fn from_raw(raw: *mut sys::fdk_fd) -> Fd {
        Fd {
            raw: NonNull::new(raw).expect("null fdk_fd"),
            borrowed: false,
        }
    }

    pub fn as_raw(&self) -> *mut sys::fdk_fd {
        self.raw.as_ptr()
    }

    /// Runs `f` with the descriptor number marked in use, so a concurrent close waits for
    /// `f` to return before the number can be reused. EBADF once the handle is closing.
    pub fn with_raw_fd<T>(&self, f: impl FnOnce(RawFd) -> T) -> Result<T> {
        struct Unuse(*mut sys::fdk_fd);
        impl Drop for Unuse {
            fn drop(&mut self) {
                unsafe { sys::fdk_fd_unuse(self.0) }
            }
        }
        let mut raw = -1;
        check(unsafe { sys::fdk_fd_use(self.as_raw(), &mut raw) }.into())?;
        let _unuse = Unuse(self.as_raw());
        Ok(f(raw))
    }

    /// Closes the descriptor now, or when the last running operation ends. Later uses
    /// through any reference fail with EBADF; a second close is EBADF.
    pub fn close(&self) -> Result<()> {
        check(unsafe { sys::fdk_fd_close(self.as_raw()) }.into()).map(drop)
    }

    /// Waits until no operation uses the descriptor and hands it back open; the handle
    /// then behaves as closed. A borrowed descriptor is not the handle's to give: EINVAL.
    pub fn release(self) -> Result<OwnedFd> {
        if self.borrowed {
            return Err(Error::invalid("release: the handle borrows its descriptor"));
        }
        let mut raw = -1;
        check(unsafe { sys::fdk_fd_release(self.as_raw(), &mut raw) }.into())?;
        Ok(unsafe { OwnedFd::from_raw_fd(raw) })
    }

    /// Whether the handle was adopted in blocking mode.
    pub fn is_blocking(&self) -> Result<bool> {
        check(unsafe { sys::fdk_fd_is_blocking(self.as_raw()) }.into()).map(|b| b != 0)
    }
}

/// The descriptor number, or -1 once the handle is closing. A system call made on it can
/// race with a close from another thread: prefer [`Fd::with_raw_fd`].
impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        let raw = unsafe { sys::fdk_fd_raw(self.as_raw()) };
        if raw < 0 {
            -1
        } else {
            raw
        }
    }
}

impl std::fmt::Debug for Fd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fd").field("raw_fd", &self.as_raw_fd()).finish()
    }
}

impl TryFrom<OwnedFd> for Fd {
    type Error = Error;
    fn try_from(fd: OwnedFd) -> Result<Fd> {
        Fd::from_owned(fd, Blocking::Detect)
    }
}

impl Clone for Fd {
    fn clone(&self) -> Fd {
        Fd {
            raw: NonNull::new(unsafe { sys::fdk_fd_ref(self.as_raw()) }).expect("fdk_fd_ref"),
            borrowed: self.borrowed,
        }
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        unsafe { sys::fdk_fd_unref(self.as_raw()) };
    }
}

impl Loop {
    /// Starts an operation whose callback delivers a new handle (fdk_open_cb,
    /// fdk_accept_cb); `start` gets the trampoline, its data and the op out-pointer.
    pub(crate) fn start_fd<F: FnOnce(Result<Fd>) + 'static>(
        &self,
        done: F,
        start: impl FnOnce(sys::fdk_open_cb, *mut c_void, *mut *mut sys::fdk_op) -> c_int,
    ) -> Result<Op> {
        self.start_with(done, |data, op| start(Some(fd_done::<F>), data, op))
    }
}

/// The trampoline of callbacks that deliver a new handle: the handle the callback owns
/// becomes an `Fd` before `done` runs.
unsafe extern "C" fn fd_done<F: FnOnce(Result<Fd>)>(
    result: c_int,
    fd: *mut sys::fdk_fd,
    data: *mut c_void,
) {
    let fd = if result < 0 { Err(Error::last(result.into())) } else { Ok(Fd::from_raw(fd)) };
    finish::<_, F>(data, fd)
}

/// A pipe: (read end, write end), both close-on-exec and non-blocking.
pub fn pipe() -> Result<(Fd, Fd)> {
    let (mut r, mut w) = (ptr::null_mut(), ptr::null_mut());
    check(unsafe { sys::fdk_pipe(&mut r, &mut w) }.into())?;
    Ok(unsafe { (Fd::from_raw(r), Fd::from_raw(w)) })
}
