// SPDX-License-Identifier: MIT
//! Spawning processes from an ordered list of fork actions (process.h).
use std::ffi::{CString, OsStr};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::{BorrowedFd, RawFd};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Mutex;
use std::time::Duration;

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

/// The blocking mode an inherited descriptor gets in the child. The mode belongs to the
/// open file description, which the parent shares: changing it changes it for both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InheritMode {
    /// Leave it as it is.
    Preserve,
    /// Clear O_NONBLOCK in the child.
    Blocking,
    /// Set O_NONBLOCK in the child.
    NonBlocking,
}

impl InheritMode {
    fn raw(self) -> c_int {
        match self {
            InheritMode::Preserve => sys::FDK_INHERIT_PRESERVE,
            InheritMode::Blocking => sys::FDK_INHERIT_BLOCKING,
            InheritMode::NonBlocking => sys::FDK_INHERIT_NONBLOCKING,
        }
    }
}

/// How fdkit creates the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnBackend {
    /// A vfork-style clone on a cached stack (the default).
    Auto,
    /// fork(), then the same child code.
    Fork,
    /// posix_spawn: ENOTSUP for actions it cannot express; failures name no action.
    PosixSpawn,
}

impl SpawnBackend {
    pub(crate) fn raw(self) -> c_uint {
        match self {
            SpawnBackend::Auto => sys::FDK_SPAWN_BACKEND_AUTO,
            SpawnBackend::Fork => sys::FDK_SPAWN_BACKEND_FORK,
            SpawnBackend::PosixSpawn => sys::FDK_SPAWN_BACKEND_POSIX_SPAWN,
        }
    }
}

/// An async-signal-safe function run in the child by [`Actions::user`]: 0, or a negative
/// errno that fails the spawn.
pub type ChildFn = unsafe extern "C" fn(arg: *mut c_void) -> c_int;

/// An ordered list of actions run in the child, ending with an exec; a builder in the
/// manner of `std::process::Command`. Every adder returns `&mut Actions` for chaining; the
/// first one that fails (a NUL byte in a path, a value fdkit refuses) is remembered and
/// returned by the next spawn, and the adders after it are skipped. Everything given to
/// it is copied (handles referenced). A complete list is only read by a spawn, so any
/// number of spawns may use it at once, from any thread: `spawn(&self)`, `Send + Sync`.
pub struct Actions {
    raw: NonNull<sys::fdk_actions>,
    error: Option<Error>,
    backend: SpawnBackend,
    kill_on_drop: bool,
}

// SAFETY: process.h: building a list and fdk_spawn may be made from any thread; a
// complete list is only read by fdk_spawn, by any number of threads at once. Adders take
// &mut self.
unsafe impl Send for Actions {}
unsafe impl Sync for Actions {}

/// An rlimit value: None is no limit (FDK_RLIM_INFINITY).
fn rlim(value: Option<u64>) -> u64 {
    value.unwrap_or(sys::FDK_RLIM_INFINITY)
}

fn env_strings(env: Option<&[(&str, &str)]>) -> Result<Option<CStrings>> {
    env.map(|vars| CStrings::new(vars.iter().map(|(k, v)| format!("{}={}", k, v)))).transpose()
}

