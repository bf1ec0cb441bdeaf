// SPDX-License-Identifier: MIT
//! Confined directories, open, directory and link calls, stat (fs.h).
use std::ffi::{CStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::ptr::{self, NonNull};

use crate::error::{c_path, check, take_text, Result};
use crate::event_loop::{Loop, Op};
use crate::fd::Fd;
use crate::sys;

/// A directory that confines path resolution: nothing beneath it resolves outside it
/// (`..` past it, absolute paths, symlinks that climb out all fail with EXDEV).
/// Reference counted: `clone` adds a reference. fs.h allows sharing a dir handle between
/// threads, so it is `Send + Sync`.
pub struct Dir {
    raw: NonNull<sys::fdk_dir>,
}

// SAFETY: fs.h: "an fdk_dir may be shared between threads"; every synchronous call may be
// made from any thread.
unsafe impl Send for Dir {}
unsafe impl Sync for Dir {}

/// Open flags (fdkit's own values); combine with `|`. Close-on-exec is always set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFlags(u32);

impl OpenFlags {
    pub const READ: OpenFlags = OpenFlags(sys::FDK_O_RDONLY);
    pub const WRITE: OpenFlags = OpenFlags(sys::FDK_O_WRONLY);
    pub const READ_WRITE: OpenFlags = OpenFlags(sys::FDK_O_RDWR);
    pub const APPEND: OpenFlags = OpenFlags(sys::FDK_O_APPEND);
    pub const CREATE: OpenFlags = OpenFlags(sys::FDK_O_CREAT);
    pub const EXCLUSIVE: OpenFlags = OpenFlags(sys::FDK_O_EXCL);
    pub const TRUNCATE: OpenFlags = OpenFlags(sys::FDK_O_TRUNC);
    pub const DIRECTORY: OpenFlags = OpenFlags(sys::FDK_O_DIRECTORY);
    pub const NO_FOLLOW: OpenFlags = OpenFlags(sys::FDK_O_NOFOLLOW);
    pub const NONBLOCK: OpenFlags = OpenFlags(sys::FDK_O_NONBLOCK);
}

impl std::ops::BitOr for OpenFlags {
    type Output = OpenFlags;
    fn bitor(self, other: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 | other.0)
    }
}

/// What a directory entry or a stat describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Unknown,
    Fifo,
    CharDevice,
    Dir,
    BlockDevice,
    Regular,
    Symlink,
    Socket,
}

impl FileKind {
    fn from_raw(kind: i32) -> FileKind {
        match kind {
            sys::FDK_KIND_FIFO => FileKind::Fifo,
            sys::FDK_KIND_CHAR => FileKind::CharDevice,
            sys::FDK_KIND_DIR => FileKind::Dir,
            sys::FDK_KIND_BLOCK => FileKind::BlockDevice,
            sys::FDK_KIND_REGULAR => FileKind::Regular,
            sys::FDK_KIND_SYMLINK => FileKind::Symlink,
            sys::FDK_KIND_SOCKET => FileKind::Socket,
            _ => FileKind::Unknown,
        }
    }
}

/// A stat result, copied out of fdkit's reusable `fdk_stat`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub kind: FileKind,
    pub size: u64,
    /// Permission bits (0o7777).
    pub perm: u32,
    pub ino: u64,
    pub dev: u64,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    /// Modification time: seconds and nanoseconds since the epoch.
    pub mtime: (i64, i64),
}

/// Fills a fresh fdk_stat with `fill` and copies it out.
fn stat_with(fill: impl FnOnce(*mut sys::fdk_stat) -> i32) -> Result<Metadata> {
    struct Owned(*mut sys::fdk_stat);
    impl Drop for Owned {
        fn drop(&mut self) {
            unsafe { sys::fdk_stat_free(self.0) };
        }
    }
    let mut raw = ptr::null_mut();
    check(unsafe { sys::fdk_stat_new(&mut raw) }.into())?;
    let st = Owned(raw);
    check(fill(st.0).into())?;
    let (mut sec, mut nsec) = (0, 0);
    unsafe {
        sys::fdk_stat_mtime(st.0, &mut sec, &mut nsec);
        Ok(Metadata {
            kind: FileKind::from_raw(sys::fdk_stat_kind(st.0)),
            size: sys::fdk_stat_size(st.0) as u64,
            perm: sys::fdk_stat_perm(st.0),
            ino: sys::fdk_stat_ino(st.0),
            dev: sys::fdk_stat_dev(st.0),
            nlink: sys::fdk_stat_nlink(st.0),
            uid: sys::fdk_stat_uid(st.0),
            gid: sys::fdk_stat_gid(st.0),
            mtime: (sec, nsec),
        })
    }
}

/// One entry of [`Dir::read_dir`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: OsString,
    pub kind: FileKind,
}

impl Dir {
    /// The unconfined file system: absolute paths and `..` work as with openat(2).
    pub fn fs() -> Dir {
        Dir { raw: NonNull::new(unsafe { sys::fdk_dir_fs() }).expect("fdk_dir_fs") }
    }

    /// The current directory, confined.
    pub fn cwd() -> Dir {
        Dir { raw: NonNull::new(unsafe { sys::fdk_dir_cwd() }).expect("fdk_dir_cwd") }
    }

