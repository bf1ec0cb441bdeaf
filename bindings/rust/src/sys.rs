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

// fs.h
opaque!(fdk_dir, fdk_stat, fdk_dirents);

pub const FDK_O_RDONLY: c_uint = 0x0000;
pub const FDK_O_WRONLY: c_uint = 0x0001;
pub const FDK_O_RDWR: c_uint = 0x0002;
pub const FDK_O_APPEND: c_uint = 0x0004;
pub const FDK_O_CREAT: c_uint = 0x0008;
pub const FDK_O_EXCL: c_uint = 0x0010;
pub const FDK_O_TRUNC: c_uint = 0x0020;
pub const FDK_O_DIRECTORY: c_uint = 0x0040;
pub const FDK_O_NOFOLLOW: c_uint = 0x0080;
pub const FDK_KIND_DIR: c_int = 3;
pub const FDK_KIND_REGULAR: c_int = 5;
pub const FDK_KIND_SYMLINK: c_int = 6;

extern "C" {
    pub fn fdk_dir_fs() -> *mut fdk_dir;
    pub fn fdk_dir_cwd() -> *mut fdk_dir;
    pub fn fdk_dir_open(out: *mut *mut fdk_dir, base: *mut fdk_dir, path: *const c_char) -> c_int;
    pub fn fdk_dir_ref(dir: *mut fdk_dir) -> *mut fdk_dir;
    pub fn fdk_dir_unref(dir: *mut fdk_dir) -> *mut fdk_dir;
    pub fn fdk_openat(out: *mut *mut fdk_fd, dir: *mut fdk_dir, path: *const c_char, flags: c_uint, mode: c_uint)
        -> c_int;
    pub fn fdk_mkdirat(dir: *mut fdk_dir, path: *const c_char, mode: c_uint) -> c_int;
    pub fn fdk_unlinkat(dir: *mut fdk_dir, path: *const c_char) -> c_int;
    pub fn fdk_rmdirat(dir: *mut fdk_dir, path: *const c_char) -> c_int;
    pub fn fdk_symlinkat(target: *const c_char, dir: *mut fdk_dir, path: *const c_char) -> c_int;
    pub fn fdk_readlinkat(out: *mut *mut c_char, dir: *mut fdk_dir, path: *const c_char) -> isize;
    pub fn fdk_stat_new(out: *mut *mut fdk_stat) -> c_int;
    pub fn fdk_stat_free(st: *mut fdk_stat) -> *mut fdk_stat;
    pub fn fdk_statat(st: *mut fdk_stat, dir: *mut fdk_dir, path: *const c_char, follow: c_int) -> c_int;
    pub fn fdk_stat_kind(st: *const fdk_stat) -> c_int;
    pub fn fdk_stat_size(st: *const fdk_stat) -> i64;
    pub fn fdk_stat_perm(st: *const fdk_stat) -> c_uint;
    pub fn fdk_readdir(out: *mut *mut fdk_dirents, dir: *mut fdk_dir, path: *const c_char) -> c_int;
    pub fn fdk_dirents_count(entries: *const fdk_dirents) -> usize;
    pub fn fdk_dirents_name(entries: *const fdk_dirents, i: usize) -> *const c_char;
    pub fn fdk_dirents_free(entries: *mut fdk_dirents) -> *mut fdk_dirents;
}

// process.h and run.h
opaque!(fdk_run_opts, fdk_run_result);

pub const FDK_EXIT_CODE: c_int = 1;
pub const FDK_EXIT_SIGNAL: c_int = 2;
pub const FDK_RUN_INHERIT: c_int = 0;
pub const FDK_RUN_CAPTURE: c_int = 1;
pub const FDK_RUN_GROUP_NEW: c_int = 1;

