// SPDX-License-Identifier: MIT
//! Confined directories, open, directory and link calls, stat (fs.h).
use std::ffi::{CStr, OsStr, OsString};
use std::os::raw::{c_char, c_int, c_void};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::ptr::{self, NonNull};

use crate::error::{c_path, c_string, check, take_text, Error, Result};
use crate::event_loop::{finish, Loop, Op};
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
    pub const SYNC: OpenFlags = OpenFlags(sys::FDK_O_SYNC);
    pub const DSYNC: OpenFlags = OpenFlags(sys::FDK_O_DSYNC);
    pub const NO_CTTY: OpenFlags = OpenFlags(sys::FDK_O_NOCTTY);
    /// A handle that only names the file; combines with DIRECTORY and NO_FOLLOW only.
    pub const PATH: OpenFlags = OpenFlags(sys::FDK_O_PATH);
    /// An unnamed regular file in the directory the path names (O_TMPFILE); needs WRITE or
    /// READ_WRITE. [`Dir::link_fd`] names it, unless EXCLUSIVE was given too.
    pub const TMPFILE: OpenFlags = OpenFlags(sys::FDK_O_TMPFILE);

    /// Whether this platform supports every flag of the set and [`Dir::open`] accepts the
    /// combination (`fdk_open_flags_supported`).
    pub fn is_supported(self) -> bool {
        unsafe { sys::fdk_open_flags_supported(self.0) == 1 }
    }
}

impl_bitor!(OpenFlags);

/// Flags of [`Dir::open_dir_with`]; combine with `|`. The scoping ones (NO_XDEV,
/// NO_SYMLINKS, IN_ROOT) hold for the path opened and then for every path resolved beneath
/// the new dir, and for dirs opened beneath it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirFlags(u32);

impl DirFlags {
    /// No flag: [`Dir::open_dir`].
    pub const NONE: DirFlags = DirFlags(0);
    /// A symlink as the last component is not followed (ENOTDIR).
    pub const NO_FOLLOW: DirFlags = DirFlags(sys::FDK_DIR_NOFOLLOW);
    /// Crossing a mount point fails with EXDEV.
    pub const NO_XDEV: DirFlags = DirFlags(sys::FDK_DIR_NO_XDEV);
    /// Following any symlink fails with ELOOP.
    pub const NO_SYMLINKS: DirFlags = DirFlags(sys::FDK_DIR_NO_SYMLINKS);
    /// The dir is a root: `..` at it stays there, absolute paths and symlink targets start
    /// from it (where a plain confined dir answers EXDEV).
    pub const IN_ROOT: DirFlags = DirFlags(sys::FDK_DIR_IN_ROOT);
}

impl_bitor!(DirFlags);

/// The permissions [`Dir::access`] checks; combine with `|` (EXISTS alone checks only that
/// the file exists).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access(u32);

impl Access {
    pub const EXISTS: Access = Access(sys::FDK_ACCESS_EXISTS);
    pub const READ: Access = Access(sys::FDK_ACCESS_READ);
    pub const WRITE: Access = Access(sys::FDK_ACCESS_WRITE);
    pub const EXEC: Access = Access(sys::FDK_ACCESS_EXEC);
}

impl_bitor!(Access);

/// The flags of an access check: follow a last symlink, and check with the effective ids
/// (AT_EACCESS) rather than the real ones.
fn access_flags(follow: bool, effective: bool) -> u32 {
    follow_flag(follow) | if effective { sys::FDK_ACCESS_EFFECTIVE } else { 0 }
}

/// How [`Dir::set_xattr`] treats an attribute that exists or does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XattrMode {
    /// Create it or replace it.
    Any,
    /// Fail with EEXIST if it exists.
    Create,
    /// Fail with ENODATA if it does not exist.
    Replace,
}

impl XattrMode {
    fn raw(self) -> u32 {
        match self {
            XattrMode::Any => 0,
            XattrMode::Create => sys::FDK_XATTR_CREATE,
            XattrMode::Replace => sys::FDK_XATTR_REPLACE,
        }
    }
}

/// Copies the `len` bytes of a buffer fdkit allocated (it may hold NUL bytes) and frees it.
fn take_bytes(ptr: *mut c_char, len: usize) -> Vec<u8> {
    if ptr.is_null() {
        return Vec::new();
    }
    // SAFETY: fdkit returned a buffer of at least len bytes that the caller now owns.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }.to_vec();
    unsafe { sys::fdk_free(ptr.cast()) };
    bytes
}

/// The names of an attribute list: each NUL-terminated, one after the other.
fn xattr_names(list: Vec<u8>) -> Vec<OsString> {
    list.split(|&b| b == 0).filter(|name| !name.is_empty()).map(|name| OsString::from_vec(name.to_vec())).collect()
}