impl Actions {
    pub fn new() -> Result<Actions> {
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_actions_new(&mut out) }.into())?;
        Ok(Actions {
            raw: NonNull::new(out).expect("fdk_actions_new succeeded without a list"),
            error: None,
            backend: SpawnBackend::Auto,
            kill_on_drop: false,
        })
    }

    /// Runs one adder unless an earlier one failed, and keeps its error for the spawn.
    fn add(&mut self, adder: impl FnOnce(*mut sys::fdk_actions) -> Result<c_int>) -> &mut Actions {
        if self.error.is_none() {
            if let Err(e) = adder(self.raw.as_ptr()).and_then(|r| check(r.into())) {
                self.error = Some(e);
            }
        }
        self
    }

    /// The first adder's error, if one failed (the spawn would return it).
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// Executes `file` (looked up in PATH when it has no '/') with `args` (args[0]
    /// included); `env` None passes the environment as it is at spawn time. A missing
    /// program is ENOENT from the spawn, before any child is created.
    pub fn execvp<S: AsRef<OsStr>>(
        &mut self,
        file: impl AsRef<Path>,
        args: impl IntoIterator<Item = S>,
        env: Option<&[(&str, &str)]>,
    ) -> &mut Actions {
        let strings = (|| -> Result<_> { Ok((c_path(file.as_ref())?, CStrings::new(args)?, env_strings(env)?)) })();
        self.add(|raw| {
            let (file, argv, envp) = strings?;
            let envp_ptr = envp.as_ref().map_or(ptr::null(), |e| e.as_ptr());
            Ok(unsafe { sys::fdk_actions_execvp(raw, file.as_ptr(), argv.as_ptr(), envp_ptr) })
        })
    }

    /// Executes `path` as it is (no PATH search).
    pub fn execve<S: AsRef<OsStr>>(
        &mut self,
        path: impl AsRef<Path>,
        args: impl IntoIterator<Item = S>,
        env: Option<&[(&str, &str)]>,
    ) -> &mut Actions {
        let strings = (|| -> Result<_> { Ok((c_path(path.as_ref())?, CStrings::new(args)?, env_strings(env)?)) })();
        self.add(|raw| {
            let (path, argv, envp) = strings?;
            let envp_ptr = envp.as_ref().map_or(ptr::null(), |e| e.as_ptr());
            Ok(unsafe { sys::fdk_actions_execve(raw, path.as_ptr(), argv.as_ptr(), envp_ptr) })
        })
    }

    pub fn chdir(&mut self, path: impl AsRef<Path>) -> &mut Actions {
        let path = c_path(path.as_ref());
        self.add(|raw| Ok(unsafe { sys::fdk_actions_chdir(raw, path?.as_ptr()) }))
    }

    /// Changes to the directory `dir` is open on ([`Dir::handle`](crate::Dir::handle)
    /// gives one); a handle closed by spawn time fails it with EBADF. It uses the number
    /// `dir` has in the parent: add it before an `inherit_fd` that could take that number.
    pub fn fchdir(&mut self, dir: &Fd) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_fchdir(raw, dir.as_raw()) }))
    }

    /// Gives the child `src` as descriptor `dst`, blocking mode left as it is.
    pub fn inherit_fd(&mut self, dst: RawFd, src: &Fd) -> &mut Actions {
        self.inherit_fd_mode(dst, src, InheritMode::Preserve)
    }

    /// Gives the child `src` as descriptor `dst` with the blocking mode `mode`.
    pub fn inherit_fd_mode(&mut self, dst: RawFd, src: &Fd, mode: InheritMode) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_inherit_fd(raw, dst, src.as_raw(), mode.raw()) }))
    }

    /// Gives the child the raw descriptor `src` as `dst`; fdkit never closes `src`.
    ///
    /// # Safety
    /// `src` must stay open, naming the same file, until every spawn that uses this list
    /// has returned: the list keeps only the number, and a closed and reused number would
    /// hand the child some other file.
    pub unsafe fn inherit_raw(&mut self, dst: RawFd, src: RawFd, mode: InheritMode) -> &mut Actions {
        self.add(|raw| Ok(sys::fdk_actions_inherit_raw(raw, dst, src, mode.raw())))
    }

    /// setsid(): the child leads a new session and process group.
    pub fn setsid(&mut self) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_setsid(raw) }))
    }

    /// Starts a new session with `tty` as its controlling terminal (login_tty without
    /// the descriptor mapping: map the terminal onto 0, 1, 2 with `inherit_fd` after
    /// this). EINVAL with `setsid` or `setpgid` in the list; ENOTTY from the spawn when
    /// `tty` is no terminal; ENOTSUP with the posix_spawn backend.
    pub fn login_tty(&mut self, tty: &Fd) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_login_tty(raw, tty.as_raw()) }))
    }

    /// setpgid(0, pgid): 0 makes the child lead a new group ([`Process::signal_group`]
    /// then reaches the whole group).
    pub fn setpgid(&mut self, pgid: i32) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_setpgid(raw, pgid) }))
    }

    /// The raw setuid system call in the child (EPERM from the spawn when the caller may
    /// not). Add `setgroups` and `setgid` first.
    pub fn setuid(&mut self, uid: u32) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_setuid(raw, uid) }))
    }

    pub fn setgid(&mut self, gid: u32) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_setgid(raw, gid) }))
    }

    /// The supplementary groups (at most 65536).
    pub fn setgroups(&mut self, gids: &[u32]) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_setgroups(raw, gids.len(), gids.as_ptr()) }))
    }

    /// umask(mask) in the child (permission bits, 0o777 at most).
    pub fn umask(&mut self, mask: u32) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_umask(raw, mask) }))
    }

    /// setrlimit: `resource` is the platform's RLIMIT_* ([`crate::platform`]); None is no
    /// limit. A hard limit above the caller's fails the spawn with EPERM.
    pub fn rlimit(&mut self, resource: i32, soft: Option<u64>, hard: Option<u64>) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_rlimit(raw, resource, rlim(soft), rlim(hard)) }))
    }

    /// Linux: `sig` is sent to the child when the thread that spawned it exits.
    pub fn pdeathsig(&mut self, sig: i32) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_pdeathsig(raw, sig) }))
    }

    /// PR_SET_NO_NEW_PRIVS: exec grants no privilege (setuid bits are ignored).
    pub fn no_new_privs(&mut self) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_no_new_privs(raw) }))
    }

    /// Sets `sig` to its default action in the child (EINVAL for SIGKILL, SIGSTOP).
    pub fn signal_default(&mut self, sig: i32) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_signal_default(raw, sig) }))
    }

    /// Ignores `sig` in the child (EINVAL for SIGKILL, SIGSTOP).
    pub fn signal_ignore(&mut self, sig: i32) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_signal_ignore(raw, sig) }))
    }

    /// Closes every descriptor but 0, 1, 2 and the `inherit_fd` destinations at exec.
    pub fn close_other_fds(&mut self) -> &mut Actions {
        self.add(|raw| Ok(unsafe { sys::fdk_actions_close_other_fds(raw) }))
    }

    /// Runs `f(arg)` in the child at this point of the list; a negative errno it returns
    /// fails the spawn, the detail naming `name`.
    ///
    /// # Safety
    /// `f` runs in a child that may share the parent's memory, on a small private stack
    /// (32 KiB budget, no frame over 64 KiB). It must be async-signal-safe: no allocation,
    /// no locks, no panics (they cannot unwind out of the child), no stdio, nothing that
    /// touches errno or Rust's thread-locals; it may only read `arg`. `arg` must stay valid
    /// for every spawn that uses this list. A closure cannot promise any of this, which is
    /// why this takes a plain function and is `unsafe`.
    pub unsafe fn user(&mut self, f: ChildFn, arg: *mut c_void, name: &str) -> &mut Actions {
        let name = c_string(name);
        self.add(|raw| Ok(sys::fdk_actions_user(raw, Some(f), arg, name?.as_ptr())))
    }

    /// How the child is created (default [`SpawnBackend::Auto`]).
    pub fn backend(&mut self, backend: SpawnBackend) -> &mut Actions {
        self.backend = backend;
        self
    }

    /// Whether dropping a process spawned from this list kills (SIGKILL) and reaps a child
    /// that still runs, as tokio's `Command::kill_on_drop` names it. Off by default: like
    /// `std::process::Child`, a dropped handle leaves its child running, and fdkit reaps it
    /// when it exits (with a loop, on that loop; without, at later spawns and waits or
    /// [`reap_detached`]).
    pub fn kill_on_drop(&mut self, kill: bool) -> &mut Actions {
        self.kill_on_drop = kill;
        self
    }

    /// Spawns a child that runs the actions (no loop: wait with [`Process::wait`]). The
    /// first failed adder's error comes out here.
    pub fn spawn(&self) -> Result<Process> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let mut out = ptr::null_mut();
        let r = unsafe {
            sys::fdk_spawn(&mut out, ptr::null_mut(), self.raw.as_ptr(), self.backend.raw(), None, ptr::null_mut())
        };
        check(r.into())?;
        Ok(Process { raw: NonNull::new(out).expect("fdk_spawn succeeded without a process"), kill_on_drop: self.kill_on_drop })
    }
}

