// SPDX-License-Identifier: MIT
//! Running a command to completion: capture, stdin, timeouts (run.h).
use std::ffi::OsStr;
use std::os::raw::{c_int, c_void};
use std::os::unix::io::RawFd;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{c_path, check, Error, Result};
use crate::event_loop::{catch_panic, finish, resume_caught_panic, Loop, Op};
use crate::fd::Fd;
use crate::fs::Dir;
use crate::process::{CStrings, ExitStatus, ResourceUsage, SpawnBackend};
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

/// What a timeout, a cancel, an early exit or [`Command::stop_at_max_output`] does to
/// the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelPolicy {
    /// Nothing: wait for the child and report the overrun (an early exit still kills).
    None,
    /// SIGKILL at once (the default).
    Kill,
    /// The stop signal (SIGTERM unless [`Command::stop_signal`]), then SIGKILL after the
    /// grace.
    Graceful,
}

/// The child's process group. Only a group fdkit created (`New`, `Session`) is signalled
/// as a whole by a timeout or a cancel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// The caller's group (the default).
    Inherit,
    /// A new group the child leads.
    New,
    /// A new session and group.
    Session,
    /// Join the group of this leader.
    Join(i32),
}

/// Which of the caller's descriptors the child keeps besides 0, 1 and 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FdPolicy {
    /// Those without close-on-exec (the default).
    CloexecOnly,
    /// None.
    CloseFrom3,
    /// Exactly these, at the same numbers (each at least 3 and open when the run starts:
    /// EBADF otherwise).
    Only(Vec<RawFd>),
}

type EarlyExitFn = dyn Fn(&[u8]) -> bool + Send + Sync;

/// How to run a command; a builder in the manner of `std::process::Command`. Every setter
/// returns `&mut Command`; the first one that fails is remembered and returned by the next
/// run (the setters after it are skipped). Options are copied when a run starts, so one
/// value may serve several runs. Used by one thread at a time (run.h): `Send`, not `Sync`.
pub struct Command {
    raw: NonNull<sys::fdk_run_opts>,
    error: Option<Error>,
    // The predicate the C options point at: shared with every run still going, which
    // keeps it alive after the options change or are dropped.
    early_exit: Option<Arc<Box<EarlyExitFn>>>,
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
    /// The early-exit predicate stopped the child.
    pub early_exit: bool,
    /// The run stopped waiting for pipes a descendant kept open after the child exited:
    /// the captured output may be incomplete.
    pub pipes_abandoned: bool,
    /// The child's resource usage; None when fdkit has none.
    pub usage: Option<ResourceUsage>,
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
    let mut usage = sys::fdk_rusage::default();
    sys::fdk_run_result_rusage(res, &mut usage);
    let out = RunOutput {
        status: ExitStatus::from_raw(kind, value),
        stdout: bytes(sys::fdk_run_result_stdout),
        stderr: bytes(sys::fdk_run_result_stderr),
        timed_out: sys::fdk_run_result_timed_out(res) == 1,
        truncated: sys::fdk_run_result_truncated(res) == 1,
        early_exit: sys::fdk_run_result_early_exit(res) == 1,
        pipes_abandoned: sys::fdk_run_result_pipes_abandoned(res) == 1,
        usage: ResourceUsage::from_raw(&usage),
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
        Ok(Command {
            raw: NonNull::new(out).expect("fdk_run_opts_new succeeded without options"),
            error: None,
            early_exit: None,
        })
    }

    /// Runs one setter unless an earlier one failed, and keeps its error for the run.
    fn set(&mut self, setter: impl FnOnce(*mut sys::fdk_run_opts) -> Result<c_int>) -> &mut Command {
        if self.error.is_none() {
            if let Err(e) = setter(self.raw.as_ptr()).and_then(|r| check(r.into())) {
                self.error = Some(e);
            }
        }
        self
    }