/// A length for truncate; beyond i64::MAX is EINVAL as a negative one is in C.
fn file_length(length: u64) -> Result<i64> {
    i64::try_from(length).map_err(|_| Error::invalid("a length beyond i64::MAX"))
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

    fn raw(self) -> c_int {
        match self {
            FileKind::Unknown => sys::FDK_KIND_UNKNOWN,
            FileKind::Fifo => sys::FDK_KIND_FIFO,
            FileKind::CharDevice => sys::FDK_KIND_CHAR,
            FileKind::Dir => sys::FDK_KIND_DIR,
            FileKind::BlockDevice => sys::FDK_KIND_BLOCK,
            FileKind::Regular => sys::FDK_KIND_REGULAR,
            FileKind::Symlink => sys::FDK_KIND_SYMLINK,
            FileKind::Socket => sys::FDK_KIND_SOCKET,
        }
    }
}

/// A stat result, copied out of fdkit's reusable `fdk_stat`. Times are seconds and
/// nanoseconds since the epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub kind: FileKind,
    pub size: u64,
    /// Permission bits (0o7777).
    pub perm: u32,
    /// The platform's `st_mode`: kind and permission bits together.
    pub mode: u32,
    pub ino: u64,
    pub dev: u64,
    /// The device a character or block device file stands for.
    pub rdev: u64,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    /// Allocated size in 512-byte units.
    pub blocks: u64,
    /// The preferred I/O block size.
    pub blksize: u64,
    pub atime: (i64, i64),
    pub mtime: (i64, i64),
    /// Status change time.
    pub ctime: (i64, i64),
    /// Birth time; None where the file system keeps none.
    pub btime: Option<(i64, i64)>,
}

/// A reusable fdk_stat, freed on drop.
struct Stat(NonNull<sys::fdk_stat>);

impl Stat {
    fn new() -> Result<Stat> {
        let mut raw = ptr::null_mut();
        check(unsafe { sys::fdk_stat_new(&mut raw) }.into())?;
        Ok(Stat(NonNull::new(raw).expect("fdk_stat_new succeeded without a stat")))
    }

    fn as_raw(&self) -> *mut sys::fdk_stat {
        self.0.as_ptr()
    }

    /// Copies a filled stat out.
    fn metadata(&self) -> Metadata {
        let st = self.as_raw();
        let time = |get: unsafe extern "C" fn(*const sys::fdk_stat, *mut i64, *mut i64) -> c_int| {
            let (mut sec, mut nsec) = (0, 0);
            (unsafe { get(st, &mut sec, &mut nsec) } == 0).then(|| (sec, nsec))
        };
        unsafe {
            Metadata {
                kind: FileKind::from_raw(sys::fdk_stat_kind(st)),
                size: sys::fdk_stat_size(st) as u64,
                perm: sys::fdk_stat_perm(st),
                mode: sys::fdk_stat_mode(st),
                ino: sys::fdk_stat_ino(st),
                dev: sys::fdk_stat_dev(st),
                rdev: sys::fdk_stat_rdev(st),
                nlink: sys::fdk_stat_nlink(st),
                uid: sys::fdk_stat_uid(st),
                gid: sys::fdk_stat_gid(st),
                blocks: sys::fdk_stat_blocks(st) as u64,
                blksize: sys::fdk_stat_blksize(st) as u64,
                atime: time(sys::fdk_stat_atime).unwrap_or_default(),
                mtime: time(sys::fdk_stat_mtime).unwrap_or_default(),
                ctime: time(sys::fdk_stat_ctime).unwrap_or_default(),
                btime: time(sys::fdk_stat_btime),
            }
        }
    }
}

impl Drop for Stat {
    fn drop(&mut self) {
        unsafe { sys::fdk_stat_free(self.as_raw()) };
    }
}

/// Fills a fresh fdk_stat with `fill` and copies it out.
fn stat_with(fill: impl FnOnce(*mut sys::fdk_stat) -> i32) -> Result<Metadata> {
    let st = Stat::new()?;
    check(fill(st.as_raw()).into())?;
    Ok(st.metadata())
}

/// How [`Dir::rename_with`] treats an existing destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenameMode {
    /// Replace it, as [`Dir::rename`] does.
    Replace,
    /// Fail with EEXIST if it exists.
    NoReplace,
    /// Swap the two; both must exist.
    Exchange,
    /// Replace as `Replace` does and leave a whiteout (a 0:0 character device) at the
    /// source, for overlay file systems; needs CAP_MKNOD (EPERM without).
    Whiteout,
}

impl RenameMode {
    fn raw(self) -> u32 {
        match self {
            RenameMode::Replace => 0,
            RenameMode::NoReplace => sys::FDK_RENAME_NOREPLACE,
            RenameMode::Exchange => sys::FDK_RENAME_EXCHANGE,
            RenameMode::Whiteout => sys::FDK_RENAME_WHITEOUT,
        }
    }
}

/// One of the two times [`Dir::set_times`] sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileTime {
    /// The current time.
    Now,
    /// Leave it unchanged.
    Omit,
    /// Seconds and nanoseconds (0..999_999_999) since the epoch.
    At(i64, i64),
}

impl FileTime {
    fn raw(self) -> (i64, i64) {
        match self {
            FileTime::Now => (0, sys::FDK_UTIME_NOW),
            FileTime::Omit => (0, sys::FDK_UTIME_OMIT),
            FileTime::At(sec, nsec) => (sec, nsec),
        }
    }
}