/// Reaps the children spawned without a loop whose handles were dropped (or detached)
/// while they ran and that have exited since; returns how many still run. fdkit also does
/// it at every spawn and wait; a program that spawns rarely can call it from a timer.
pub fn reap_detached() -> Result<usize> {
    check(unsafe { sys::fdk_process_reap_detached() }.into()).map(|n| n as usize)
}

/// Resource usage of a reaped child (its own, not its descendants').
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceUsage {
    pub user_time: Duration,
    pub system_time: Duration,
    /// Peak resident set size in KiB.
    pub max_rss_kib: u64,
    pub minor_faults: u64,
    pub major_faults: u64,
    /// File system blocks read and written (512-byte units).
    pub blocks_in: u64,
    pub blocks_out: u64,
    pub voluntary_switches: u64,
    pub involuntary_switches: u64,
}

impl ResourceUsage {
    /// None when fdkit has none (every field -1: somebody else reaped the child).
    pub(crate) fn from_raw(u: &sys::fdk_rusage) -> Option<ResourceUsage> {
        let n = |v: i64| v.max(0) as u64;
        (u.utime_ns >= 0).then(|| ResourceUsage {
            user_time: Duration::from_nanos(n(u.utime_ns)),
            system_time: Duration::from_nanos(n(u.stime_ns)),
            max_rss_kib: n(u.maxrss_kib),
            minor_faults: n(u.minflt),
            major_faults: n(u.majflt),
            blocks_in: n(u.inblock),
            blocks_out: n(u.oublock),
            voluntary_switches: n(u.nvcsw),
            involuntary_switches: n(u.nivcsw),
        })
    }
}

