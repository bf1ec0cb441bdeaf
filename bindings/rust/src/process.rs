// SPDX-License-Identifier: MIT
//! Spawning processes from an ordered list of fork actions (process.h).
use std::ffi::{CString, OsStr};
use std::marker::PhantomData;
use std::os::raw::c_char;
use std::os::raw::{c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::{BorrowedFd, RawFd};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Mutex;

use crate::error::{c_path, c_string, check, Error, Result};
use crate::event_loop::{call_from_c, Loop};
use crate::fd::Fd;
use crate::sys;

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exited with this code (0..255).
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl ExitStatus {
    pub(crate) fn from_raw(kind: i32, value: i32) -> ExitStatus {
        if kind == sys::FDK_EXIT_SIGNAL {
            ExitStatus::Signal(value)
        } else {
            ExitStatus::Code(value)
        }
    }

    pub fn success(&self) -> bool {
        *self == ExitStatus::Code(0)
    }
}

/// NUL-terminated C string arrays built from Rust strings; the pointers borrow `strings`.
pub(crate) struct CStrings {
    _strings: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl CStrings {
    pub(crate) fn new<S: AsRef<OsStr>>(items: impl IntoIterator<Item = S>) -> Result<CStrings> {
        let strings = items.into_iter().map(|s| c_string(s.as_ref().as_bytes())).collect::<Result<Vec<_>>>()?;
        let mut ptrs: Vec<_> = strings.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(ptr::null());
        Ok(CStrings { _strings: strings, ptrs })
    }

    pub(crate) fn as_ptr(&self) -> *const *const c_char {
        self.ptrs.as_ptr()
    }
}

/// An ordered list of actions run in the child, ending with an exec. Everything given to
/// it is copied (handles referenced). One spawn at a time may use it, hence `&mut` in
/// [`Actions::spawn`]; building it may happen on any thread, so it is `Send`.
pub struct Actions {
    raw: NonNull<sys::fdk_actions>,
    kill_on_drop: bool,
}

// SAFETY: process.h: building a list and fdk_spawn may be made from any thread.
unsafe impl Send for Actions {}

impl Actions {
    pub fn new() -> Result<Actions> {
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_actions_new(&mut out) }.into())?;
        Ok(Actions { raw: NonNull::new(out).expect("fdk_actions_new succeeded without a list"), kill_on_drop: false })
    }

    fn add(&mut self, r: i32) -> Result<&mut Actions> {
        check(r.into())?;
        Ok(self)
    }

    /// Executes `file` (looked up in PATH when it has no '/') with `args` (args[0]
    /// included); `env` None passes the environment as it is at spawn time.
    pub fn execvp<S: AsRef<OsStr>>(
        &mut self,
        file: impl AsRef<Path>,
        args: impl IntoIterator<Item = S>,
        env: Option<&[(&str, &str)]>,
    ) -> Result<&mut Actions> {
        let file = c_path(file.as_ref())?;
        let argv = CStrings::new(args)?;
        let envp = env.map(|vars| CStrings::new(vars.iter().map(|(k, v)| format!("{}={}", k, v)))).transpose()?;
        let envp_ptr = envp.as_ref().map_or(ptr::null(), |e| e.as_ptr());
        let r = unsafe { sys::fdk_actions_execvp(self.raw.as_ptr(), file.as_ptr(), argv.as_ptr(), envp_ptr) };
        self.add(r)
    }

    pub fn chdir(&mut self, path: impl AsRef<Path>) -> Result<&mut Actions> {
        let path = c_path(path.as_ref())?;
        let r = unsafe { sys::fdk_actions_chdir(self.raw.as_ptr(), path.as_ptr()) };
        self.add(r)
    }

    /// Gives the child `src` as descriptor `dst`, blocking mode left as it is.
    pub fn inherit_fd(&mut self, dst: RawFd, src: &Fd) -> Result<&mut Actions> {
        let r = unsafe { sys::fdk_actions_inherit_fd(self.raw.as_ptr(), dst, src.as_raw(), sys::FDK_INHERIT_PRESERVE) };
        self.add(r)
    }

    pub fn setsid(&mut self) -> Result<&mut Actions> {
        let r = unsafe { sys::fdk_actions_setsid(self.raw.as_ptr()) };
        self.add(r)
    }

    /// Closes every descriptor but 0, 1, 2 and the `inherit_fd` destinations at exec.
    pub fn close_other_fds(&mut self) -> Result<&mut Actions> {
        let r = unsafe { sys::fdk_actions_close_other_fds(self.raw.as_ptr()) };
        self.add(r)
    }

    /// Whether dropping a process spawned from this list kills (SIGKILL) and reaps a child
    /// that still runs, as tokio's `Command::kill_on_drop` names it. Off by default: like
    /// `std::process::Child`, a dropped handle leaves its child running (fdkit reaps it when
    /// it exits). Until fdkit reaps detached children spawned without a loop, those are
    /// still killed on drop.
    pub fn kill_on_drop(&mut self, kill: bool) -> &mut Actions {
        self.kill_on_drop = kill;
        self
    }

    /// Spawns a child that runs the actions (no loop: wait with [`Process::wait`]).
    pub fn spawn(&mut self) -> Result<Process> {
        let mut out = ptr::null_mut();
        check(
            unsafe { sys::fdk_spawn(&mut out, ptr::null_mut(), self.raw.as_ptr(), 0, None, ptr::null_mut()) }.into(),
        )?;
        Ok(Process { raw: NonNull::new(out).expect("fdk_spawn succeeded without a process"), kill_on_drop: self.kill_on_drop })
    }
}