fn follow_flag(follow: bool) -> u32 {
    if follow {
        sys::FDK_FOLLOW
    } else {
        0
    }
}

/// An owner id for chown: None leaves it unchanged (-1).
fn owner_id(id: Option<u32>) -> i64 {
    id.map_or(-1, i64::from)
}

/// How paths beneath confined directories are resolved, for the whole process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolveBackend {
    /// Probe once: openat2 when the kernel allows it (only to set).
    Auto,
    /// openat2 with RESOLVE_BENEATH.
    Openat2,
    /// The userspace walk, one component at a time.
    Fallback,
}

/// The active strategy (`Openat2` or `Fallback`); the first call probes, honouring
/// FDKIT_RESOLVE in the environment.
pub fn resolve_backend() -> ResolveBackend {
    match unsafe { sys::fdk_resolve_backend() } {
        sys::FDK_RESOLVE_OPENAT2 => ResolveBackend::Openat2,
        _ => ResolveBackend::Fallback,
    }
}

/// Forces a strategy for the whole process (`Auto` probes again); ENOSYS when openat2 is
/// asked for and the kernel refuses it. Safe from any thread: calls already resolving
/// finish with the strategy they started with.
pub fn set_resolve_backend(backend: ResolveBackend) -> Result<()> {
    let raw = match backend {
        ResolveBackend::Auto => sys::FDK_RESOLVE_AUTO,
        ResolveBackend::Openat2 => sys::FDK_RESOLVE_OPENAT2,
        ResolveBackend::Fallback => sys::FDK_RESOLVE_FALLBACK,
    };
    check(unsafe { sys::fdk_resolve_set_backend(raw) }.into()).map(drop)
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
        Ok(unsafe { take_entries(raw) })
    }

    /// The entries of the directory at `path`, read as the iterator advances.
    pub fn iter_dir(&self, path: impl AsRef<Path>) -> Result<ReadDir> {
        let path = c_path(path.as_ref())?;
        let mut raw = ptr::null_mut();
        check(unsafe { sys::fdk_dir_iter_open(&mut raw, self.as_raw(), path.as_ptr()) }.into())?;
        Ok(ReadDir { raw: NonNull::new(raw).expect("fdk_dir_iter_open succeeded without an iterator"), done: false })
    }

    /// The symlink-free path of what `path` names: relative to this directory when it is
    /// confined ("." for itself; escapes are EXDEV), absolute for [`Dir::fs`].
    pub fn canonicalize(&self, path: impl AsRef<Path>) -> Result<PathBuf> {
        let path = c_path(path.as_ref())?;
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_realpath(&mut out, self.as_raw(), path.as_ptr()) } as i64)?;
        Ok(PathBuf::from(OsString::from_vec(take_text(out))))
    }

    /// Renames as [`Dir::rename`] does, with `mode` deciding about an existing
    /// destination (renameat2); EINVAL or ENOSYS where the file system lacks it.
    pub fn rename_with(&self, from: impl AsRef<Path>, to_dir: &Dir, to: impl AsRef<Path>, mode: RenameMode) -> Result<()> {
        let (from, to) = (c_path(from.as_ref())?, c_path(to.as_ref())?);
        let r = unsafe { sys::fdk_renameat2(self.as_raw(), from.as_ptr(), to_dir.as_raw(), to.as_ptr(), mode.raw()) };
        check(r.into()).map(drop)
    }

    /// A hard link at `to` beneath `to_dir` to `from` beneath this directory (a symlink
    /// `from` is linked itself, never followed).
    pub fn hard_link(&self, from: impl AsRef<Path>, to_dir: &Dir, to: impl AsRef<Path>) -> Result<()> {
        let (from, to) = (c_path(from.as_ref())?, c_path(to.as_ref())?);
        check(unsafe { sys::fdk_linkat(self.as_raw(), from.as_ptr(), to_dir.as_raw(), to.as_ptr()) }.into()).map(drop)
    }

    /// Sets the permission bits (0o7777); `follow` follows a symlink in the last position
    /// (a symlink itself has none: EOPNOTSUPP).
    pub fn set_permissions(&self, path: impl AsRef<Path>, mode: u32, follow: bool) -> Result<()> {
        let path = c_path(path.as_ref())?;
        check(unsafe { sys::fdk_chmodat(self.as_raw(), path.as_ptr(), mode, follow_flag(follow)) }.into()).map(drop)
    }

    /// Changes the owner and group; None leaves one unchanged.
    pub fn chown(&self, path: impl AsRef<Path>, uid: Option<u32>, gid: Option<u32>, follow: bool) -> Result<()> {
        let path = c_path(path.as_ref())?;
        let r = unsafe { sys::fdk_chownat(self.as_raw(), path.as_ptr(), owner_id(uid), owner_id(gid), follow_flag(follow)) };
        check(r.into()).map(drop)
    }

    /// Sets the access and modification times.
    pub fn set_times(&self, path: impl AsRef<Path>, atime: FileTime, mtime: FileTime, follow: bool) -> Result<()> {
        let path = c_path(path.as_ref())?;
        let ((a_sec, a_nsec), (m_sec, m_nsec)) = (atime.raw(), mtime.raw());
        let r = unsafe {
            sys::fdk_utimensat(self.as_raw(), path.as_ptr(), a_sec, a_nsec, m_sec, m_nsec, follow_flag(follow))
        };
        check(r.into()).map(drop)
    }

    /// Opens `path` beneath this directory as a new dir, as [`Dir::open_dir`] does, with
    /// [`DirFlags`]: EXDEV and ELOOP from the scoping ones.
    pub fn open_dir_with(&self, path: impl AsRef<Path>, flags: DirFlags) -> Result<Dir> {
        let path = c_path(path.as_ref())?;
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_dir_open2(&mut out, self.as_raw(), path.as_ptr(), flags.0) }.into())?;
        Ok(Dir { raw: NonNull::new(out).expect("fdk_dir_open2 succeeded without a dir") })
    }

    /// [`Dir::hard_link`]; `follow` links what a symlink `from` points to (followed
    /// confined beneath this directory) instead of the link.
    pub fn hard_link_with(
        &self,
        from: impl AsRef<Path>,
        to_dir: &Dir,
        to: impl AsRef<Path>,
        follow: bool,
    ) -> Result<()> {
        let (from, to) = (c_path(from.as_ref())?, c_path(to.as_ref())?);
        let flags = follow_flag(follow);
        let r = unsafe { sys::fdk_linkat2(self.as_raw(), from.as_ptr(), to_dir.as_raw(), to.as_ptr(), flags) };
        check(r.into()).map(drop)
    }

    /// Names the file `fd` refers to at `path` (never followed): publishes a file opened
    /// with [`OpenFlags::TMPFILE`]. EEXIST when `path` exists, ENOENT for a file with no
    /// link left or opened TMPFILE | EXCLUSIVE, EPERM for a directory.
    pub fn link_fd(&self, fd: &Fd, path: impl AsRef<Path>) -> Result<()> {
        let path = c_path(path.as_ref())?;
        check(unsafe { sys::fdk_linkat_fd(fd.as_raw(), self.as_raw(), path.as_ptr()) }.into()).map(drop)
    }

    /// Creates a special file at `path`: a FIFO, socket, character or block device, or an
    /// empty regular file (EINVAL for another kind); `dev` is the device number of a
    /// device (0 else); umask applies to `mode`. EPERM for a device without CAP_MKNOD.
    pub fn mknod(&self, path: impl AsRef<Path>, kind: FileKind, mode: u32, dev: u64) -> Result<()> {
        let path = c_path(path.as_ref())?;
        check(unsafe { sys::fdk_mknodat(self.as_raw(), path.as_ptr(), kind.raw(), mode, dev) }.into()).map(drop)
    }

    /// Creates a FIFO at `path`.
    pub fn mkfifo(&self, path: impl AsRef<Path>, mode: u32) -> Result<()> {
        let path = c_path(path.as_ref())?;
        check(unsafe { sys::fdk_mkfifoat(self.as_raw(), path.as_ptr(), mode) }.into()).map(drop)
    }

    /// Sets the size of the regular file `path` names (a last symlink is followed,
    /// confined). EISDIR for a directory, EINVAL for a file that is not regular.
    pub fn truncate(&self, path: impl AsRef<Path>, length: u64) -> Result<()> {
        let (path, length) = (c_path(path.as_ref())?, file_length(length)?);
        check(unsafe { sys::fdk_truncateat(self.as_raw(), path.as_ptr(), length) }.into()).map(drop)
    }

    /// Ok when the caller may access `path` with every permission of `mode`, checked with
    /// the real ids, or the effective ones with `effective`. EACCES when one is missing,
    /// EROFS for WRITE on a read-only mount.
    pub fn access(&self, path: impl AsRef<Path>, mode: Access, follow: bool, effective: bool) -> Result<()> {
        let path = c_path(path.as_ref())?;
        let r = unsafe { sys::fdk_faccessat(self.as_raw(), path.as_ptr(), mode.0, access_flags(follow, effective)) };
        check(r.into()).map(drop)
    }

    /// The value of the extended attribute `name` of `path`. ENODATA when it has none of
    /// that name, EOPNOTSUPP where the file system keeps none.
    pub fn xattr(&self, path: impl AsRef<Path>, name: impl AsRef<OsStr>, follow: bool) -> Result<Vec<u8>> {
        let (path, name) = (c_path(path.as_ref())?, c_string(name.as_ref().as_bytes())?);
        let mut out = ptr::null_mut();
        let len = check(unsafe {
            sys::fdk_getxattrat(&mut out, self.as_raw(), path.as_ptr(), name.as_ptr(), follow_flag(follow))
        } as i64)?;
        Ok(take_bytes(out, len as usize))
    }

    /// Sets the extended attribute `name` of `path` to `value`.
    pub fn set_xattr(
        &self,
        path: impl AsRef<Path>,
        name: impl AsRef<OsStr>,
        value: &[u8],
        mode: XattrMode,
        follow: bool,
    ) -> Result<()> {
        let (path, name) = (c_path(path.as_ref())?, c_string(name.as_ref().as_bytes())?);
        let flags = mode.raw() | follow_flag(follow);
        let r = unsafe {
            sys::fdk_setxattrat(self.as_raw(), path.as_ptr(), name.as_ptr(), value.as_ptr().cast(), value.len(), flags)
        };
        check(r.into()).map(drop)
    }

    /// The names of the extended attributes of `path`.
    pub fn list_xattr(&self, path: impl AsRef<Path>, follow: bool) -> Result<Vec<OsString>> {
        let path = c_path(path.as_ref())?;
        let mut out = ptr::null_mut();
        let flags = follow_flag(follow);
        let len = check(unsafe { sys::fdk_listxattrat(&mut out, self.as_raw(), path.as_ptr(), flags) } as i64)?;
        Ok(xattr_names(take_bytes(out, len as usize)))
    }

    /// Removes the extended attribute `name` of `path` (ENODATA when there is none).
    pub fn remove_xattr(&self, path: impl AsRef<Path>, name: impl AsRef<OsStr>, follow: bool) -> Result<()> {
        let (path, name) = (c_path(path.as_ref())?, c_string(name.as_ref().as_bytes())?);
        let r = unsafe { sys::fdk_removexattrat(self.as_raw(), path.as_ptr(), name.as_ptr(), follow_flag(follow)) };
        check(r.into()).map(drop)
    }

    /// The directory's own descriptor handle (a new reference), e.g. for
    /// [`Actions::fchdir`](crate::Actions::fchdir); None for [`Dir::fs`] and [`Dir::cwd`].
    /// The two share one handle, as with [`Dir::from_fd`]: closing or releasing it closes
    /// the directory too (its later calls fail with EBADF).
    pub fn handle(&self) -> Option<Fd> {
        let raw = unsafe { sys::fdk_dir_handle(self.as_raw()) };
        // SAFETY: the handle lives while this dir does; the new reference is ours.
        (!raw.is_null()).then(|| unsafe { Fd::from_raw(sys::fdk_fd_ref(raw)) })
    }
}