impl Drop for Actions {
    fn drop(&mut self) {
        unsafe { sys::fdk_actions_free(self.raw.as_ptr()) };
    }
}

/// A spawned child. Dropping it leaves a child that still runs alive, as
/// `std::process::Child` does (fdkit reaps it when it exits), unless the actions asked for
/// [`Actions::kill_on_drop`]; [`Process::detach`] leaves it alive either way. Signalling, pid and pidfd may run concurrently with anything
/// (`&self`); waiting takes `&mut self` because process.h allows only one at a time.
pub struct Process {
    raw: NonNull<sys::fdk_process>,
    kill_on_drop: bool,
}

type ExitFn = Box<dyn FnOnce(Result<()>) + Send>;

/// The exit callback's state, shared by the [`LoopProcess`] and the C callback. Once the
/// handle is dropped with the callback still pending, the state owns the process (`orphan`)
/// and itself: the C callback frees both after the Rust callback ran.
struct OnExit {
    lp: *mut sys::fdk_loop,
    state: Mutex<ExitState>,
}

struct ExitState {
    done: Option<ExitFn>,
    /// The C callback is running: a handle dropped from inside it (safe code can, through a
    /// thread-local and a leaked loop) must leave the state to it.
    in_callback: bool,
    /// The C callback has run: C holds no pointer to this state any more.
    fired: bool,
    /// The process of a dropped handle, freed by the C callback.
    orphan: Option<Process>,
}