    /// A confined directory on an open directory descriptor. Both share one handle: `fd`
    /// keeps its own reference, but [`Fd::close`] on it closes the directory too.
    pub fn from_fd(fd: &Fd) -> Result<Dir> {
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_dir_from_fd(&mut out, fd.as_raw()) }.into())?;
        Ok(Dir { raw: NonNull::new(out).expect("fdk_dir_from_fd succeeded without a dir") })
    }

    pub fn as_raw(&self) -> *mut sys::fdk_dir {
        self.raw.as_ptr()
    }

    /// Opens `path` beneath this directory as a new confined directory.
    pub fn open_dir(&self, path: impl AsRef<Path>) -> Result<Dir> {
        let path = c_path(path.as_ref())?;
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_dir_open(&mut out, self.as_raw(), path.as_ptr()) }.into())?;
        Ok(Dir { raw: NonNull::new(out).expect("fdk_dir_open succeeded without a dir") })
    }

    /// Opens `path` beneath this directory; `mode` applies with [`OpenFlags::CREATE`].
    pub fn open(&self, path: impl AsRef<Path>, flags: OpenFlags, mode: u32) -> Result<Fd> {
        let path = c_path(path.as_ref())?;
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_openat(&mut out, self.as_raw(), path.as_ptr(), flags.0, mode) }.into())?;
        Ok(unsafe { Fd::from_raw(out) })
    }

    pub fn mkdir(&self, path: impl AsRef<Path>, mode: u32) -> Result<()> {
        let path = c_path(path.as_ref())?;
        check(unsafe { sys::fdk_mkdirat(self.as_raw(), path.as_ptr(), mode) }.into()).map(drop)
    }

    /// Removes a non-directory (a symlink itself, never its target).
    pub fn unlink(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = c_path(path.as_ref())?;
        check(unsafe { sys::fdk_unlinkat(self.as_raw(), path.as_ptr()) }.into()).map(drop)
    }

    pub fn rmdir(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = c_path(path.as_ref())?;
        check(unsafe { sys::fdk_rmdirat(self.as_raw(), path.as_ptr()) }.into()).map(drop)
    }

    /// Renames `from` beneath this directory to `to` beneath `to_dir`.
    pub fn rename(&self, from: impl AsRef<Path>, to_dir: &Dir, to: impl AsRef<Path>) -> Result<()> {
        let (from, to) = (c_path(from.as_ref())?, c_path(to.as_ref())?);
        check(unsafe { sys::fdk_renameat(self.as_raw(), from.as_ptr(), to_dir.as_raw(), to.as_ptr()) }.into()).map(drop)
    }

    /// Creates a symlink at `path` whose text is `target` (stored as given).
    pub fn symlink(&self, target: impl AsRef<Path>, path: impl AsRef<Path>) -> Result<()> {
        let (target, path) = (c_path(target.as_ref())?, c_path(path.as_ref())?);
        check(unsafe { sys::fdk_symlinkat(target.as_ptr(), self.as_raw(), path.as_ptr()) }.into()).map(drop)
    }

    /// The text of the symlink at `path`.
    pub fn read_link(&self, path: impl AsRef<Path>) -> Result<PathBuf> {
        let path = c_path(path.as_ref())?;
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_readlinkat(&mut out, self.as_raw(), path.as_ptr()) } as i64)?;
        Ok(PathBuf::from(OsString::from_vec(take_text(out))))
    }

    /// Stat of `path`; `follow` follows a symlink in the last position (confined).
    pub fn stat(&self, path: impl AsRef<Path>, follow: bool) -> Result<Metadata> {
        let path = c_path(path.as_ref())?;
        stat_with(|st| unsafe { sys::fdk_statat(st, self.as_raw(), path.as_ptr(), follow as i32) })
    }

    /// The entries of the directory at `path` ("." and ".." left out), in the file
    /// system's order.
    pub fn read_dir(&self, path: impl AsRef<Path>) -> Result<Vec<DirEntry>> {
        let path = c_path(path.as_ref())?;
        let mut raw = ptr::null_mut();
        check(unsafe { sys::fdk_readdir(&mut raw, self.as_raw(), path.as_ptr()) }.into())?;
        let entries = (0..unsafe { sys::fdk_dirents_count(raw) })
            .map(|i| unsafe {
                DirEntry {
                    name: OsString::from_vec(CStr::from_ptr(sys::fdk_dirents_name(raw, i)).to_bytes().to_vec()),
                    kind: FileKind::from_raw(sys::fdk_dirents_kind(raw, i)),
                }
            })
            .collect();
        unsafe { sys::fdk_dirents_free(raw) };
        Ok(entries)
    }
}

impl std::fmt::Debug for Dir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dir").field("raw", &self.raw).finish()
    }
}

impl Clone for Dir {
    fn clone(&self) -> Dir {
        Dir { raw: NonNull::new(unsafe { sys::fdk_dir_ref(self.as_raw()) }).expect("fdk_dir_ref") }
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        unsafe { sys::fdk_dir_unref(self.as_raw()) };
    }
}

impl Fd {
    /// fstat.
    pub fn metadata(&self) -> Result<Metadata> {
        stat_with(|st| unsafe { sys::fdk_fstat(st, self.as_raw()) })
    }
}

impl Loop {
    /// Opens `path` beneath `dir` on the worker pool; `done` gets the handle on the loop.
    /// The path is copied and `dir` referenced until then.
    pub fn open_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, flags: OpenFlags, mode: u32, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Fd>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        self.start_fd(done, |cb, data, op| unsafe {
            sys::fdk_openat_async(self.as_raw(), dir.as_raw(), path.as_ptr(), flags.0, mode, cb, data, op)
        })
    }
}
