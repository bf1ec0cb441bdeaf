// SPDX-License-Identifier: MIT
//! Reading, writing and the other calls on an open descriptor, and timers (io.h).
use std::io::{self, IoSlice, IoSliceMut, SeekFrom};
use std::os::raw::{c_int, c_void};

use crate::error::{check, Error, Result};
use crate::event_loop::{Loop, Op};
use crate::fd::Fd;
use crate::sys;

/// iovecs over owned buffers, whose heap memory stays put while the buffers move.
pub(crate) fn owned_iovecs(bufs: &mut [Vec<u8>]) -> Vec<sys::iovec> {
    bufs.iter_mut().map(|b| sys::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() }).collect()
}

pub(crate) fn iov_count(n: usize) -> Result<c_int> {
    c_int::try_from(n).map_err(|_| Error::invalid("too many buffers"))
}

// IoSlice and IoSliceMut are ABI-compatible with struct iovec on Unix.
fn iovecs(bufs: &[IoSlice<'_>]) -> *const sys::iovec {
    bufs.as_ptr().cast()
}

fn iovecs_mut(bufs: &mut [IoSliceMut<'_>]) -> *const sys::iovec {
    bufs.as_mut_ptr().cast::<sys::iovec>()
}

fn seek_args(pos: SeekFrom) -> (i64, c_int) {
    match pos {
        SeekFrom::Start(n) => (n as i64, sys::FDK_SEEK_SET),
        SeekFrom::Current(n) => (n, sys::FDK_SEEK_CUR),
        SeekFrom::End(n) => (n, sys::FDK_SEEK_END),
    }
}

/// Synchronous calls: they block the calling thread (waiting with poll on a non-blocking
/// descriptor) and may be made from any thread. Each is one system call's worth.
impl Fd {
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        let n = unsafe { sys::fdk_read(self.as_raw(), buf.as_mut_ptr().cast(), buf.len()) };
        check(n as i64).map(|n| n as usize)
    }

    pub fn write(&self, buf: &[u8]) -> Result<usize> {
        let n = unsafe { sys::fdk_write(self.as_raw(), buf.as_ptr().cast(), buf.len()) };
        check(n as i64).map(|n| n as usize)
    }

    pub fn read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> Result<usize> {
        let count = iov_count(bufs.len())?;
        let n = unsafe { sys::fdk_readv(self.as_raw(), iovecs_mut(bufs), count) };
        check(n as i64).map(|n| n as usize)
    }

    pub fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> Result<usize> {
        let count = iov_count(bufs.len())?;
        let n = unsafe { sys::fdk_writev(self.as_raw(), iovecs(bufs), count) };
        check(n as i64).map(|n| n as usize)
    }

    /// preadv: reads at `offset` without moving the file position.
    pub fn read_vectored_at(&self, bufs: &mut [IoSliceMut<'_>], offset: u64) -> Result<usize> {
        let count = iov_count(bufs.len())?;
        let n = unsafe { sys::fdk_preadv(self.as_raw(), iovecs_mut(bufs), count, offset as i64) };
        check(n as i64).map(|n| n as usize)
    }

    /// pwritev: writes at `offset` without moving the file position.
    pub fn write_vectored_at(&self, bufs: &[IoSlice<'_>], offset: u64) -> Result<usize> {
        let count = iov_count(bufs.len())?;
        let n = unsafe { sys::fdk_pwritev(self.as_raw(), iovecs(bufs), count, offset as i64) };
        check(n as i64).map(|n| n as usize)
    }

    pub fn seek(&self, pos: SeekFrom) -> Result<u64> {
        let (offset, whence) = seek_args(pos);
        check(unsafe { sys::fdk_lseek(self.as_raw(), offset, whence) }).map(|n| n as u64)
    }

    /// fsync, or fdatasync when `data_only`.
    pub fn sync(&self, data_only: bool) -> Result<()> {
        let flags = if data_only { sys::FDK_FSYNC_DATA } else { 0 };
        check(unsafe { sys::fdk_fsync(self.as_raw(), flags) }.into()).map(drop)
    }

    pub fn set_len(&self, length: u64) -> Result<()> {
        check(unsafe { sys::fdk_ftruncate(self.as_raw(), length as i64) }.into()).map(drop)
    }
}

impl io::Read for &Fd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(Fd::read(self, buf)?)
    }
    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        Ok(Fd::read_vectored(self, bufs)?)
    }
}

impl io::Write for &Fd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(Fd::write(self, buf)?)
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        Ok(Fd::write_vectored(self, bufs)?)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Read for Fd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        io::Read::read(&mut &*self, buf)
    }
}