extern "C" {
    pub fn fdk_run_opts_new(out: *mut *mut fdk_run_opts, argv: *const *const c_char) -> c_int;
    pub fn fdk_run_opts_free(opts: *mut fdk_run_opts) -> *mut fdk_run_opts;
    pub fn fdk_run_opts_set_stdin_bytes(opts: *mut fdk_run_opts, data: *const c_void, len: usize) -> c_int;
    pub fn fdk_run_opts_set_stdout(opts: *mut fdk_run_opts, mode: c_int) -> c_int;
    pub fn fdk_run_opts_set_stderr(opts: *mut fdk_run_opts, mode: c_int) -> c_int;
    pub fn fdk_run_opts_set_timeout(opts: *mut fdk_run_opts, ms: i64) -> c_int;
    pub fn fdk_run_opts_set_group(opts: *mut fdk_run_opts, mode: c_int, leader: i32) -> c_int;
    pub fn fdk_run_opts_set_cwd_dir(opts: *mut fdk_run_opts, dir: *mut fdk_dir) -> c_int;
    pub fn fdk_run(out: *mut *mut fdk_run_result, opts: *const fdk_run_opts) -> c_int;
    pub fn fdk_run_result_free(res: *mut fdk_run_result) -> *mut fdk_run_result;
    pub fn fdk_run_result_status(res: *const fdk_run_result, kind: *mut c_int, value: *mut c_int) -> c_int;
    pub fn fdk_run_result_stdout(res: *const fdk_run_result, len: *mut usize) -> *const u8;
    pub fn fdk_run_result_stderr(res: *const fdk_run_result, len: *mut usize) -> *const u8;
    pub fn fdk_run_result_timed_out(res: *const fdk_run_result) -> c_int;
}

// net.h
pub const FDK_SHUT_RD: c_uint = 0x1;
pub const FDK_SHUT_WR: c_uint = 0x2;
pub const FDK_SHUT_RDWR: c_uint = 0x3;
pub const FDK_MSG_CTRUNC: c_uint = 0x2;

extern "C" {
    pub fn fdk_socketpair(a: *mut *mut fdk_fd, b: *mut *mut fdk_fd, domain: c_int, ty: c_int, protocol: c_int)
        -> c_int;
    pub fn fdk_shutdown(fd: *mut fdk_fd, how: c_uint) -> c_int;
    pub fn fdk_send_msg(
        fd: *mut fdk_fd,
        iov: *const iovec,
        iovcnt: c_int,
        dest: *const c_void,
        destlen: u32,
        fds: *const *mut fdk_fd,
        nfds: c_int,
    ) -> isize;
    pub fn fdk_recv_msg(
        fd: *mut fdk_fd,
        iov: *const iovec,
        iovcnt: c_int,
        from: *mut c_void,
        fromlen: *mut u32,
        fds: *mut *mut fdk_fd,
        nfds: *mut c_int,
        flags: *mut c_uint,
    ) -> isize;
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

// process.h (spawn)
opaque!(fdk_actions, fdk_process);

pub const FDK_INHERIT_PRESERVE: c_int = 0;

#[repr(C)]
#[derive(Default)]
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
#[derive(Default)]
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
    pub fn fdk_actions_chdir(actions: *mut fdk_actions, path: *const c_char) -> c_int;
    pub fn fdk_actions_inherit_fd(actions: *mut fdk_actions, dst: c_int, src: *mut fdk_fd, blocking: c_int) -> c_int;
    pub fn fdk_actions_setsid(actions: *mut fdk_actions) -> c_int;
    pub fn fdk_actions_close_other_fds(actions: *mut fdk_actions) -> c_int;
    pub fn fdk_spawn(
        out: *mut *mut fdk_process,
        lp: *mut fdk_loop,
        actions: *mut fdk_actions,
        flags: c_uint,
        exit_cb: fdk_exit_cb,
        data: *mut c_void,
    ) -> c_int;
    pub fn fdk_process_pid(proc_: *const fdk_process) -> i32;
    pub fn fdk_process_signal(proc_: *mut fdk_process, sig: c_int) -> c_int;
    pub fn fdk_process_wait(proc_: *mut fdk_process, status: *mut fdk_exit_status) -> c_int;
    pub fn fdk_process_try_wait(proc_: *mut fdk_process, status: *mut fdk_exit_status) -> c_int;
    pub fn fdk_process_free(proc_: *mut fdk_process) -> *mut fdk_process;
}
