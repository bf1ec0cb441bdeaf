//! Raw declarations of the C API, one section per public header, in the header's order.
//! Constants are fdkit's own values (DESIGN.md, convention 8), so they are written out here.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_uint, c_void};

macro_rules! opaque {
    ($($name:ident),*) => {
        $(#[repr(C)]
        pub struct $name {
            _private: [u8; 0],
        })*
    };
}

// common.h
opaque!(fdk_loop, fdk_op, fdk_fd);

/// `struct iovec`; `std::io::IoSlice` and `IoSliceMut` share its layout on Unix.
#[repr(C)]
pub struct iovec {
    pub iov_base: *mut c_void,
    pub iov_len: usize,
}

extern "C" {
    pub fn fdk_version() -> c_uint;
    pub fn fdk_version_string() -> *const c_char;
    pub fn fdk_strerror(err: c_int) -> *const c_char;
    pub fn fdk_errname(err: c_int) -> *const c_char;
    pub fn fdk_last_error() -> *const c_char;
    pub fn fdk_free(ptr: *mut c_void);
}

// loop.h
pub const FDK_RUN_DEFAULT: c_int = 0;
pub const FDK_RUN_ONCE: c_int = 1;
pub const FDK_RUN_NOWAIT: c_int = 2;

pub type fdk_result_cb = Option<unsafe extern "C" fn(result: i64, data: *mut c_void)>;
pub type fdk_post_fn = Option<unsafe extern "C" fn(data: *mut c_void)>;

extern "C" {
    pub fn fdk_loop_new(out: *mut *mut fdk_loop) -> c_int;
    pub fn fdk_loop_free(lp: *mut fdk_loop) -> c_int;
    pub fn fdk_loop_run(lp: *mut fdk_loop, mode: c_int) -> c_int;
    pub fn fdk_loop_stop(lp: *mut fdk_loop);
    pub fn fdk_loop_backend_fd(lp: *mut fdk_loop) -> c_int;
    pub fn fdk_loop_backend_timeout(lp: *mut fdk_loop) -> c_int;
    pub fn fdk_loop_post(lp: *mut fdk_loop, f: fdk_post_fn, data: *mut c_void) -> c_int;
    pub fn fdk_op_cancel(op: *mut fdk_op) -> c_int;
}

// fd.h
pub const FDK_FD_BLOCKING: c_uint = 0x1;
pub const FDK_FD_BORROW: c_uint = 0x2;

extern "C" {
    pub fn fdk_fd_adopt(out: *mut *mut fdk_fd, raw: c_int, flags: c_uint) -> c_int;
    pub fn fdk_fd_raw(fd: *mut fdk_fd) -> c_int;
    pub fn fdk_fd_use(fd: *mut fdk_fd, raw: *mut c_int) -> c_int;
    pub fn fdk_fd_unuse(fd: *mut fdk_fd);
    pub fn fdk_fd_close(fd: *mut fdk_fd) -> c_int;
    pub fn fdk_fd_ref(fd: *mut fdk_fd) -> *mut fdk_fd;
    pub fn fdk_fd_unref(fd: *mut fdk_fd) -> *mut fdk_fd;
    pub fn fdk_fd_release(fd: *mut fdk_fd, raw: *mut c_int) -> c_int;
    pub fn fdk_fd_is_blocking(fd: *mut fdk_fd) -> c_int;
    pub fn fdk_pipe(read_end: *mut *mut fdk_fd, write_end: *mut *mut fdk_fd) -> c_int;
}

// io.h
pub const FDK_SEEK_SET: c_int = 0;
pub const FDK_SEEK_CUR: c_int = 1;
pub const FDK_SEEK_END: c_int = 2;
pub const FDK_RANDOM_NONBLOCK: c_uint = 0x1;
pub const FDK_FSYNC_DATA: c_uint = 0x1;

extern "C" {
    pub fn fdk_read(fd: *mut fdk_fd, buf: *mut c_void, len: usize) -> isize;
    pub fn fdk_write(fd: *mut fdk_fd, buf: *const c_void, len: usize) -> isize;
    pub fn fdk_readv(fd: *mut fdk_fd, iov: *const iovec, iovcnt: c_int) -> isize;
    pub fn fdk_writev(fd: *mut fdk_fd, iov: *const iovec, iovcnt: c_int) -> isize;
    pub fn fdk_preadv(fd: *mut fdk_fd, iov: *const iovec, iovcnt: c_int, offset: i64) -> isize;
    pub fn fdk_pwritev(fd: *mut fdk_fd, iov: *const iovec, iovcnt: c_int, offset: i64) -> isize;
    pub fn fdk_lseek(fd: *mut fdk_fd, offset: i64, whence: c_int) -> i64;
    pub fn fdk_fsync(fd: *mut fdk_fd, flags: c_uint) -> c_int;
    pub fn fdk_ftruncate(fd: *mut fdk_fd, length: i64) -> c_int;
    pub fn fdk_getrandom(buf: *mut c_void, len: usize, flags: c_uint) -> isize;

    pub fn fdk_read_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        buf: *mut c_void,
        len: usize,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_write_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        buf: *const c_void,
        len: usize,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_readv_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        iov: *const iovec,
        iovcnt: c_int,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_writev_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        iov: *const iovec,
        iovcnt: c_int,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_preadv_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        iov: *const iovec,
        iovcnt: c_int,
        offset: i64,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_pwritev_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        iov: *const iovec,
        iovcnt: c_int,
        offset: i64,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_lseek_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        offset: i64,
        whence: c_int,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_fsync_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        flags: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_ftruncate_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        length: i64,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_getrandom_async(
        lp: *mut fdk_loop,
        buf: *mut c_void,
        len: usize,
        flags: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_now_ns() -> i64;
    pub fn fdk_sleep_until(
        lp: *mut fdk_loop,
        deadline_ns: i64,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
}