impl Drop for Actions {
    fn drop(&mut self) {
        unsafe { sys::fdk_actions_free(self.raw.as_ptr()) };
    }
}

/// A spawned child. Dropping it leaves a child that still runs alive, as
/// `std::process::Child` does (fdkit reaps it when it exits), unless the actions asked for
/// [`Actions::kill_on_drop`]. Signalling, pid and pidfd may run concurrently with anything
/// (`&self`); waiting takes `&mut self` because process.h allows only one at a time.
pub struct Process {
    raw: NonNull<sys::fdk_process>,
    kill_on_drop: bool,
}

type ExitFn = Box<dyn FnOnce(Result<()>) + Send>;

struct OnExit {
    lp: *mut sys::fdk_loop,
    done: Mutex<Option<ExitFn>>,
}

unsafe extern "C" fn exited(_proc: *mut sys::fdk_process, result: c_int, data: *mut c_void) {
    let on_exit = &*data.cast::<OnExit>();
    let done = on_exit.done.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(done) = done {
        let result = if result < 0 { Err(Error::last(result.into())) } else { Ok(()) };
        call_from_c(on_exit.lp, move || done(result));
    }
}

impl Loop {
    /// Spawns a child that runs `actions`; `on_exit` runs from [`Loop::run`] once it has
    /// exited (not reaped yet: [`LoopProcess::try_wait`] collects the status), or with
    /// ECANCELED when the loop is dropped first. It never runs after the [`LoopProcess`] is
    /// dropped.
    pub fn spawn<F>(&self, actions: &mut Actions, on_exit: F) -> Result<LoopProcess<'_>>
    where
        F: FnOnce(Result<()>) + Send + 'static,
    {
        let on_exit = Box::new(OnExit { lp: self.as_raw(), done: Mutex::new(Some(Box::new(on_exit))) });
        let data = &*on_exit as *const OnExit as *mut c_void;
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_spawn(&mut out, self.as_raw(), actions.raw.as_ptr(), 0, Some(exited), data) }.into())?;
        Ok(LoopProcess {
            process: Process {
                raw: NonNull::new(out).expect("fdk_spawn succeeded without a process"),
                kill_on_drop: actions.kill_on_drop,
            },
            _on_exit: on_exit,
            _loop: PhantomData,
        })
    }
}

