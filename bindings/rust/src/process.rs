//! Spawning a child from an ordered list of actions (process.h).
use std::ffi::CString;
use std::os::raw::c_char;
use std::path::Path;
use std::ptr::{self, NonNull};

use crate::error::{check, Result};
use crate::fd::Fd;
use crate::fs::c_path;
use crate::run::ExitStatus;
use crate::sys;

/// The actions a child runs before it execs, in order: [`Spawn::cwd`], [`Spawn::inherit`],
/// [`Spawn::setsid`], [`Spawn::close_other_fds`], then the exec of argv (PATH searched).
pub struct Spawn {
    argv: Vec<CString>,
    cwd: Option<CString>,
    inherit: Vec<(i32, Fd)>,
    setsid: bool,
    close_other_fds: bool,
}

impl Spawn {
    pub fn new<I, S>(argv: I) -> Result<Spawn>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let argv = argv.into_iter().map(|a| c_path(Path::new(a.as_ref()))).collect::<Result<Vec<_>>>()?;
        Ok(Spawn { argv, cwd: None, inherit: Vec::new(), setsid: false, close_other_fds: false })
    }

    pub fn cwd(mut self, path: impl AsRef<Path>) -> Result<Spawn> {
        self.cwd = Some(c_path(path.as_ref())?);
        Ok(self)
    }

    /// Maps `fd` to descriptor `dst` in the child (blocking mode preserved).
    pub fn inherit(mut self, dst: i32, fd: &Fd) -> Spawn {
        self.inherit.push((dst, fd.clone()));
        self
    }

    pub fn setsid(mut self) -> Spawn {
        self.setsid = true;
        self
    }

    /// Every descriptor but 0, 1, 2 and the inherited ones is closed at exec.
    pub fn close_other_fds(mut self) -> Spawn {
        self.close_other_fds = true;
        self
    }

    /// Starts the child. A failing action is an error naming it (the failed child is
    /// already reaped).
    pub fn spawn(&self) -> Result<Process> {
        struct Actions(*mut sys::fdk_actions);
        impl Drop for Actions {
            fn drop(&mut self) {
                unsafe { sys::fdk_actions_free(self.0) };
            }
        }
        let mut raw = ptr::null_mut();
        check(unsafe { sys::fdk_actions_new(&mut raw) }.into())?;
        let actions = Actions(raw);
        unsafe {
            if let Some(dir) = &self.cwd {
                check(sys::fdk_actions_chdir(actions.0, dir.as_ptr()).into())?;
            }
            for (dst, fd) in &self.inherit {
                check(sys::fdk_actions_inherit_fd(actions.0, *dst, fd.as_raw(), sys::FDK_INHERIT_PRESERVE).into())?;
            }
            if self.setsid {
                check(sys::fdk_actions_setsid(actions.0).into())?;
            }
            if self.close_other_fds {
                check(sys::fdk_actions_close_other_fds(actions.0).into())?;
            }
            let mut argv: Vec<*const c_char> = self.argv.iter().map(|a| a.as_ptr()).collect();
            argv.push(ptr::null());
            let file = self.argv.first().map_or(ptr::null(), |a| a.as_ptr());
            check(sys::fdk_actions_execvp(actions.0, file, argv.as_ptr(), ptr::null()).into())?;
        }
        let mut proc_ = ptr::null_mut();
        check(unsafe { sys::fdk_spawn(&mut proc_, ptr::null_mut(), actions.0, 0, None, ptr::null_mut()) }.into())?;
        Ok(Process { raw: NonNull::new(proc_).expect("fdk_spawn succeeded without a process") })
    }
}

/// A spawned child. Dropping it kills and reaps a child still running. Every call may be
/// made from any thread (process.h), so it is `Send + Sync`.
pub struct Process {
    raw: NonNull<sys::fdk_process>,
}

// SAFETY: process.h: signal, wait and try_wait may be called from any thread.
unsafe impl Send for Process {}
unsafe impl Sync for Process {}

fn status_of(st: &sys::fdk_exit_status) -> ExitStatus {
    if st.kind == sys::FDK_EXIT_SIGNAL {
        ExitStatus::Signal(st.value)
    } else {
        ExitStatus::Code(st.value)
    }
}

impl Process {
    pub fn pid(&self) -> i32 {
        unsafe { sys::fdk_process_pid(self.raw.as_ptr()) }
    }

    /// ESRCH once the child was reaped: a recycled pid is never signalled.
    pub fn signal(&self, sig: i32) -> Result<()> {
        check(unsafe { sys::fdk_process_signal(self.raw.as_ptr(), sig) }.into()).map(drop)
    }

    /// Waits for the exit, reaps, and returns how it ended (the same on every later call).
    pub fn wait(&self) -> Result<ExitStatus> {
        let mut st = sys::fdk_exit_status::default();
        check(unsafe { sys::fdk_process_wait(self.raw.as_ptr(), &mut st) }.into())?;
        Ok(status_of(&st))
    }

    /// How the child ended if it has (it is reaped then), else None.
    pub fn try_wait(&self) -> Result<Option<ExitStatus>> {
        let mut st = sys::fdk_exit_status::default();
        let done = check(unsafe { sys::fdk_process_try_wait(self.raw.as_ptr(), &mut st) }.into())?;
        Ok(if done == 1 { Some(status_of(&st)) } else { None })
    }
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process").field("pid", &self.pid()).finish()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        unsafe { sys::fdk_process_free(self.raw.as_ptr()) };
    }
}