/// Streams a directory's entries one at a time ([`Dir::iter_dir`]), for directories too
/// large to hold. `Send`, not `Sync`: one thread at a time uses an iterator (fs.h).
pub struct ReadDir {
    raw: NonNull<sys::fdk_dir_iter>,
    done: bool,
}

// SAFETY: fs.h: an iterator must not be used by two threads at once; any one thread may.
unsafe impl Send for ReadDir {}

impl Iterator for ReadDir {
    type Item = Result<DirEntry>;

    /// The next entry ("." and ".." left out); an error ends the iteration.
    fn next(&mut self) -> Option<Result<DirEntry>> {
        if self.done {
            return None;
        }
        let (mut name, mut kind): (*const c_char, c_int) = (ptr::null(), 0);
        let r = unsafe { sys::fdk_dir_iter_next(self.raw.as_ptr(), &mut name, &mut kind) };
        match r {
            1 => Some(Ok(DirEntry {
                // SAFETY: the name is valid until the next call on the iterator.
                name: OsString::from_vec(unsafe { CStr::from_ptr(name) }.to_bytes().to_vec()),
                kind: FileKind::from_raw(kind),
            })),
            0 => {
                self.done = true;
                None
            }
            _ => {
                self.done = true;
                Some(Err(Error::last(r.into())))
            }
        }
    }
}