    /// The first setter's error, if one failed (a run would return it).
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// The child's whole environment ("K=V" each); without it the caller's is passed.
    pub fn env<S: AsRef<OsStr>>(&mut self, vars: impl IntoIterator<Item = S>) -> &mut Command {
        let envp = CStrings::new(vars);
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_env(raw, envp?.as_ptr()) }))
    }

    /// The child's working directory as a path.
    pub fn cwd(&mut self, path: impl AsRef<Path>) -> &mut Command {
        let path = c_path(path.as_ref());
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_cwd(raw, path?.as_ptr()) }))
    }

    /// The child's working directory as an open directory descriptor (referenced by the
    /// options); replaces `cwd`.
    pub fn cwd_fd(&mut self, dir: &Fd) -> &mut Command {
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_cwd_fd(raw, dir.as_raw()) }))
    }

    /// The child's working directory as a confined directory's descriptor; [`Dir::fs`] and
    /// [`Dir::cwd`] mean the caller's directory.
    pub fn cwd_dir(&mut self, dir: &Dir) -> &mut Command {
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_cwd_dir(raw, dir.as_raw()) }))
    }

    /// Bytes fed to the child's stdin, which is then closed.
    pub fn stdin(&mut self, data: &[u8]) -> &mut Command {
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_stdin_bytes(raw, data.as_ptr().cast(), data.len()) }))
    }

    /// The child's stdin is `fd` (referenced by the options).
    pub fn stdin_fd(&mut self, fd: &Fd) -> &mut Command {
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_stdin_fd(raw, fd.as_raw()) }))
    }

    pub fn stdout(&mut self, mode: Output) -> &mut Command {
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_stdout(raw, mode.raw()) }))
    }

    pub fn stderr(&mut self, mode: Output) -> &mut Command {
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_stderr(raw, mode.raw()) }))
    }

    /// The most bytes kept over both captured streams.
    pub fn max_output(&mut self, bytes: u64) -> &mut Command {
        let bytes = i64::try_from(bytes).map_err(|_| Error::invalid("max_output: too large"));
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_max_output(raw, bytes?) }))
    }

    /// Once output past `max_output` arrives, stop the child by the cancel policy (kill
    /// when it is `None`) instead of reading and dropping for as long as it writes.
    pub fn stop_at_max_output(&mut self, stop: bool) -> &mut Command {
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_stop_at_max_output(raw, stop as c_int) }))
    }

    /// After `timeout` the cancel policy applies (SIGKILL by default); the output says
    /// `timed_out`.
    pub fn timeout(&mut self, timeout: Duration) -> &mut Command {
        let ms = millis(timeout, "timeout: too large");
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_timeout(raw, ms?) }))
    }

    /// What a timeout or a cancel does, and `grace`: the wait between the stop signal and
    /// SIGKILL, also the wait for pipes a descendant keeps open (default 1 s).
    pub fn cancel(&mut self, policy: CancelPolicy, grace: Duration) -> &mut Command {
        let policy = match policy {
            CancelPolicy::None => sys::FDK_RUN_CANCEL_NONE,
            CancelPolicy::Kill => sys::FDK_RUN_CANCEL_KILL,
            CancelPolicy::Graceful => sys::FDK_RUN_CANCEL_GRACEFUL,
        };
        let ms = millis(grace, "cancel: grace too large");
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_cancel(raw, policy, ms?) }))
    }

    /// The signal [`CancelPolicy::Graceful`] sends first (default SIGTERM).
    pub fn stop_signal(&mut self, sig: i32) -> &mut Command {
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_stop_signal(raw, sig) }))
    }

    /// The child's process group.
    pub fn group(&mut self, group: Group) -> &mut Command {
        let (mode, leader) = match group {
            Group::Inherit => (sys::FDK_RUN_GROUP_INHERIT, 0),
            Group::New => (sys::FDK_RUN_GROUP_NEW, 0),
            Group::Session => (sys::FDK_RUN_GROUP_SESSION, 0),
            Group::Join(leader) => (sys::FDK_RUN_GROUP_JOIN, leader),
        };
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_group(raw, mode, leader) }))
    }

    /// Which of the caller's descriptors the child keeps.
    pub fn fds(&mut self, policy: FdPolicy) -> &mut Command {
        let (mode, keep) = match policy {
            FdPolicy::CloexecOnly => (sys::FDK_RUN_FDS_CLOEXEC_ONLY, Vec::new()),
            FdPolicy::CloseFrom3 => (sys::FDK_RUN_FDS_CLOSE_FROM_3, Vec::new()),
            FdPolicy::Only(keep) => (sys::FDK_RUN_FDS_ALLOWLIST, keep),
        };
        let keep_ptr = if keep.is_empty() { ptr::null() } else { keep.as_ptr() };
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_fds(raw, mode, keep_ptr, keep.len()) }))
    }

    /// Calls `stop(stdout_so_far)` each time captured stdout grows; `true` stops the child
    /// by the cancel policy (kill when it is `None`) and the output says `early_exit`. It
    /// runs on the thread running the run's loop (the caller's for [`Command::run`]), and
    /// one command may serve runs on several threads at once, hence `Send + Sync`. A panic
    /// in it stops the child and resumes from [`Command::run`] or [`Loop::run`].
    pub fn early_exit<F>(&mut self, stop: F) -> &mut Command
    where
        F: Fn(&[u8]) -> bool + Send + Sync + 'static,
    {
        let stop: Arc<Box<EarlyExitFn>> = Arc::new(Box::new(stop));
        let arg = Arc::as_ptr(&stop) as *mut c_void;
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_early_exit(raw, Some(early_exit_trampoline), arg) }));
        if self.error.is_none() {
            self.early_exit = Some(stop);
        }
        self
    }

    /// How the child is created (default [`SpawnBackend::Auto`]).
    pub fn backend(&mut self, backend: SpawnBackend) -> &mut Command {
        self.set(|raw| Ok(unsafe { sys::fdk_run_opts_set_backend(raw, backend.raw() as c_int) }))
    }

    /// Runs to completion on a private loop. An error means a setter failed or the run
    /// could not start; a child that failed or timed out is an `Ok` output.
    pub fn run(&self) -> Result<RunOutput> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let mut res = ptr::null_mut();
        let r = check(unsafe { sys::fdk_run(&mut res, self.raw.as_ptr()) }.into());
        resume_caught_panic(); // from the early-exit predicate
        r?;
        Ok(unsafe { take_result(res) })
    }
}

