//! Directories that confine path resolution, and the calls made beneath them (fs.h).
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};

use crate::error::{check, Error, Result};
use crate::platform;
use crate::fd::Fd;
use crate::sys;

/// Open flags: fdkit's own values (`OpenFlags::RDONLY | ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFlags(pub u32);

impl OpenFlags {
    pub const RDONLY: OpenFlags = OpenFlags(sys::FDK_O_RDONLY);
    pub const WRONLY: OpenFlags = OpenFlags(sys::FDK_O_WRONLY);
    pub const RDWR: OpenFlags = OpenFlags(sys::FDK_O_RDWR);
    pub const APPEND: OpenFlags = OpenFlags(sys::FDK_O_APPEND);
    pub const CREAT: OpenFlags = OpenFlags(sys::FDK_O_CREAT);
    pub const EXCL: OpenFlags = OpenFlags(sys::FDK_O_EXCL);
    pub const TRUNC: OpenFlags = OpenFlags(sys::FDK_O_TRUNC);
    pub const DIRECTORY: OpenFlags = OpenFlags(sys::FDK_O_DIRECTORY);
    pub const NOFOLLOW: OpenFlags = OpenFlags(sys::FDK_O_NOFOLLOW);
}

impl std::ops::BitOr for OpenFlags {
    type Output = OpenFlags;
    fn bitor(self, other: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 | other.0)
    }
}

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Regular,
    Dir,
    Symlink,
    Other,
}

/// What [`Dir::stat`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub kind: Kind,
    pub size: i64,
    pub perm: u32,
}

pub(crate) fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::new(platform::EINVAL, "path contains a NUL byte"))
}

/// A directory every path given to it is resolved beneath: `..`, absolute paths and
/// symlinks that would lead out fail with EXDEV. [`Dir::fs`] is the unconfined file system.
/// Every call may be made from any thread (fs.h), so it is `Send + Sync`; `clone` adds a
/// reference.
pub struct Dir {
    raw: NonNull<sys::fdk_dir>,
}

// SAFETY: fs.h: dir handles are reference-counted and every call may be made from any thread.
unsafe impl Send for Dir {}
unsafe impl Sync for Dir {}

impl Dir {
    /// The unconfined file system: absolute paths allowed.
    pub fn fs() -> Dir {
        Dir { raw: NonNull::new(unsafe { sys::fdk_dir_fs() }).expect("fdk_dir_fs") }
    }

    /// The current directory, confined to it.
    pub fn cwd() -> Dir {
        Dir { raw: NonNull::new(unsafe { sys::fdk_dir_cwd() }).expect("fdk_dir_cwd") }
    }

    /// The directory at `path` beneath this one, itself confining.
    pub fn open_dir(&self, path: impl AsRef<Path>) -> Result<Dir> {
        let p = c_path(path.as_ref())?;
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_dir_open(&mut out, self.as_raw(), p.as_ptr()) }.into())?;
        Ok(Dir { raw: NonNull::new(out).expect("fdk_dir_open succeeded without a handle") })
    }

    pub fn as_raw(&self) -> *mut sys::fdk_dir {
        self.raw.as_ptr()
    }

    /// Opens the file at `path` (close-on-exec).
    pub fn open(&self, path: impl AsRef<Path>, flags: OpenFlags, mode: u32) -> Result<Fd> {
        let p = c_path(path.as_ref())?;
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_openat(&mut out, self.as_raw(), p.as_ptr(), flags.0, mode) }.into())?;
        Ok(unsafe { Fd::from_raw(out) })
    }

    pub fn mkdir(&self, path: impl AsRef<Path>, mode: u32) -> Result<()> {
        let p = c_path(path.as_ref())?;
        check(unsafe { sys::fdk_mkdirat(self.as_raw(), p.as_ptr(), mode) }.into()).map(drop)
    }

    pub fn unlink(&self, path: impl AsRef<Path>) -> Result<()> {
        let p = c_path(path.as_ref())?;
        check(unsafe { sys::fdk_unlinkat(self.as_raw(), p.as_ptr()) }.into()).map(drop)
    }

    pub fn rmdir(&self, path: impl AsRef<Path>) -> Result<()> {
        let p = c_path(path.as_ref())?;
        check(unsafe { sys::fdk_rmdirat(self.as_raw(), p.as_ptr()) }.into()).map(drop)
    }

    /// Creates `path` as a symlink to `target`, stored as given.
    pub fn symlink(&self, target: impl AsRef<Path>, path: impl AsRef<Path>) -> Result<()> {
        let (t, p) = (c_path(target.as_ref())?, c_path(path.as_ref())?);
        check(unsafe { sys::fdk_symlinkat(t.as_ptr(), self.as_raw(), p.as_ptr()) }.into()).map(drop)
    }

    pub fn readlink(&self, path: impl AsRef<Path>) -> Result<Vec<u8>> {
        let p = c_path(path.as_ref())?;
        let mut text: *mut c_char = ptr::null_mut();
        let n = check(unsafe { sys::fdk_readlinkat(&mut text, self.as_raw(), p.as_ptr()) } as i64)?;
        // SAFETY: fdkit returned n bytes it allocated; fdk_free releases them.
        let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), n as usize) }.to_vec();
        unsafe { sys::fdk_free(text.cast()) };
        Ok(bytes)
    }

    pub fn stat(&self, path: impl AsRef<Path>, follow: bool) -> Result<Stat> {
        let p = c_path(path.as_ref())?;
        let mut st = ptr::null_mut();
        check(unsafe { sys::fdk_stat_new(&mut st) }.into())?;
        let r = check(unsafe { sys::fdk_statat(st, self.as_raw(), p.as_ptr(), follow as i32) }.into());
        let found = r.map(|_| unsafe {
            let kind = match sys::fdk_stat_kind(st) {
                sys::FDK_KIND_REGULAR => Kind::Regular,
                sys::FDK_KIND_DIR => Kind::Dir,
                sys::FDK_KIND_SYMLINK => Kind::Symlink,
                _ => Kind::Other,
            };
            Stat { kind, size: sys::fdk_stat_size(st), perm: sys::fdk_stat_perm(st) }
        });
        unsafe { sys::fdk_stat_free(st) };
        found
    }

    /// The names in the directory at `path`, sorted.
    pub fn read_dir(&self, path: impl AsRef<Path>) -> Result<Vec<Vec<u8>>> {
        let p = c_path(path.as_ref())?;
        let mut ents = ptr::null_mut();
        check(unsafe { sys::fdk_readdir(&mut ents, self.as_raw(), p.as_ptr()) }.into())?;
        let mut names: Vec<Vec<u8>> = (0..unsafe { sys::fdk_dirents_count(ents) })
            .map(|i| unsafe { CStr::from_ptr(sys::fdk_dirents_name(ents, i)) }.to_bytes().to_vec())
            .collect();
        unsafe { sys::fdk_dirents_free(ents) };
        names.sort();
        Ok(names)
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
