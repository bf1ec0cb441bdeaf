// SPDX-License-Identifier: MIT
//! Raw declarations of the C API, one section per public header, in the header's order.
//! Constants are fdkit's own values (doc/conventions.md), so they are written out here;
//! the platform's errno, signal and socket values come from the C headers (build.rs).
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_uint, c_void};

/// The platform's values of the errno, signal and socket constants the binding uses.
pub mod platform {
    include!(concat!(env!("OUT_DIR"), "/consts.rs"));
}

macro_rules! opaque {
    ($($name:ident),*) => {
        $(#[repr(C)]
        pub struct $name {
            _private: [u8; 0],
        })*
    };
}

// common.h
opaque!(
    fdk_loop,
    fdk_loop_remote,
    fdk_op,
    fdk_fd,
    fdk_dir,
    fdk_stat,
    fdk_dirents,
    fdk_dir_iter,
    fdk_actions,
    fdk_process,
    fdk_run_opts,
    fdk_run_result,
    fdk_addrinfo,
    sockaddr
);

pub type socklen_t = u32;

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
    pub fn fdk_loop_remote_new(out: *mut *mut fdk_loop_remote, lp: *mut fdk_loop) -> c_int;
    pub fn fdk_loop_remote_post(remote: *mut fdk_loop_remote, f: fdk_post_fn, data: *mut c_void) -> c_int;
    pub fn fdk_loop_remote_ref(remote: *mut fdk_loop_remote) -> *mut fdk_loop_remote;
    pub fn fdk_loop_remote_unref(remote: *mut fdk_loop_remote) -> *mut fdk_loop_remote;
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

// io.h: ordered, complete writes
extern "C" {
    pub fn fdk_write_all_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        buf: *const c_void,
        len: usize,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_writev_all_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        iov: *const iovec,
        iovcnt: c_int,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_write_queue_size(lp: *mut fdk_loop, fd: *mut fdk_fd) -> i64;
}

// fs.h
pub const FDK_O_RDONLY: c_uint = 0x0000;
pub const FDK_O_WRONLY: c_uint = 0x0001;
pub const FDK_O_RDWR: c_uint = 0x0002;
pub const FDK_O_APPEND: c_uint = 0x0004;
pub const FDK_O_CREAT: c_uint = 0x0008;
pub const FDK_O_EXCL: c_uint = 0x0010;
pub const FDK_O_TRUNC: c_uint = 0x0020;
pub const FDK_O_DIRECTORY: c_uint = 0x0040;
pub const FDK_O_NOFOLLOW: c_uint = 0x0080;
pub const FDK_O_NONBLOCK: c_uint = 0x0100;
pub const FDK_O_SYNC: c_uint = 0x0200;
pub const FDK_O_DSYNC: c_uint = 0x0400;
pub const FDK_O_NOCTTY: c_uint = 0x0800;
pub const FDK_O_PATH: c_uint = 0x1000;
pub const FDK_O_TMPFILE: c_uint = 0x2000;
pub const FDK_DIR_NOFOLLOW: c_uint = 0x1;
pub const FDK_DIR_NO_XDEV: c_uint = 0x2;
pub const FDK_DIR_NO_SYMLINKS: c_uint = 0x4;
pub const FDK_DIR_IN_ROOT: c_uint = 0x8;
pub const FDK_ACCESS_EXISTS: c_uint = 0x0;
pub const FDK_ACCESS_READ: c_uint = 0x4;
pub const FDK_ACCESS_WRITE: c_uint = 0x2;
pub const FDK_ACCESS_EXEC: c_uint = 0x1;
pub const FDK_ACCESS_EFFECTIVE: c_uint = 0x2;
pub const FDK_XATTR_CREATE: c_uint = 0x2;
pub const FDK_XATTR_REPLACE: c_uint = 0x4;
pub const FDK_RESOLVE_AUTO: c_int = 0;
pub const FDK_RESOLVE_OPENAT2: c_int = 1;
pub const FDK_RESOLVE_FALLBACK: c_int = 2;
pub const FDK_RENAME_NOREPLACE: c_uint = 0x1;
pub const FDK_RENAME_EXCHANGE: c_uint = 0x2;
pub const FDK_RENAME_WHITEOUT: c_uint = 0x4;
pub const FDK_FOLLOW: c_uint = 0x1;
pub const FDK_UTIME_NOW: i64 = -1;
pub const FDK_UTIME_OMIT: i64 = -2;
pub const FDK_KIND_UNKNOWN: c_int = 0;
pub const FDK_KIND_FIFO: c_int = 1;
pub const FDK_KIND_CHAR: c_int = 2;
pub const FDK_KIND_DIR: c_int = 3;
pub const FDK_KIND_BLOCK: c_int = 4;
pub const FDK_KIND_REGULAR: c_int = 5;
pub const FDK_KIND_SYMLINK: c_int = 6;
pub const FDK_KIND_SOCKET: c_int = 7;