impl Drop for ReadDir {
    fn drop(&mut self) {
        unsafe { sys::fdk_dir_iter_free(self.raw.as_ptr()) };
    }
}

/// Copies the entries out of a list fdkit returned and frees it.
unsafe fn take_entries(raw: *mut sys::fdk_dirents) -> Vec<DirEntry> {
    let entries = (0..sys::fdk_dirents_count(raw))
        .map(|i| DirEntry {
            name: OsString::from_vec(CStr::from_ptr(sys::fdk_dirents_name(raw, i)).to_bytes().to_vec()),
            kind: FileKind::from_raw(sys::fdk_dirents_kind(raw, i)),
        })
        .collect();
    sys::fdk_dirents_free(raw);
    entries
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

/// Asynchronous forms: the same calls without blocking the loop (inline when the kernel
/// will not wait, else io_uring or the worker pool). Paths are copied and dirs referenced
/// by the C call, so nothing needs to outlive it; `done` runs from [`Loop::run`].
impl Loop {
    /// Opens `path` beneath `dir`; `done` gets the handle on the loop.
    pub fn open_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, flags: OpenFlags, mode: u32, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Fd>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        self.start_fd(done, |cb, data, op| unsafe {
            sys::fdk_openat_async(self.as_raw(), dir.as_raw(), path.as_ptr(), flags.0, mode, cb, data, op)
        })
    }

    /// [`Dir::open_dir`].
    pub fn open_dir_async<F>(&self, base: &Dir, path: impl AsRef<Path>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Dir>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        self.start_with(done, |data, op| unsafe {
            sys::fdk_dir_open_async(self.as_raw(), base.as_raw(), path.as_ptr(), Some(dir_done::<F>), data, op)
        })
    }

    /// [`Dir::mkdir`].
    pub fn mkdir_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, mode: u32, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_mkdirat_async(self.as_raw(), dir.as_raw(), path.as_ptr(), mode, cb, data, op)
        })
    }

    /// [`Dir::unlink`].
    pub fn unlink_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        self.start_path(dir, path.as_ref(), done, sys::fdk_unlinkat_async)
    }

    /// [`Dir::rmdir`].
    pub fn rmdir_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        self.start_path(dir, path.as_ref(), done, sys::fdk_rmdirat_async)
    }

    /// Starts `call` (unlink or rmdir), which takes a path and gives 0 or an errno.
    fn start_path<F>(&self, dir: &Dir, path: &Path, done: F, call: PathCall) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let path = c_path(path)?;
        self.start_unit(done, |cb, data, op| unsafe { call(self.as_raw(), dir.as_raw(), path.as_ptr(), cb, data, op) })
    }

    /// [`Dir::rename`] (`RenameMode::Replace`) or [`Dir::rename_with`].
    pub fn rename_async<F>(
        &self,
        from_dir: &Dir,
        from: impl AsRef<Path>,
        to_dir: &Dir,
        to: impl AsRef<Path>,
        mode: RenameMode,
        done: F,
    ) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let (from, to) = (c_path(from.as_ref())?, c_path(to.as_ref())?);
        let (old, new) = (from_dir.as_raw(), to_dir.as_raw());
        self.start_unit(done, |cb, data, op| unsafe {
            match mode {
                RenameMode::Replace => {
                    sys::fdk_renameat_async(self.as_raw(), old, from.as_ptr(), new, to.as_ptr(), cb, data, op)
                }
                _ => sys::fdk_renameat2_async(
                    self.as_raw(),
                    old,
                    from.as_ptr(),
                    new,
                    to.as_ptr(),
                    mode.raw(),
                    cb,
                    data,
                    op,
                ),
            }
        })
    }

    /// [`Dir::symlink`].
    pub fn symlink_async<F>(&self, target: impl AsRef<Path>, dir: &Dir, path: impl AsRef<Path>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let (target, path) = (c_path(target.as_ref())?, c_path(path.as_ref())?);
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_symlinkat_async(self.as_raw(), target.as_ptr(), dir.as_raw(), path.as_ptr(), cb, data, op)
        })
    }

    /// [`Dir::hard_link`].
    pub fn hard_link_async<F>(
        &self,
        from_dir: &Dir,
        from: impl AsRef<Path>,
        to_dir: &Dir,
        to: impl AsRef<Path>,
        done: F,
    ) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let (from, to) = (c_path(from.as_ref())?, c_path(to.as_ref())?);
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_linkat_async(self.as_raw(), from_dir.as_raw(), from.as_ptr(), to_dir.as_raw(), to.as_ptr(), cb, data, op)
        })
    }

    /// [`Dir::set_permissions`].
    pub fn set_permissions_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, mode: u32, follow: bool, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_chmodat_async(self.as_raw(), dir.as_raw(), path.as_ptr(), mode, follow_flag(follow), cb, data, op)
        })
    }

    /// [`Dir::chown`].
    pub fn chown_async<F>(
        &self,
        dir: &Dir,
        path: impl AsRef<Path>,
        uid: Option<u32>,
        gid: Option<u32>,
        follow: bool,
        done: F,
    ) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        let (uid, gid, flags) = (owner_id(uid), owner_id(gid), follow_flag(follow));
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_chownat_async(self.as_raw(), dir.as_raw(), path.as_ptr(), uid, gid, flags, cb, data, op)
        })
    }

    /// [`Dir::set_times`].
    pub fn set_times_async<F>(
        &self,
        dir: &Dir,
        path: impl AsRef<Path>,
        atime: FileTime,
        mtime: FileTime,
        follow: bool,
        done: F,
    ) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        let ((a_sec, a_nsec), (m_sec, m_nsec)) = (atime.raw(), mtime.raw());
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_utimensat_async(
                self.as_raw(),
                dir.as_raw(),
                path.as_ptr(),
                a_sec,
                a_nsec,
                m_sec,
                m_nsec,
                follow_flag(follow),
                cb,
                data,
                op,
            )
        })
    }

    /// [`Dir::read_link`].
    pub fn read_link_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<PathBuf>) + 'static,
    {
        self.start_text(dir, path.as_ref(), done, sys::fdk_readlinkat_async)
    }

    /// [`Dir::canonicalize`].
    pub fn canonicalize_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<PathBuf>) + 'static,
    {
        self.start_text(dir, path.as_ref(), done, sys::fdk_realpath_async)
    }

    /// Starts `call` (readlink or realpath), whose callback delivers a text.
    fn start_text<F>(&self, dir: &Dir, path: &Path, done: F, call: TextCall) -> Result<Op>
    where
        F: FnOnce(Result<PathBuf>) + 'static,
    {
        let path = c_path(path)?;
        self.start_with(done, |data, op| unsafe {
            call(self.as_raw(), dir.as_raw(), path.as_ptr(), Some(text_done::<F>), data, op)
        })
    }

    /// [`Dir::read_dir`].
    pub fn read_dir_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Vec<DirEntry>>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        self.start_with(done, |data, op| unsafe {
            sys::fdk_readdir_async(self.as_raw(), dir.as_raw(), path.as_ptr(), Some(dirents_done::<F>), data, op)
        })
    }

    /// [`Dir::stat`]; the stat buffer lives in `done` until the callback.
    pub fn stat_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, follow: bool, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Metadata>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        let st = Stat::new()?;
        let raw = st.as_raw();
        self.start(
            move |result| done(check(result).map(|_| st.metadata())),
            |cb, data, op| unsafe {
                sys::fdk_statat_async(self.as_raw(), raw, dir.as_raw(), path.as_ptr(), follow as c_int, cb, data, op)
            },
        )
    }

    /// [`Fd::metadata`] (fstat); the handle is referenced until the callback.
    pub fn metadata_async<F>(&self, fd: &Fd, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Metadata>) + 'static,
    {
        let st = Stat::new()?;
        let raw = st.as_raw();
        let fd = fd.clone();
        let raw_fd = fd.as_raw();
        self.start(
            move |result| {
                drop(fd);
                done(check(result).map(|_| st.metadata()))
            },
            |cb, data, op| unsafe { sys::fdk_fstat_async(self.as_raw(), raw, raw_fd, cb, data, op) },
        )
    }
}

