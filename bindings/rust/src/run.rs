//! Running a command to completion with its output captured (run.h).
use std::ffi::CString;
use std::os::raw::c_char;
use std::os::unix::ffi::OsStrExt;
use std::ptr;

use crate::error::{check, Error, Result};
use crate::platform;
use crate::fs::Dir;
use crate::sys;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Code(i32),
    Signal(i32),
}

/// What [`Command::run`] produced.
#[derive(Clone, Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
}

/// A command to run: argv (PATH searched), stdout and stderr captured by default.
pub struct Command {
    argv: Vec<CString>,
    stdin: Option<Vec<u8>>,
    timeout_ms: Option<i64>,
    new_group: bool,
    capture_stderr: bool,
    cwd: Option<Dir>,
}

impl Command {
    pub fn new<I, S>(argv: I) -> Result<Command>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let argv = argv
            .into_iter()
            .map(|a| CString::new(a.as_ref().as_bytes()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| Error::new(platform::EINVAL, "run: an argument contains a NUL byte"))?;
        Ok(Command { argv, stdin: None, timeout_ms: None, new_group: false, capture_stderr: true, cwd: None })
    }

    /// Bytes fed to the child's stdin as it reads.
    pub fn stdin(mut self, data: &[u8]) -> Command {
        self.stdin = Some(data.to_vec());
        self
    }

    /// The child (and its group, with [`Command::new_group`]) is killed when it passes.
    pub fn timeout_ms(mut self, ms: i64) -> Command {
        self.timeout_ms = Some(ms);
        self
    }

    pub fn new_group(mut self) -> Command {
        self.new_group = true;
        self
    }

    /// Leaves stderr to the caller's own stream.
    pub fn inherit_stderr(mut self) -> Command {
        self.capture_stderr = false;
        self
    }

    /// The child starts in `dir`.
    pub fn cwd(mut self, dir: &Dir) -> Command {
        self.cwd = Some(dir.clone());
        self
    }

    /// Runs to completion on a private loop. Errors are what stopped the start (a missing
    /// program, bad options); how the child ended is in the Output.
    pub fn run(&self) -> Result<Output> {
        struct Opts(*mut sys::fdk_run_opts);
        impl Drop for Opts {
            fn drop(&mut self) {
                unsafe { sys::fdk_run_opts_free(self.0) };
            }
        }
        let mut argv: Vec<*const c_char> = self.argv.iter().map(|a| a.as_ptr()).collect();
        argv.push(ptr::null());
        let mut raw = ptr::null_mut();
        check(unsafe { sys::fdk_run_opts_new(&mut raw, argv.as_ptr()) }.into())?;
        let opts = Opts(raw);
        unsafe {
            if let Some(data) = &self.stdin {
                check(sys::fdk_run_opts_set_stdin_bytes(opts.0, data.as_ptr().cast(), data.len()).into())?;
            }
            check(sys::fdk_run_opts_set_stdout(opts.0, sys::FDK_RUN_CAPTURE).into())?;
            let stderr = if self.capture_stderr { sys::FDK_RUN_CAPTURE } else { sys::FDK_RUN_INHERIT };
            check(sys::fdk_run_opts_set_stderr(opts.0, stderr).into())?;
            if let Some(ms) = self.timeout_ms {
                check(sys::fdk_run_opts_set_timeout(opts.0, ms).into())?;
            }
            if self.new_group {
                check(sys::fdk_run_opts_set_group(opts.0, sys::FDK_RUN_GROUP_NEW, 0).into())?;
            }
            if let Some(dir) = &self.cwd {
                check(sys::fdk_run_opts_set_cwd_dir(opts.0, dir.as_raw()).into())?;
            }
        }
        let mut res = ptr::null_mut();
        check(unsafe { sys::fdk_run(&mut res, opts.0) }.into())?;
        let output = unsafe { output_of(res) };
        unsafe { sys::fdk_run_result_free(res) };
        output
    }
}

unsafe fn bytes(getter: unsafe extern "C" fn(*const sys::fdk_run_result, *mut usize) -> *const u8,
                res: *mut sys::fdk_run_result) -> Vec<u8> {
    let mut len = 0;
    let p = getter(res, &mut len);
    if p.is_null() {
        Vec::new()
    } else {
        std::slice::from_raw_parts(p, len).to_vec()
    }
}

unsafe fn output_of(res: *mut sys::fdk_run_result) -> Result<Output> {
    let (mut kind, mut value) = (0, 0);
    check(sys::fdk_run_result_status(res, &mut kind, &mut value).into())?;
    let status = if kind == sys::FDK_EXIT_SIGNAL { ExitStatus::Signal(value) } else { ExitStatus::Code(value) };
    Ok(Output {
        status,
        stdout: bytes(sys::fdk_run_result_stdout, res),
        stderr: bytes(sys::fdk_run_result_stderr, res),
        timed_out: sys::fdk_run_result_timed_out(res) != 0,
    })
}