extern "C" {
    pub fn fdk_last_error_is_escape() -> c_int;
    pub fn fdk_dir_handle(dir: *mut fdk_dir) -> *mut fdk_fd;
    pub fn fdk_open_flags_supported(flags: c_uint) -> c_int;
    pub fn fdk_resolve_backend() -> c_int;
    pub fn fdk_resolve_set_backend(backend: c_int) -> c_int;
    pub fn fdk_renameat2(
        old_dir: *mut fdk_dir,
        old_path: *const c_char,
        new_dir: *mut fdk_dir,
        new_path: *const c_char,
        flags: c_uint,
    ) -> c_int;
    pub fn fdk_linkat(
        old_dir: *mut fdk_dir,
        old_path: *const c_char,
        new_dir: *mut fdk_dir,
        new_path: *const c_char,
    ) -> c_int;
    pub fn fdk_chmodat(dir: *mut fdk_dir, path: *const c_char, mode: c_uint, flags: c_uint) -> c_int;
    pub fn fdk_chownat(dir: *mut fdk_dir, path: *const c_char, uid: i64, gid: i64, flags: c_uint) -> c_int;
    pub fn fdk_utimensat(
        dir: *mut fdk_dir,
        path: *const c_char,
        atime_sec: i64,
        atime_nsec: i64,
        mtime_sec: i64,
        mtime_nsec: i64,
        flags: c_uint,
    ) -> c_int;
    pub fn fdk_stat_blocks(st: *const fdk_stat) -> i64;
    pub fn fdk_stat_blksize(st: *const fdk_stat) -> i64;
    pub fn fdk_stat_rdev(st: *const fdk_stat) -> u64;
    pub fn fdk_stat_mode(st: *const fdk_stat) -> c_uint;
    pub fn fdk_stat_atime(st: *const fdk_stat, sec: *mut i64, nsec: *mut i64) -> c_int;
    pub fn fdk_stat_ctime(st: *const fdk_stat, sec: *mut i64, nsec: *mut i64) -> c_int;
    pub fn fdk_stat_btime(st: *const fdk_stat, sec: *mut i64, nsec: *mut i64) -> c_int;
    pub fn fdk_dir_iter_open(out: *mut *mut fdk_dir_iter, dir: *mut fdk_dir, path: *const c_char) -> c_int;
    pub fn fdk_dir_iter_next(it: *mut fdk_dir_iter, name: *mut *const c_char, kind: *mut c_int) -> c_int;
    pub fn fdk_dir_iter_free(it: *mut fdk_dir_iter) -> *mut fdk_dir_iter;
    pub fn fdk_realpath(out: *mut *mut c_char, dir: *mut fdk_dir, path: *const c_char) -> isize;
    pub fn fdk_dir_fs() -> *mut fdk_dir;
    pub fn fdk_dir_cwd() -> *mut fdk_dir;
    pub fn fdk_dir_open(out: *mut *mut fdk_dir, base: *mut fdk_dir, path: *const c_char) -> c_int;
    pub fn fdk_dir_from_fd(out: *mut *mut fdk_dir, fd: *mut fdk_fd) -> c_int;
    pub fn fdk_dir_ref(dir: *mut fdk_dir) -> *mut fdk_dir;
    pub fn fdk_dir_unref(dir: *mut fdk_dir) -> *mut fdk_dir;
    pub fn fdk_openat(out: *mut *mut fdk_fd, dir: *mut fdk_dir, path: *const c_char, flags: c_uint, mode: c_uint)
        -> c_int;
    pub fn fdk_mkdirat(dir: *mut fdk_dir, path: *const c_char, mode: c_uint) -> c_int;
    pub fn fdk_unlinkat(dir: *mut fdk_dir, path: *const c_char) -> c_int;
    pub fn fdk_rmdirat(dir: *mut fdk_dir, path: *const c_char) -> c_int;
    pub fn fdk_renameat(
        old_dir: *mut fdk_dir,
        old_path: *const c_char,
        new_dir: *mut fdk_dir,
        new_path: *const c_char,
    ) -> c_int;
    pub fn fdk_symlinkat(target: *const c_char, dir: *mut fdk_dir, path: *const c_char) -> c_int;
    pub fn fdk_readlinkat(out: *mut *mut c_char, dir: *mut fdk_dir, path: *const c_char) -> isize;
    pub fn fdk_stat_new(out: *mut *mut fdk_stat) -> c_int;
    pub fn fdk_stat_free(st: *mut fdk_stat) -> *mut fdk_stat;
    pub fn fdk_fstat(st: *mut fdk_stat, fd: *mut fdk_fd) -> c_int;
    pub fn fdk_statat(st: *mut fdk_stat, dir: *mut fdk_dir, path: *const c_char, follow: c_int) -> c_int;
    pub fn fdk_stat_kind(st: *const fdk_stat) -> c_int;
    pub fn fdk_stat_size(st: *const fdk_stat) -> i64;
    pub fn fdk_stat_ino(st: *const fdk_stat) -> u64;
    pub fn fdk_stat_dev(st: *const fdk_stat) -> u64;
    pub fn fdk_stat_nlink(st: *const fdk_stat) -> u64;
    pub fn fdk_stat_uid(st: *const fdk_stat) -> u32;
    pub fn fdk_stat_gid(st: *const fdk_stat) -> u32;
    pub fn fdk_stat_perm(st: *const fdk_stat) -> c_uint;
    pub fn fdk_stat_mtime(st: *const fdk_stat, sec: *mut i64, nsec: *mut i64) -> c_int;
    pub fn fdk_readdir(out: *mut *mut fdk_dirents, dir: *mut fdk_dir, path: *const c_char) -> c_int;
    pub fn fdk_dirents_count(entries: *const fdk_dirents) -> usize;
    pub fn fdk_dirents_name(entries: *const fdk_dirents, i: usize) -> *const c_char;
    pub fn fdk_dirents_kind(entries: *const fdk_dirents, i: usize) -> c_int;
    pub fn fdk_dirents_free(entries: *mut fdk_dirents) -> *mut fdk_dirents;
}

