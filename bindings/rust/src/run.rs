// SPDX-License-Identifier: MIT
//! Running a command to completion: capture, stdin, timeouts (run.h).
use std::ffi::OsStr;
use std::os::raw::{c_int, c_void};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::time::Duration;

use crate::error::{c_path, check, Error, Result};
use crate::event_loop::{finish, Loop, Op};
use crate::process::{CStrings, ExitStatus};
use crate::sys;

/// What happens to one of the child's output streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The child writes to the caller's own stream.
    Inherit,
    /// Captured into [`RunOutput`].
    Capture,
    /// /dev/null.
    Discard,
    /// stderr only: into the same stream as stdout, like `2>&1`.
    Merge,
}

impl Output {
    fn raw(self) -> c_int {
        match self {
            Output::Inherit => sys::FDK_RUN_INHERIT,
            Output::Capture => sys::FDK_RUN_CAPTURE,
            Output::Discard => sys::FDK_RUN_DISCARD,
            Output::Merge => sys::FDK_RUN_MERGE,
        }
    }
}

/// How to run a command. Options are copied when a run starts, so one value may serve
/// several runs. Used by one thread at a time (run.h): `Send`, not `Sync`.
pub struct Command {
    raw: NonNull<sys::fdk_run_opts>,
}

// SAFETY: run.h: an fdk_run_opts may be used by one thread at a time, any thread.
unsafe impl Send for Command {}

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutput {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
    /// Output past the limit was dropped.
    pub truncated: bool,
    pub pid: i32,
    pub duration: Duration,
}

/// Copies a result out and frees it.
unsafe fn take_result(res: *mut sys::fdk_run_result) -> RunOutput {
    let bytes = |get: unsafe extern "C" fn(*const sys::fdk_run_result, *mut usize) -> *const u8| {
        let mut len = 0;
        let ptr = get(res, &mut len);
        if ptr.is_null() {
            Vec::new()
        } else {
            std::slice::from_raw_parts(ptr, len).to_vec()
        }
    };
    let (mut kind, mut value) = (0, 0);
    sys::fdk_run_result_status(res, &mut kind, &mut value);
    let out = RunOutput {
        status: ExitStatus::from_raw(kind, value),
        stdout: bytes(sys::fdk_run_result_stdout),
        stderr: bytes(sys::fdk_run_result_stderr),
        timed_out: sys::fdk_run_result_timed_out(res) == 1,
        truncated: sys::fdk_run_result_truncated(res) == 1,
        pid: sys::fdk_run_result_pid(res),
        duration: Duration::from_nanos(sys::fdk_run_result_duration_ns(res).max(0) as u64),
    };
    sys::fdk_run_result_free(res);
    out
}

impl Command {
    /// `args[0]` is the program, looked up in PATH when it has no '/'.
    pub fn new<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Result<Command> {
        let argv = CStrings::new(args)?;
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_run_opts_new(&mut out, argv.as_ptr()) }.into())?;
        Ok(Command { raw: NonNull::new(out).expect("fdk_run_opts_new succeeded without options") })
    }

    fn set(&mut self, r: c_int) -> Result<&mut Command> {
        check(r.into())?;
        Ok(self)
    }

    /// The child's whole environment ("K=V" each); without it the caller's is passed.
    pub fn env<S: AsRef<OsStr>>(&mut self, vars: impl IntoIterator<Item = S>) -> Result<&mut Command> {
        let envp = CStrings::new(vars)?;
        let r = unsafe { sys::fdk_run_opts_set_env(self.raw.as_ptr(), envp.as_ptr()) };
        self.set(r)
    }

    pub fn cwd(&mut self, path: impl AsRef<Path>) -> Result<&mut Command> {
        let path = c_path(path.as_ref())?;
        let r = unsafe { sys::fdk_run_opts_set_cwd(self.raw.as_ptr(), path.as_ptr()) };
        self.set(r)
    }

    /// Bytes fed to the child's stdin, which is then closed.
    pub fn stdin(&mut self, data: &[u8]) -> Result<&mut Command> {
        let r = unsafe { sys::fdk_run_opts_set_stdin_bytes(self.raw.as_ptr(), data.as_ptr().cast(), data.len()) };
        self.set(r)
    }

    pub fn stdout(&mut self, mode: Output) -> Result<&mut Command> {
        let r = unsafe { sys::fdk_run_opts_set_stdout(self.raw.as_ptr(), mode.raw()) };
        self.set(r)
    }

    pub fn stderr(&mut self, mode: Output) -> Result<&mut Command> {
        let r = unsafe { sys::fdk_run_opts_set_stderr(self.raw.as_ptr(), mode.raw()) };
        self.set(r)
    }

    /// The most bytes kept over both captured streams.
    pub fn max_output(&mut self, bytes: u64) -> Result<&mut Command> {
        let bytes = i64::try_from(bytes).map_err(|_| Error::invalid("max_output: too large"))?;
        let r = unsafe { sys::fdk_run_opts_set_max_output(self.raw.as_ptr(), bytes) };
        self.set(r)
    }

    /// The child is killed (SIGKILL) after `timeout`; the output says `timed_out`.
    pub fn timeout(&mut self, timeout: Duration) -> Result<&mut Command> {
        let ms = i64::try_from(timeout.as_millis()).map_err(|_| Error::invalid("timeout: too large"))?;
        let r = unsafe { sys::fdk_run_opts_set_timeout(self.raw.as_ptr(), ms) };
        self.set(r)
    }

    /// Runs to completion on a private loop. An error means the run could not start; a
    /// child that failed or timed out is an `Ok` output.
    pub fn run(&self) -> Result<RunOutput> {
        let mut res = ptr::null_mut();
        check(unsafe { sys::fdk_run(&mut res, self.raw.as_ptr()) }.into())?;
        Ok(unsafe { take_result(res) })
    }
}

impl Drop for Command {
    fn drop(&mut self) {
        unsafe { sys::fdk_run_opts_free(self.raw.as_ptr()) };
    }
}

impl Loop {
    /// Starts `cmd` on this loop; `done` runs from [`Loop::run`] once the child is gone.
    /// Cancelling the op kills the child; `done` still gets its output.
    pub fn run_async<F>(&self, cmd: &Command, done: F) -> Result<Op>
    where
        F: FnOnce(Result<RunOutput>) + 'static,
    {
        self.start_with(done, |data, op| unsafe {
            sys::fdk_run_async(self.as_raw(), cmd.raw.as_ptr(), Some(run_done::<F>), data, op)
        })
    }
}

unsafe extern "C" fn run_done<F: FnOnce(Result<RunOutput>)>(
    result: c_int,
    res: *mut sys::fdk_run_result,
    data: *mut c_void,
) {
    let output = if result < 0 { Err(Error::last(result.into())) } else { Ok(take_result(res)) };
    finish::<_, F>(data, output)
}