fn millis(d: Duration, what: &str) -> Result<i64> {
    i64::try_from(d.as_millis()).map_err(|_| Error::invalid(what))
}

unsafe extern "C" fn early_exit_trampoline(stdout: *const c_void, len: usize, arg: *mut c_void) -> c_int {
    let stop = &*arg.cast::<Box<EarlyExitFn>>();
    let so_far: &[u8] = if stdout.is_null() { &[] } else { std::slice::from_raw_parts(stdout.cast(), len) };
    // A panic stops the child; it is resumed once the run returns.
    catch_panic(|| stop(so_far)).unwrap_or(true) as c_int
}

impl Drop for Command {
    fn drop(&mut self) {
        unsafe { sys::fdk_run_opts_free(self.raw.as_ptr()) };
    }
}

impl Loop {
    /// Starts `cmd` on this loop; `done` runs from [`Loop::run`] once the child is gone.
    /// Cancelling the op applies the cancel policy; `done` still gets the output.
    pub fn run_async<F>(&self, cmd: &Command, done: F) -> Result<RunOp>
    where
        F: FnOnce(Result<RunOutput>) + 'static,
    {
        if let Some(e) = &cmd.error {
            return Err(e.clone());
        }
        let early_exit = cmd.early_exit.clone(); // the C copy of the options points at it
        let op = self.start_run(cmd, move |output| {
            drop(early_exit);
            done(output)
        })?;
        Ok(RunOp { op })
    }

    fn start_run<F>(&self, cmd: &Command, done: F) -> Result<Op>
    where
        F: FnOnce(Result<RunOutput>) + 'static,
    {
        self.start_with(done, |data, op| unsafe {
            sys::fdk_run_async(self.as_raw(), cmd.raw.as_ptr(), Some(run_done::<F>), data, op)
        })
    }
}

/// The pending operation of [`Loop::run_async`]: an [`Op`] (through `Deref`) that can
/// also signal the child.
pub struct RunOp {
    op: Op,
}

impl RunOp {
    /// Sends `sig` (0 probes) to the child, or to its whole group when the run created
    /// one; ESRCH once the child exited, EINVAL once the callback ran.
    pub fn signal(&self, sig: i32) -> Result<()> {
        let raw = self.op.raw();
        if raw.is_null() {
            return Err(Error::invalid("signal: the run has completed"));
        }
        check(unsafe { sys::fdk_run_signal(raw, sig) }.into()).map(drop)
    }
}

impl std::ops::Deref for RunOp {
    type Target = Op;
    fn deref(&self) -> &Op {
        &self.op
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