impl io::Write for Fd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::Write::write(&mut &*self, buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Fills `buf` with random bytes; returns the count. `nonblock`: EAGAIN instead of waiting
/// for the entropy pool.
pub fn getrandom(buf: &mut [u8], nonblock: bool) -> Result<usize> {
    let flags = if nonblock { sys::FDK_RANDOM_NONBLOCK } else { 0 };
    let n = unsafe { sys::fdk_getrandom(buf.as_mut_ptr().cast(), buf.len(), flags) };
    check(n as i64).map(|n| n as usize)
}

/// Nanoseconds on the monotonic clock.
pub fn now_ns() -> i64 {
    unsafe { sys::fdk_now_ns() }
}

fn byte_count(result: i64) -> Result<usize> {
    check(result).map(|n| n as usize)
}

/// Asynchronous calls: each takes ownership of what the operation uses (the handle, the
/// buffer) and gives it back to `done`, which runs on the loop thread from `Loop::run`.
impl Loop {
    /// Reads up to `buf.len()` bytes; `done` gets the count and `buf` cut to it.
    pub fn read_async<F>(&self, fd: &Fd, mut buf: Vec<u8>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<usize>, Vec<u8>) + 'static,
    {
        let (ptr, len) = (buf.as_mut_ptr(), buf.len());
        let fd = fd.clone();
        let raw_fd = fd.as_raw();
        self.start(
            move |result| {
                drop(fd);
                let result = byte_count(result);
                buf.truncate(*result.as_ref().unwrap_or(&0));
                done(result, buf)
            },
            |cb, data, op| unsafe { sys::fdk_read_async(self.as_raw(), raw_fd, ptr.cast(), len, cb, data, op) },
        )
    }

    /// Writes from `buf`; `done` gets the count (possibly short) and `buf` back.
    pub fn write_async<F>(&self, fd: &Fd, buf: Vec<u8>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<usize>, Vec<u8>) + 'static,
    {
        self.start_write(fd, buf, done, sys::fdk_write_async)
    }

    /// readv, or preadv at `offset`: fills `bufs` in order; `done` gets the count and the
    /// buffers back unchanged in length.
    pub fn read_vectored_async<F>(&self, fd: &Fd, bufs: Vec<Vec<u8>>, offset: Option<u64>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<usize>, Vec<Vec<u8>>) + 'static,
    {
        self.start_vectored(fd, bufs, done, |lp, fd, iov, count, cb, data, op| unsafe {
            match offset {
                Some(at) => sys::fdk_preadv_async(lp, fd, iov, count, at as i64, cb, data, op),
                None => sys::fdk_readv_async(lp, fd, iov, count, cb, data, op),
            }
        })
    }

    /// writev, or pwritev at `offset`; `done` gets the count (possibly short) and the buffers.
    pub fn write_vectored_async<F>(&self, fd: &Fd, bufs: Vec<Vec<u8>>, offset: Option<u64>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<usize>, Vec<Vec<u8>>) + 'static,
    {
        self.start_vectored(fd, bufs, done, |lp, fd, iov, count, cb, data, op| unsafe {
            match offset {
                Some(at) => sys::fdk_pwritev_async(lp, fd, iov, count, at as i64, cb, data, op),
                None => sys::fdk_writev_async(lp, fd, iov, count, cb, data, op),
            }
        })
    }

    /// Starts a vectored call on `bufs`: `start` gets the loop, the handle, the iovec array
    /// (which the C call copies) and the callback arguments. The heap buffers the iovecs
    /// point into move into `done` without moving themselves; `done` gets them back.
    fn start_vectored<F>(
        &self,
        fd: &Fd,
        mut bufs: Vec<Vec<u8>>,
        done: F,
        start: impl FnOnce(
            *mut sys::fdk_loop,
            *mut sys::fdk_fd,
            *const sys::iovec,
            c_int,
            sys::fdk_result_cb,
            *mut c_void,
            *mut *mut sys::fdk_op,
        ) -> c_int,
    ) -> Result<Op>
    where
        F: FnOnce(Result<usize>, Vec<Vec<u8>>) + 'static,
    {
        let iov = owned_iovecs(&mut bufs);
        let count = iov_count(iov.len())?;
        let fd = fd.clone();
        let raw_fd = fd.as_raw();
        self.start(
            move |result| {
                drop(fd);
                done(byte_count(result), bufs)
            },
            |cb, data, op| start(self.as_raw(), raw_fd, iov.as_ptr(), count, cb, data, op),
        )
    }

    /// lseek on the worker pool; `done` gets the new offset.
    pub fn seek_async<F>(&self, fd: &Fd, pos: SeekFrom, done: F) -> Result<Op>
    where
        F: FnOnce(Result<u64>) + 'static,
    {
        let (offset, whence) = seek_args(pos);
        let fd = fd.clone();
        let raw_fd = fd.as_raw();
        self.start(
            move |result| {
                drop(fd);
                done(check(result).map(|n| n as u64))
            },
            |cb, data, op| unsafe { sys::fdk_lseek_async(self.as_raw(), raw_fd, offset, whence, cb, data, op) },
        )
    }

    /// fsync (fdatasync when `data_only`) on the worker pool.
    pub fn sync_async<F>(&self, fd: &Fd, data_only: bool, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let flags = if data_only { sys::FDK_FSYNC_DATA } else { 0 };
        self.start_fd_unit(fd, done, |lp, fd, cb, data, op| unsafe { sys::fdk_fsync_async(lp, fd, flags, cb, data, op) })
    }

    /// ftruncate on the worker pool.
    pub fn set_len_async<F>(&self, fd: &Fd, length: u64, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        self.start_fd_unit(fd, done, |lp, fd, cb, data, op| unsafe {
            sys::fdk_ftruncate_async(lp, fd, length as i64, cb, data, op)
        })
    }

    /// Starts an operation on `fd` whose result is 0 or an errno; the handle is referenced
    /// until the callback.
    pub(crate) fn start_fd_unit<F>(
        &self,
        fd: &Fd,
        done: F,
        start: impl FnOnce(
            *mut sys::fdk_loop,
            *mut sys::fdk_fd,
            sys::fdk_result_cb,
            *mut c_void,
            *mut *mut sys::fdk_op,
        ) -> c_int,
    ) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let fd = fd.clone();
        let raw_fd = fd.as_raw();
        self.start_unit(
            move |result| {
                drop(fd);
                done(result)
            },
            |cb, data, op| start(self.as_raw(), raw_fd, cb, data, op),
        )
    }

    /// Fills a new buffer of `len` random bytes on the worker pool.
    pub fn getrandom_async<F>(&self, len: usize, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Vec<u8>>) + 'static,
    {
        let mut buf = vec![0u8; len];
        let ptr = buf.as_mut_ptr();
        self.start(
            move |result| {
                done(byte_count(result).map(|n| {
                    buf.truncate(n);
                    buf
                }))
            },
            |cb, data, op| unsafe { sys::fdk_getrandom_async(self.as_raw(), ptr.cast(), len, 0, cb, data, op) },
        )
    }

    /// Completes once `now_ns() >= deadline_ns` (never earlier), or with ECANCELED.
    pub fn sleep_until<F>(&self, deadline_ns: i64, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        self.start(
            move |result| done(check(result).map(drop)),
            |cb, data, op| unsafe { sys::fdk_sleep_until(self.as_raw(), deadline_ns, cb, data, op) },
        )
    }
}