/// Asynchronous forms of scoped dirs and the calls of doc/fs.md's "More calls".
impl Loop {
    /// [`Dir::open_dir_with`].
    pub fn open_dir_with_async<F>(&self, base: &Dir, path: impl AsRef<Path>, flags: DirFlags, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Dir>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        self.start_with(done, |data, op| unsafe {
            sys::fdk_dir_open2_async(self.as_raw(), base.as_raw(), path.as_ptr(), flags.0, Some(dir_done::<F>), data, op)
        })
    }

    /// [`Dir::hard_link_with`].
    pub fn hard_link_with_async<F>(
        &self,
        from_dir: &Dir,
        from: impl AsRef<Path>,
        to_dir: &Dir,
        to: impl AsRef<Path>,
        follow: bool,
        done: F,
    ) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let (from, to) = (c_path(from.as_ref())?, c_path(to.as_ref())?);
        let (old, new, flags) = (from_dir.as_raw(), to_dir.as_raw(), follow_flag(follow));
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_linkat2_async(self.as_raw(), old, from.as_ptr(), new, to.as_ptr(), flags, cb, data, op)
        })
    }

    /// [`Dir::link_fd`]; the handle is referenced until the callback.
    pub fn link_fd_async<F>(&self, fd: &Fd, dir: &Dir, path: impl AsRef<Path>, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        let fd = fd.clone();
        let raw_fd = fd.as_raw();
        self.start_unit(
            move |result| {
                drop(fd);
                done(result)
            },
            |cb, data, op| unsafe {
                sys::fdk_linkat_fd_async(self.as_raw(), raw_fd, dir.as_raw(), path.as_ptr(), cb, data, op)
            },
        )
    }

    /// [`Dir::mknod`].
    pub fn mknod_async<F>(
        &self,
        dir: &Dir,
        path: impl AsRef<Path>,
        kind: FileKind,
        mode: u32,
        dev: u64,
        done: F,
    ) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_mknodat_async(self.as_raw(), dir.as_raw(), path.as_ptr(), kind.raw(), mode, dev, cb, data, op)
        })
    }

    /// [`Dir::mkfifo`].
    pub fn mkfifo_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, mode: u32, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_mkfifoat_async(self.as_raw(), dir.as_raw(), path.as_ptr(), mode, cb, data, op)
        })
    }

    /// [`Dir::truncate`].
    pub fn truncate_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, length: u64, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let (path, length) = (c_path(path.as_ref())?, file_length(length)?);
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_truncateat_async(self.as_raw(), dir.as_raw(), path.as_ptr(), length, cb, data, op)
        })
    }

    /// [`Dir::access`].
    pub fn access_async<F>(
        &self,
        dir: &Dir,
        path: impl AsRef<Path>,
        mode: Access,
        follow: bool,
        effective: bool,
        done: F,
    ) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let path = c_path(path.as_ref())?;
        let flags = access_flags(follow, effective);
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_faccessat_async(self.as_raw(), dir.as_raw(), path.as_ptr(), mode.0, flags, cb, data, op)
        })
    }

    /// [`Dir::xattr`].
    pub fn xattr_async<F>(
        &self,
        dir: &Dir,
        path: impl AsRef<Path>,
        name: impl AsRef<OsStr>,
        follow: bool,
        done: F,
    ) -> Result<Op>
    where
        F: FnOnce(Result<Vec<u8>>) + 'static,
    {
        let (path, name) = (c_path(path.as_ref())?, c_string(name.as_ref().as_bytes())?);
        let flags = follow_flag(follow);
        self.start_with(done, |data, op| unsafe {
            let cb = Some(bytes_done::<F> as unsafe extern "C" fn(isize, *mut c_char, *mut c_void));
            sys::fdk_getxattrat_async(self.as_raw(), dir.as_raw(), path.as_ptr(), name.as_ptr(), flags, cb, data, op)
        })
    }

    /// [`Dir::set_xattr`]; the value is copied by the call.
    #[allow(clippy::too_many_arguments)]
    pub fn set_xattr_async<F>(
        &self,
        dir: &Dir,
        path: impl AsRef<Path>,
        name: impl AsRef<OsStr>,
        value: &[u8],
        mode: XattrMode,
        follow: bool,
        done: F,
    ) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let (path, name) = (c_path(path.as_ref())?, c_string(name.as_ref().as_bytes())?);
        let flags = mode.raw() | follow_flag(follow);
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_setxattrat_async(
                self.as_raw(),
                dir.as_raw(),
                path.as_ptr(),
                name.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                flags,
                cb,
                data,
                op,
            )
        })
    }

    /// [`Dir::list_xattr`].
    pub fn list_xattr_async<F>(&self, dir: &Dir, path: impl AsRef<Path>, follow: bool, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Vec<OsString>>) + 'static,
    {
        self.list_xattr_bytes_async(dir, path.as_ref(), follow, move |list: Result<Vec<u8>>| done(list.map(xattr_names)))
    }

    /// Starts fdk_listxattrat_async, whose callback delivers the raw list.
    fn list_xattr_bytes_async<F>(&self, dir: &Dir, path: &Path, follow: bool, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Vec<u8>>) + 'static,
    {
        let path = c_path(path)?;
        self.start_with(done, |data, op| unsafe {
            let cb = Some(bytes_done::<F> as unsafe extern "C" fn(isize, *mut c_char, *mut c_void));
            sys::fdk_listxattrat_async(self.as_raw(), dir.as_raw(), path.as_ptr(), follow_flag(follow), cb, data, op)
        })
    }

    /// [`Dir::remove_xattr`].
    pub fn remove_xattr_async<F>(
        &self,
        dir: &Dir,
        path: impl AsRef<Path>,
        name: impl AsRef<OsStr>,
        follow: bool,
        done: F,
    ) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let (path, name) = (c_path(path.as_ref())?, c_string(name.as_ref().as_bytes())?);
        let flags = follow_flag(follow);
        self.start_unit(done, |cb, data, op| unsafe {
            sys::fdk_removexattrat_async(self.as_raw(), dir.as_raw(), path.as_ptr(), name.as_ptr(), flags, cb, data, op)
        })
    }
}