impl OnExit {
    fn state(&self) -> std::sync::MutexGuard<'_, ExitState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

unsafe extern "C" fn exited(_proc: *mut sys::fdk_process, result: c_int, data: *mut c_void) {
    let on_exit = data.cast::<OnExit>();
    let done = {
        let mut state = (*on_exit).state();
        state.in_callback = true;
        state.done.take()
    };
    if let Some(done) = done {
        let result = if result < 0 { Err(Error::last(result.into())) } else { Ok(()) };
        call_from_c((*on_exit).lp, move || done(result));
    }
    // Marked only now: a handle dropped during the callback hands its process over too.
    let orphan = {
        let mut state = (*on_exit).state();
        state.fired = true;
        state.orphan.take()
    };
    if let Some(process) = orphan {
        // process.h allows freeing the process from its own exit callback.
        drop(process);
        drop(Box::from_raw(on_exit));
    }
}

impl Loop {
    /// Spawns a child that runs `actions`; `on_exit` runs from [`Loop::run`] once it has
    /// exited (not reaped yet: [`LoopProcess::try_wait`] collects the status), or with
    /// ECANCELED when the loop is dropped first. It runs also when the [`LoopProcess`] was
    /// dropped meanwhile (the child is reaped after it), except when [`Actions::kill_on_drop`]
    /// made the drop kill and reap the child.
    pub fn spawn<F>(&self, actions: &Actions, on_exit: F) -> Result<LoopProcess<'_>>
    where
        F: FnOnce(Result<()>) + Send + 'static,
    {
        if let Some(e) = &actions.error {
            return Err(e.clone());
        }
        let state = ExitState { done: Some(Box::new(on_exit)), in_callback: false, fired: false, orphan: None };
        let on_exit = Box::into_raw(Box::new(OnExit { lp: self.as_raw(), state: Mutex::new(state) }));
        let mut out = ptr::null_mut();
        let flags = actions.backend.raw();
        let r = unsafe { sys::fdk_spawn(&mut out, self.as_raw(), actions.raw.as_ptr(), flags, Some(exited), on_exit.cast()) };
        if let Err(e) = check(r.into()) {
            // A failed spawn never calls back.
            drop(unsafe { Box::from_raw(on_exit) });
            return Err(e);
        }
        Ok(LoopProcess {
            process: ManuallyDrop::new(Process {
                raw: NonNull::new(out).expect("fdk_spawn succeeded without a process"),
                kill_on_drop: actions.kill_on_drop,
            }),
            on_exit,
            _loop: PhantomData,
        })
    }
}

/// A child spawned on a [`Loop`], whose exit callback the loop runs. It borrows the loop
/// and stays on the loop's thread (neither `Send` nor `Sync`), so it is always dropped
/// there, before the loop. Dropping it while the exit callback is pending hands the
/// process to the callback's state, which the C callback frees after running the Rust
/// callback (process.h allows freeing a process from its own exit callback); C calls back
/// exactly once, on exit or with ECANCELED when the loop is dropped, so nothing is freed
/// twice or leaked. With [`Actions::kill_on_drop`] the drop kills and reaps the child
/// (`fdk_process_free`) and the callback never runs. [`Deref`](std::ops::Deref) gives the
/// calls of [`Process`] that take `&self` (pid, pidfd, signal — a `&Process` may go to
/// other threads for those).
///
/// ```compile_fail
/// // The process cannot outlive its loop.
/// let lp = fdkit::Loop::new().unwrap();
/// let mut actions = fdkit::Actions::new().unwrap();
/// actions.execvp("true", ["true"], None);
/// let child = lp.spawn(&actions, |_| ()).unwrap();
/// drop(lp);
/// drop(child);
/// ```
///
/// ```compile_fail
/// // Nor be dropped on another thread, racing the loop's exit callback.
/// let lp = fdkit::Loop::new().unwrap();
/// let mut actions = fdkit::Actions::new().unwrap();
/// actions.execvp("true", ["true"], None);
/// let child = lp.spawn(&actions, |_| ()).unwrap();
/// std::thread::scope(|s| { s.spawn(move || drop(child)); });
/// ```
pub struct LoopProcess<'l> {
    process: ManuallyDrop<Process>,
    on_exit: *mut OnExit,
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

    /// Drops the handle and leaves the child running, whatever [`Actions::kill_on_drop`]
    /// said: the exit callback runs when it exits, and the loop's run goes on until then.
    pub fn detach(mut self) {
        self.process.kill_on_drop = false;
    }
}

impl Drop for LoopProcess<'_> {
    fn drop(&mut self) {
        // SAFETY: taken once, here; on_exit stays valid until the C callback fired, and
        // afterwards until this drop frees it.
        let process = unsafe { ManuallyDrop::take(&mut self.process) };
        let mut state = unsafe { (*self.on_exit).state() };
        if state.fired || (process.kill_on_drop && !state.in_callback) {
            // C calls back no more once fired, or once fdk_process_free returned.
            drop(state);
            drop(process);
            drop(unsafe { Box::from_raw(self.on_exit) });
        } else {
            state.orphan = Some(process);
        }
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
        std::fmt::Debug::fmt(&*self.process, f)
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

    /// Sends `sig` to the process group the child leads (after `setsid` or
    /// `setpgid(0)`); ESRCH when there is none or the child has been reaped.
    pub fn signal_group(&self, sig: i32) -> Result<()> {
        check(unsafe { sys::fdk_process_signal_group(self.raw.as_ptr(), sig) }.into()).map(drop)
    }

    /// Drops the handle and leaves the child running, whatever
    /// [`Actions::kill_on_drop`] said; fdkit reaps it when it exits.
    pub fn detach(mut self) {
        self.kill_on_drop = false;
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
            // fdkit reaps a detached child: on its loop, or from its list of loop-less ones.
            unsafe { sys::fdk_process_detach(self.raw.as_ptr()) };
        }
        unsafe { sys::fdk_process_free(self.raw.as_ptr()) };
    }
}