/// The C calls that write one buffer asynchronously.
type WriteCall = unsafe extern "C" fn(
    *mut sys::fdk_loop,
    *mut sys::fdk_fd,
    *const c_void,
    usize,
    sys::fdk_result_cb,
    *mut c_void,
    *mut *mut sys::fdk_op,
) -> c_int;

impl Loop {
    /// Writes all of `buf`: `done` gets its whole length once every byte is written (or an
    /// error), and `buf` back. Writes on one handle are queued in submission order and never
    /// interleave.
    pub fn write_all_async<F>(&self, fd: &Fd, buf: Vec<u8>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<usize>, Vec<u8>) + 'static,
    {
        self.start_write(fd, buf, done, sys::fdk_write_all_async)
    }

    /// Writes all of `bufs`, in order, as one queued write (see [`Loop::write_all_async`]):
    /// `done` gets their total length once every byte is written, and the buffers back.
    pub fn write_vectored_all_async<F>(&self, fd: &Fd, bufs: Vec<Vec<u8>>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<usize>, Vec<Vec<u8>>) + 'static,
    {
        self.start_vectored(fd, bufs, done, |lp, fd, iov, count, cb, data, op| unsafe {
            sys::fdk_writev_all_async(lp, fd, iov, count, cb, data, op)
        })
    }

    /// Starts `call` (fdk_write_async or fdk_write_all_async) on `buf`, which stays where
    /// it is until `done` gets it back.
    fn start_write<F>(&self, fd: &Fd, buf: Vec<u8>, done: F, call: WriteCall) -> Result<Op>
    where
        F: FnOnce(Result<usize>, Vec<u8>) + 'static,
    {
        let (ptr, len) = (buf.as_ptr(), buf.len());
        let fd = fd.clone();
        let raw_fd = fd.as_raw();
        self.start(
            move |result| {
                drop(fd);
                done(byte_count(result), buf)
            },
            |cb, data, op| unsafe { call(self.as_raw(), raw_fd, ptr.cast::<c_void>(), len, cb, data, op) },
        )
    }

    /// Bytes queued on `fd` by `write_all_async` and not yet written (back-pressure).
    pub fn write_queue_size(&self, fd: &Fd) -> Result<u64> {
        check(unsafe { sys::fdk_write_queue_size(self.as_raw(), fd.as_raw()) }).map(|n| n as u64)
    }
}