/// The C calls that act on one path and complete with a result code.
type PathCall = unsafe extern "C" fn(
    *mut sys::fdk_loop,
    *mut sys::fdk_dir,
    *const c_char,
    sys::fdk_result_cb,
    *mut c_void,
    *mut *mut sys::fdk_op,
) -> c_int;

/// The C calls that complete with a text (readlink, realpath).
type TextCall = unsafe extern "C" fn(
    *mut sys::fdk_loop,
    *mut sys::fdk_dir,
    *const c_char,
    sys::fdk_text_cb,
    *mut c_void,
    *mut *mut sys::fdk_op,
) -> c_int;

unsafe extern "C" fn dir_done<F: FnOnce(Result<Dir>)>(result: c_int, dir: *mut sys::fdk_dir, data: *mut c_void) {
    let dir = if result < 0 {
        Err(Error::last(result.into()))
    } else {
        Ok(Dir { raw: NonNull::new(dir).expect("fdk_dir_cb succeeded without a dir") })
    };
    finish::<_, F>(data, dir)
}

unsafe extern "C" fn text_done<F: FnOnce(Result<PathBuf>)>(result: isize, text: *mut c_char, data: *mut c_void) {
    let text = if result < 0 {
        Err(Error::last(result as i64))
    } else {
        Ok(PathBuf::from(OsString::from_vec(take_text(text))))
    };
    finish::<_, F>(data, text)
}

/// The callback of a call that delivers a buffer of `result` bytes (extended attributes).
unsafe extern "C" fn bytes_done<F: FnOnce(Result<Vec<u8>>)>(result: isize, buf: *mut c_char, data: *mut c_void) {
    let bytes = if result < 0 { Err(Error::last(result as i64)) } else { Ok(take_bytes(buf, result as usize)) };
    finish::<_, F>(data, bytes)
}

unsafe extern "C" fn dirents_done<F: FnOnce(Result<Vec<DirEntry>>)>(
    result: c_int,
    entries: *mut sys::fdk_dirents,
    data: *mut c_void,
) {
    let entries = if result < 0 { Err(Error::last(result.into())) } else { Ok(take_entries(entries)) };
    finish::<_, F>(data, entries)
}