pub type fdk_open_cb = Option<unsafe extern "C" fn(result: c_int, fd: *mut fdk_fd, data: *mut c_void)>;
pub type fdk_dir_cb = Option<unsafe extern "C" fn(result: c_int, dir: *mut fdk_dir, data: *mut c_void)>;
pub type fdk_text_cb = Option<unsafe extern "C" fn(result: isize, text: *mut c_char, data: *mut c_void)>;
pub type fdk_dirents_cb = Option<unsafe extern "C" fn(result: c_int, entries: *mut fdk_dirents, data: *mut c_void)>;

extern "C" {
    pub fn fdk_dir_open_async(
        lp: *mut fdk_loop,
        base: *mut fdk_dir,
        path: *const c_char,
        cb: fdk_dir_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_mkdirat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        mode: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_unlinkat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_rmdirat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_renameat_async(
        lp: *mut fdk_loop,
        old_dir: *mut fdk_dir,
        old_path: *const c_char,
        new_dir: *mut fdk_dir,
        new_path: *const c_char,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_renameat2_async(
        lp: *mut fdk_loop,
        old_dir: *mut fdk_dir,
        old_path: *const c_char,
        new_dir: *mut fdk_dir,
        new_path: *const c_char,
        flags: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_symlinkat_async(
        lp: *mut fdk_loop,
        target: *const c_char,
        dir: *mut fdk_dir,
        path: *const c_char,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_linkat_async(
        lp: *mut fdk_loop,
        old_dir: *mut fdk_dir,
        old_path: *const c_char,
        new_dir: *mut fdk_dir,
        new_path: *const c_char,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_readlinkat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        cb: fdk_text_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_chmodat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        mode: c_uint,
        flags: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_chownat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        uid: i64,
        gid: i64,
        flags: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_utimensat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        atime_sec: i64,
        atime_nsec: i64,
        mtime_sec: i64,
        mtime_nsec: i64,
        flags: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_fstat_async(
        lp: *mut fdk_loop,
        st: *mut fdk_stat,
        fd: *mut fdk_fd,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_statat_async(
        lp: *mut fdk_loop,
        st: *mut fdk_stat,
        dir: *mut fdk_dir,
        path: *const c_char,
        follow: c_int,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_readdir_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        cb: fdk_dirents_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_realpath_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        cb: fdk_text_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_openat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        flags: c_uint,
        mode: c_uint,
        cb: fdk_open_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
}

// fs.h: scoped dirs and the calls of "More calls" (doc/fs.md).
extern "C" {
    pub fn fdk_dir_open2(out: *mut *mut fdk_dir, base: *mut fdk_dir, path: *const c_char, flags: c_uint) -> c_int;
    pub fn fdk_linkat2(
        old_dir: *mut fdk_dir,
        old_path: *const c_char,
        new_dir: *mut fdk_dir,
        new_path: *const c_char,
        flags: c_uint,
    ) -> c_int;
    pub fn fdk_linkat_fd(fd: *mut fdk_fd, dir: *mut fdk_dir, path: *const c_char) -> c_int;
    pub fn fdk_mknodat(dir: *mut fdk_dir, path: *const c_char, kind: c_int, mode: c_uint, dev: u64) -> c_int;
    pub fn fdk_mkfifoat(dir: *mut fdk_dir, path: *const c_char, mode: c_uint) -> c_int;
    pub fn fdk_truncateat(dir: *mut fdk_dir, path: *const c_char, length: i64) -> c_int;
    pub fn fdk_faccessat(dir: *mut fdk_dir, path: *const c_char, mode: c_uint, flags: c_uint) -> c_int;
    pub fn fdk_getxattrat(
        out: *mut *mut c_char,
        dir: *mut fdk_dir,
        path: *const c_char,
        name: *const c_char,
        flags: c_uint,
    ) -> isize;
    pub fn fdk_setxattrat(
        dir: *mut fdk_dir,
        path: *const c_char,
        name: *const c_char,
        value: *const c_void,
        size: usize,
        flags: c_uint,
    ) -> c_int;
    pub fn fdk_listxattrat(out: *mut *mut c_char, dir: *mut fdk_dir, path: *const c_char, flags: c_uint) -> isize;
    pub fn fdk_removexattrat(dir: *mut fdk_dir, path: *const c_char, name: *const c_char, flags: c_uint) -> c_int;
    pub fn fdk_dir_open2_async(
        lp: *mut fdk_loop,
        base: *mut fdk_dir,
        path: *const c_char,
        flags: c_uint,
        cb: fdk_dir_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_linkat2_async(
        lp: *mut fdk_loop,
        old_dir: *mut fdk_dir,
        old_path: *const c_char,
        new_dir: *mut fdk_dir,
        new_path: *const c_char,
        flags: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_linkat_fd_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        dir: *mut fdk_dir,
        path: *const c_char,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_mknodat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        kind: c_int,
        mode: c_uint,
        dev: u64,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_mkfifoat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        mode: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_truncateat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        length: i64,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_faccessat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        mode: c_uint,
        flags: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_getxattrat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        name: *const c_char,
        flags: c_uint,
        cb: fdk_text_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_setxattrat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        name: *const c_char,
        value: *const c_void,
        size: usize,
        flags: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_listxattrat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        flags: c_uint,
        cb: fdk_text_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_removexattrat_async(
        lp: *mut fdk_loop,
        dir: *mut fdk_dir,
        path: *const c_char,
        name: *const c_char,
        flags: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
}

// process.h
pub const FDK_INHERIT_PRESERVE: c_int = 0;
pub const FDK_INHERIT_BLOCKING: c_int = 1;
pub const FDK_INHERIT_NONBLOCKING: c_int = 2;
pub const FDK_RLIM_INFINITY: u64 = u64::MAX;
pub const FDK_SPAWN_BACKEND_AUTO: c_uint = 0x0;
pub const FDK_SPAWN_BACKEND_FORK: c_uint = 0x1;
pub const FDK_SPAWN_BACKEND_POSIX_SPAWN: c_uint = 0x2;
pub const FDK_SPAWN_BACKEND_MASK: c_uint = 0x3;
pub const FDK_EXIT_CODE: i32 = 1;
pub const FDK_EXIT_SIGNAL: i32 = 2;
pub const FDK_EXIT_UNKNOWN: i32 = 3;

pub type fdk_child_fn = Option<unsafe extern "C" fn(arg: *mut c_void) -> c_int>;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fdk_rusage {
    pub utime_ns: i64,
    pub stime_ns: i64,
    pub maxrss_kib: i64,
    pub minflt: i64,
    pub majflt: i64,
    pub inblock: i64,
    pub oublock: i64,
    pub nvcsw: i64,
    pub nivcsw: i64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fdk_exit_status {
    pub kind: i32,
    pub value: i32,
    pub core_dumped: i32,
    pub usage: fdk_rusage,
}

pub type fdk_exit_cb = Option<unsafe extern "C" fn(proc_: *mut fdk_process, result: c_int, data: *mut c_void)>;

extern "C" {
    pub fn fdk_actions_new(out: *mut *mut fdk_actions) -> c_int;
    pub fn fdk_actions_free(actions: *mut fdk_actions) -> *mut fdk_actions;
    pub fn fdk_actions_execvp(
        actions: *mut fdk_actions,
        file: *const c_char,
        argv: *const *const c_char,
        envp: *const *const c_char,
    ) -> c_int;
    pub fn fdk_actions_execve(
        actions: *mut fdk_actions,
        path: *const c_char,
        argv: *const *const c_char,
        envp: *const *const c_char,
    ) -> c_int;
    pub fn fdk_actions_chdir(actions: *mut fdk_actions, path: *const c_char) -> c_int;
    pub fn fdk_actions_fchdir(actions: *mut fdk_actions, fd: *mut fdk_fd) -> c_int;
    pub fn fdk_actions_inherit_raw(actions: *mut fdk_actions, dst: c_int, src: c_int, blocking: c_int) -> c_int;
    pub fn fdk_actions_login_tty(actions: *mut fdk_actions, tty: *mut fdk_fd) -> c_int;
    pub fn fdk_actions_setpgid(actions: *mut fdk_actions, pgid: i32) -> c_int;
    pub fn fdk_actions_setuid(actions: *mut fdk_actions, uid: u32) -> c_int;
    pub fn fdk_actions_setgid(actions: *mut fdk_actions, gid: u32) -> c_int;
    pub fn fdk_actions_setgroups(actions: *mut fdk_actions, count: usize, gids: *const u32) -> c_int;
    pub fn fdk_actions_umask(actions: *mut fdk_actions, mask: u32) -> c_int;
    pub fn fdk_actions_rlimit(actions: *mut fdk_actions, resource: c_int, soft: u64, hard: u64) -> c_int;
    pub fn fdk_actions_pdeathsig(actions: *mut fdk_actions, sig: c_int) -> c_int;
    pub fn fdk_actions_no_new_privs(actions: *mut fdk_actions) -> c_int;
    pub fn fdk_actions_signal_default(actions: *mut fdk_actions, sig: c_int) -> c_int;
    pub fn fdk_actions_signal_ignore(actions: *mut fdk_actions, sig: c_int) -> c_int;
    pub fn fdk_actions_user(
        actions: *mut fdk_actions,
        f: fdk_child_fn,
        arg: *mut c_void,
        name: *const c_char,
    ) -> c_int;
    pub fn fdk_actions_inherit_fd(actions: *mut fdk_actions, dst: c_int, src: *mut fdk_fd, blocking: c_int) -> c_int;
    pub fn fdk_actions_setsid(actions: *mut fdk_actions) -> c_int;
    pub fn fdk_actions_close_other_fds(actions: *mut fdk_actions) -> c_int;
    pub fn fdk_spawn(
        out: *mut *mut fdk_process,
        lp: *mut fdk_loop,
        actions: *const fdk_actions,
        flags: c_uint,
        exit_cb: fdk_exit_cb,
        data: *mut c_void,
    ) -> c_int;
    pub fn fdk_process_pid(proc_: *const fdk_process) -> i32;
    pub fn fdk_process_pidfd(proc_: *mut fdk_process) -> c_int;
    pub fn fdk_process_signal(proc_: *mut fdk_process, sig: c_int) -> c_int;
    pub fn fdk_process_signal_group(proc_: *mut fdk_process, sig: c_int) -> c_int;
    pub fn fdk_process_reap_detached() -> c_int;
    pub fn fdk_process_wait(proc_: *mut fdk_process, status: *mut fdk_exit_status) -> c_int;
    pub fn fdk_process_try_wait(proc_: *mut fdk_process, status: *mut fdk_exit_status) -> c_int;
    pub fn fdk_process_detach(proc_: *mut fdk_process) -> c_int;
    pub fn fdk_process_free(proc_: *mut fdk_process) -> *mut fdk_process;
}

// run.h
pub const FDK_RUN_INHERIT: c_int = 0;
pub const FDK_RUN_CAPTURE: c_int = 1;
pub const FDK_RUN_DISCARD: c_int = 2;
pub const FDK_RUN_MERGE: c_int = 3;
pub const FDK_RUN_CANCEL_NONE: c_int = 0;
pub const FDK_RUN_CANCEL_KILL: c_int = 1;
pub const FDK_RUN_CANCEL_GRACEFUL: c_int = 2;
pub const FDK_RUN_GROUP_INHERIT: c_int = 0;
pub const FDK_RUN_GROUP_NEW: c_int = 1;
pub const FDK_RUN_GROUP_SESSION: c_int = 2;
pub const FDK_RUN_GROUP_JOIN: c_int = 3;
pub const FDK_RUN_FDS_CLOEXEC_ONLY: c_int = 0;
pub const FDK_RUN_FDS_CLOSE_FROM_3: c_int = 1;
pub const FDK_RUN_FDS_ALLOWLIST: c_int = 2;

pub type fdk_run_early_exit_fn = Option<unsafe extern "C" fn(stdout_so_far: *const c_void, len: usize, arg: *mut c_void) -> c_int>;
pub type fdk_run_cb = Option<unsafe extern "C" fn(result: c_int, res: *mut fdk_run_result, data: *mut c_void)>;

extern "C" {
    pub fn fdk_run_opts_new(out: *mut *mut fdk_run_opts, argv: *const *const c_char) -> c_int;
    pub fn fdk_run_opts_free(opts: *mut fdk_run_opts) -> *mut fdk_run_opts;
    pub fn fdk_run_opts_set_env(opts: *mut fdk_run_opts, envp: *const *const c_char) -> c_int;
    pub fn fdk_run_opts_set_cwd(opts: *mut fdk_run_opts, path: *const c_char) -> c_int;
    pub fn fdk_run_opts_set_stdin_bytes(opts: *mut fdk_run_opts, data: *const c_void, len: usize) -> c_int;
    pub fn fdk_run_opts_set_stdout(opts: *mut fdk_run_opts, mode: c_int) -> c_int;
    pub fn fdk_run_opts_set_stderr(opts: *mut fdk_run_opts, mode: c_int) -> c_int;
    pub fn fdk_run_opts_set_max_output(opts: *mut fdk_run_opts, bytes: i64) -> c_int;
    pub fn fdk_run_opts_set_timeout(opts: *mut fdk_run_opts, ms: i64) -> c_int;
    pub fn fdk_run_opts_set_cwd_fd(opts: *mut fdk_run_opts, dir: *mut fdk_fd) -> c_int;
    pub fn fdk_run_opts_set_cwd_dir(opts: *mut fdk_run_opts, dir: *mut fdk_dir) -> c_int;
    pub fn fdk_run_opts_set_stdin_fd(opts: *mut fdk_run_opts, fd: *mut fdk_fd) -> c_int;
    pub fn fdk_run_opts_set_cancel(opts: *mut fdk_run_opts, policy: c_int, kill_grace_ms: i64) -> c_int;
    pub fn fdk_run_opts_set_stop_signal(opts: *mut fdk_run_opts, sig: c_int) -> c_int;
    pub fn fdk_run_opts_set_stop_at_max_output(opts: *mut fdk_run_opts, stop: c_int) -> c_int;
    pub fn fdk_run_opts_set_group(opts: *mut fdk_run_opts, mode: c_int, leader: i32) -> c_int;
    pub fn fdk_run_opts_set_fds(opts: *mut fdk_run_opts, policy: c_int, keep: *const c_int, count: usize) -> c_int;
    pub fn fdk_run_opts_set_early_exit(opts: *mut fdk_run_opts, f: fdk_run_early_exit_fn, arg: *mut c_void) -> c_int;
    pub fn fdk_run_opts_set_backend(opts: *mut fdk_run_opts, backend: c_int) -> c_int;
    pub fn fdk_run_signal(op: *mut fdk_op, sig: c_int) -> c_int;
    pub fn fdk_run_result_rusage(res: *const fdk_run_result, usage: *mut fdk_rusage) -> c_int;
    pub fn fdk_run_result_early_exit(res: *const fdk_run_result) -> c_int;
    pub fn fdk_run_result_pipes_abandoned(res: *const fdk_run_result) -> c_int;
    pub fn fdk_run(out: *mut *mut fdk_run_result, opts: *const fdk_run_opts) -> c_int;
    pub fn fdk_run_async(
        lp: *mut fdk_loop,
        opts: *const fdk_run_opts,
        cb: fdk_run_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_run_result_free(res: *mut fdk_run_result) -> *mut fdk_run_result;
    pub fn fdk_run_result_status(res: *const fdk_run_result, kind: *mut c_int, value: *mut c_int) -> c_int;
    pub fn fdk_run_result_stdout(res: *const fdk_run_result, len: *mut usize) -> *const u8;
    pub fn fdk_run_result_stderr(res: *const fdk_run_result, len: *mut usize) -> *const u8;
    pub fn fdk_run_result_timed_out(res: *const fdk_run_result) -> c_int;
    pub fn fdk_run_result_truncated(res: *const fdk_run_result) -> c_int;
    pub fn fdk_run_result_pid(res: *const fdk_run_result) -> i32;
    pub fn fdk_run_result_duration_ns(res: *const fdk_run_result) -> i64;
}

// net.h
pub const FDK_SHUT_RD: c_uint = 0x1;
pub const FDK_SHUT_WR: c_uint = 0x2;
pub const FDK_SHUT_RDWR: c_uint = 0x3;
pub const FDK_MSG_TRUNC: c_uint = 0x1;
pub const FDK_MSG_CTRUNC: c_uint = 0x2;
pub const FDK_AI_PASSIVE: c_uint = 0x01;
pub const FDK_AI_CANONNAME: c_uint = 0x02;
pub const FDK_AI_NUMERICHOST: c_uint = 0x04;
pub const FDK_AI_NUMERICSERV: c_uint = 0x08;
pub const FDK_AI_ADDRCONFIG: c_uint = 0x10;
pub const FDK_AI_V4MAPPED: c_uint = 0x20;
pub const FDK_AI_ALL: c_uint = 0x40;

pub type fdk_addrinfo_cb = Option<unsafe extern "C" fn(result: c_int, res: *mut fdk_addrinfo, data: *mut c_void)>;

/// The same shape as fdk_open_cb.
pub type fdk_accept_cb = fdk_open_cb;

extern "C" {
    pub fn fdk_socket(out: *mut *mut fdk_fd, domain: c_int, ty: c_int, protocol: c_int) -> c_int;
    pub fn fdk_socketpair(a: *mut *mut fdk_fd, b: *mut *mut fdk_fd, domain: c_int, ty: c_int, protocol: c_int)
        -> c_int;
    pub fn fdk_bind(fd: *mut fdk_fd, addr: *const sockaddr, addrlen: socklen_t) -> c_int;
    pub fn fdk_listen(fd: *mut fdk_fd, backlog: c_int) -> c_int;
    pub fn fdk_getsockname(fd: *mut fdk_fd, addr: *mut sockaddr, addrlen: *mut socklen_t) -> c_int;
    pub fn fdk_getpeername(fd: *mut fdk_fd, addr: *mut sockaddr, addrlen: *mut socklen_t) -> c_int;
    pub fn fdk_setsockopt_int(fd: *mut fdk_fd, level: c_int, name: c_int, value: c_int) -> c_int;
    pub fn fdk_getsockopt_int(fd: *mut fdk_fd, level: c_int, name: c_int, value: *mut c_int) -> c_int;
    pub fn fdk_connect(fd: *mut fdk_fd, addr: *const sockaddr, addrlen: socklen_t) -> c_int;
    pub fn fdk_accept(conn: *mut *mut fdk_fd, listener: *mut fdk_fd, addr: *mut sockaddr, addrlen: *mut socklen_t)
        -> c_int;
    pub fn fdk_connect_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        addr: *const sockaddr,
        addrlen: socklen_t,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_accept_async(
        lp: *mut fdk_loop,
        listener: *mut fdk_fd,
        addr: *mut sockaddr,
        addrlen: *mut socklen_t,
        cb: fdk_accept_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_shutdown(fd: *mut fdk_fd, how: c_uint) -> c_int;
    pub fn fdk_shutdown_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        how: c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_send_msg_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        iov: *const iovec,
        iovcnt: c_int,
        dest: *const sockaddr,
        destlen: socklen_t,
        fds: *const *mut fdk_fd,
        nfds: c_int,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_recv_msg_async(
        lp: *mut fdk_loop,
        fd: *mut fdk_fd,
        iov: *const iovec,
        iovcnt: c_int,
        from: *mut sockaddr,
        fromlen: *mut socklen_t,
        fds: *mut *mut fdk_fd,
        nfds: *mut c_int,
        flags: *mut c_uint,
        cb: fdk_result_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_send_msg(
        fd: *mut fdk_fd,
        iov: *const iovec,
        iovcnt: c_int,
        dest: *const sockaddr,
        destlen: socklen_t,
        fds: *const *mut fdk_fd,
        nfds: c_int,
    ) -> isize;
    pub fn fdk_recv_msg(
        fd: *mut fdk_fd,
        iov: *const iovec,
        iovcnt: c_int,
        from: *mut sockaddr,
        fromlen: *mut socklen_t,
        fds: *mut *mut fdk_fd,
        nfds: *mut c_int,
        flags: *mut c_uint,
    ) -> isize;
    pub fn fdk_getaddrinfo(
        out: *mut *mut fdk_addrinfo,
        host: *const c_char,
        service: *const c_char,
        family: c_int,
        socktype: c_int,
        protocol: c_int,
        flags: c_uint,
    ) -> c_int;
    pub fn fdk_getaddrinfo_async(
        lp: *mut fdk_loop,
        host: *const c_char,
        service: *const c_char,
        family: c_int,
        socktype: c_int,
        protocol: c_int,
        flags: c_uint,
        cb: fdk_addrinfo_cb,
        data: *mut c_void,
        op: *mut *mut fdk_op,
    ) -> c_int;
    pub fn fdk_addrinfo_canonname(ai: *const fdk_addrinfo) -> *const c_char;
    pub fn fdk_addrinfo_count(ai: *const fdk_addrinfo) -> usize;
    pub fn fdk_addrinfo_entry(
        ai: *const fdk_addrinfo,
        index: usize,
        family: *mut c_int,
        socktype: *mut c_int,
        protocol: *mut c_int,
        addr: *mut *const sockaddr,
        addrlen: *mut socklen_t,
    ) -> c_int;
    pub fn fdk_addrinfo_free(ai: *mut fdk_addrinfo) -> *mut fdk_addrinfo;
}

// trace.h
pub const FDK_TRACE_BEGIN: c_int = 1;
pub const FDK_TRACE_END: c_int = 2;

#[repr(C)]
pub struct fdk_trace_event {
    pub phase: c_int,
    pub name: *const c_char,
    pub span_id: u64,
    pub fd: c_int,
    pub path: *const c_char,
    pub result: i64,
    pub detail: *const c_char,
    pub thread_id: u64,
    pub time_ns: i64,
    pub duration_ns: i64,
}

pub type fdk_trace_cb = Option<unsafe extern "C" fn(event: *const fdk_trace_event, data: *mut c_void)>;

extern "C" {
    pub fn fdk_trace_set(lp: *mut fdk_loop, cb: fdk_trace_cb, data: *mut c_void) -> c_int;
}