/// A child spawned on a [`Loop`], whose exit callback the loop runs. It borrows the loop
/// and stays on the loop's thread (neither `Send` nor `Sync`), so it is always dropped
/// there, outside the exit callback and before the loop: the callback's state is freed only
/// after `fdk_process_free` returned, when C no longer calls back, and never while the
/// callback runs. [`Deref`](std::ops::Deref) gives the calls of [`Process`] that take
/// `&self` (pid, pidfd, signal — a `&Process` may go to other threads for those).
///
/// ```compile_fail
/// // The process cannot outlive its loop.
/// let lp = fdkit::Loop::new().unwrap();
/// let mut actions = fdkit::Actions::new().unwrap();
/// actions.execvp("true", ["true"], None).unwrap();
/// let child = lp.spawn(&mut actions, |_| ()).unwrap();
/// drop(lp);
/// drop(child);
/// ```
///
/// ```compile_fail
/// // Nor be dropped on another thread, racing the loop's exit callback.
/// let lp = fdkit::Loop::new().unwrap();
/// let mut actions = fdkit::Actions::new().unwrap();
/// actions.execvp("true", ["true"], None).unwrap();
/// let child = lp.spawn(&mut actions, |_| ()).unwrap();
/// std::thread::scope(|s| { s.spawn(move || drop(child)); });
/// ```
pub struct LoopProcess<'l> {
    process: Process, // dropped first: fdk_process_free, then the callback's state
    _on_exit: Box<OnExit>,
    _loop: PhantomData<&'l Loop>,
}

impl LoopProcess<'_> {
    /// As [`Process::wait`].
    pub fn wait(&mut self) -> Result<ExitStatus> {
        self.process.wait()
    }

    /// As [`Process::try_wait`].
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        self.process.try_wait()
    }
}

// No DerefMut: it would let std::mem::swap move the loop-bound handle out into a Process,
// which is Send.
impl std::ops::Deref for LoopProcess<'_> {
    type Target = Process;
    fn deref(&self) -> &Process {
        &self.process
    }
}

impl std::fmt::Debug for LoopProcess<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.process.fmt(f)
    }
}

// SAFETY: process.h: the process calls may be made from any thread; those that may run
// concurrently take &self, the others &mut self. A Process has no exit callback: a spawn on
// a loop gives a LoopProcess, which is neither Send nor Sync.
unsafe impl Send for Process {}
unsafe impl Sync for Process {}

impl Process {
    pub fn pid(&self) -> i32 {
        unsafe { sys::fdk_process_pid(self.raw.as_ptr()) }
    }

    /// The pidfd, owned by the process handle.
    pub fn pidfd(&self) -> Result<BorrowedFd<'_>> {
        let fd = check(unsafe { sys::fdk_process_pidfd(self.raw.as_ptr()) }.into())?;
        // SAFETY: the pidfd stays open until the process handle is freed.
        Ok(unsafe { BorrowedFd::borrow_raw(fd as RawFd) })
    }

    /// Sends `sig` (0 only checks); ESRCH once the child has been reaped.
    pub fn signal(&self, sig: i32) -> Result<()> {
        check(unsafe { sys::fdk_process_signal(self.raw.as_ptr(), sig) }.into()).map(drop)
    }

    /// Waits for the child to exit and reaps it; later waits give the same status.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        let mut st = sys::fdk_exit_status::default();
        check(unsafe { sys::fdk_process_wait(self.raw.as_ptr(), &mut st) }.into())?;
        Ok(ExitStatus::from_raw(st.kind, st.value))
    }

    /// The status if the child has exited (it is reaped then), None if it still runs.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        let mut st = sys::fdk_exit_status::default();
        let done = check(unsafe { sys::fdk_process_try_wait(self.raw.as_ptr(), &mut st) }.into())?;
        Ok((done == 1).then(|| ExitStatus::from_raw(st.kind, st.value)))
    }
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process").field("pid", &self.pid()).finish()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if !self.kill_on_drop {
            // Refused (EINVAL) for a child spawned without a loop until fdkit reaps those:
            // the free below then kills it rather than leave a zombie.
            unsafe { sys::fdk_process_detach(self.raw.as_ptr()) };
        }
        unsafe { sys::fdk_process_free(self.raw.as_ptr()) };
    }
}
