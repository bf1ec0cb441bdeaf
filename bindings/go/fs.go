// SPDX-License-Identifier: MIT
package fdkit

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"io"
	"io/fs"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// Open flags (fdkit's own values); close-on-exec is always set.
const (
	O_RDONLY    = C.FDK_O_RDONLY
	O_WRONLY    = C.FDK_O_WRONLY
	O_RDWR      = C.FDK_O_RDWR
	O_APPEND    = C.FDK_O_APPEND
	O_CREAT     = C.FDK_O_CREAT
	O_EXCL      = C.FDK_O_EXCL
	O_TRUNC     = C.FDK_O_TRUNC
	O_DIRECTORY = C.FDK_O_DIRECTORY
	O_NOFOLLOW  = C.FDK_O_NOFOLLOW // ELOOP when the last component is a symlink
	O_NONBLOCK  = C.FDK_O_NONBLOCK
	O_SYNC      = C.FDK_O_SYNC
	O_DSYNC     = C.FDK_O_DSYNC
	O_NOCTTY    = C.FDK_O_NOCTTY
	O_PATH      = C.FDK_O_PATH // only names the file; combines with O_DIRECTORY and O_NOFOLLOW only
	// An unnamed regular file in the directory path names; needs O_WRONLY or O_RDWR. With
	// O_EXCL it can never be named, else Dir.LinkFd names it.
	O_TMPFILE = C.FDK_O_TMPFILE
)

// OpenFlagsSupported reports whether flags are all known O_* flags this platform supports,
// in a combination Open accepts (Open fails with EINVAL otherwise).
func OpenFlagsSupported(flags uint) bool { return C.fdk_open_flags_supported(C.uint(flags)) == 1 }

// Resolution strategies beneath confined directories (ResolveBackend, SetResolveBackend).
const (
	ResolveAuto     = C.FDK_RESOLVE_AUTO     // probe once: openat2 when the kernel allows it
	ResolveOpenat2  = C.FDK_RESOLVE_OPENAT2  // openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
	ResolveFallback = C.FDK_RESOLVE_FALLBACK // userspace walk, one component at a time
)

// ResolveBackend is the active strategy, ResolveOpenat2 or ResolveFallback (the first call
// probes, honouring FDKIT_RESOLVE=openat2|fallback in the environment).
func ResolveBackend() int { return int(C.fdk_resolve_backend()) }

// SetResolveBackend forces a strategy for the whole process (ResolveAuto probes again):
// ENOSYS when openat2 is asked for and the kernel refuses it. Safe from any goroutine.
func SetResolveBackend(backend int) error {
	_, err := call(func() int64 { return int64(C.fdk_resolve_set_backend(C.int(backend))) })
	return err
}

// Flags of Rename2.
const (
	RenameNoReplace = C.FDK_RENAME_NOREPLACE // EEXIST if newPath exists
	RenameExchange  = C.FDK_RENAME_EXCHANGE  // swap the two; both must exist
	RenameWhiteout  = C.FDK_RENAME_WHITEOUT  // leave a whiteout (a 0:0 char device) at oldPath; needs CAP_MKNOD
)

// FileKind is what a directory entry or a stat describes.
type FileKind int

const (
	KindUnknown FileKind = C.FDK_KIND_UNKNOWN
	KindFifo    FileKind = C.FDK_KIND_FIFO
	KindChar    FileKind = C.FDK_KIND_CHAR
	KindDir     FileKind = C.FDK_KIND_DIR
	KindBlock   FileKind = C.FDK_KIND_BLOCK
	KindRegular FileKind = C.FDK_KIND_REGULAR
	KindSymlink FileKind = C.FDK_KIND_SYMLINK
	KindSocket  FileKind = C.FDK_KIND_SOCKET
)

// Dir is a directory that confines path resolution: beneath it nothing resolves outside
// (".." past it, absolute paths, symlinks that climb out fail with EXDEV). Safe for
// concurrent use. Each *Dir holds one reference, dropped by Close or, failing that, when
// it is garbage collected.
type Dir struct {
	raw *C.fdk_dir
}

func wrapDir(raw *C.fdk_dir) *Dir {
	d := &Dir{raw: raw}
	runtime.SetFinalizer(d, func(d *Dir) { C.fdk_dir_unref(d.raw) })
	return d
}

// Ref returns another *Dir on the same directory, with its own reference.
func (d *Dir) Ref() (*Dir, error) {
	defer runtime.KeepAlive(d)
	if d.raw == nil {
		return nil, ErrClosed
	}
	if d.raw == C.fdk_dir_fs() || d.raw == C.fdk_dir_cwd() {
		return d, nil
	}
	return wrapDir(C.fdk_dir_ref(d.raw)), nil
}

// Handle is the directory's descriptor handle (with its own reference: closing it closes the
// directory too), for fchdir or Fd.Use; nil for FS and Cwd, which have none.
func (d *Dir) Handle() (*Fd, error) {
	defer runtime.KeepAlive(d)
	if d.raw == nil {
		return nil, ErrClosed
	}
	raw := C.fdk_dir_handle(d.raw)
	if raw == nil {
		return nil, nil
	}
	return wrapFd(C.fdk_fd_ref(raw)), nil
}

// FS is the unconfined file system: absolute paths and ".." work as with openat(2).
func FS() *Dir { return &Dir{raw: C.fdk_dir_fs()} }

// Cwd is the current directory, confined.
func Cwd() *Dir { return &Dir{raw: C.fdk_dir_cwd()} }

// DirFromFd is a confined directory on an open directory descriptor. Both share one
// handle: f keeps its own reference, but closing f closes the directory too.
func DirFromFd(f *Fd) (*Dir, error) {
	var raw *C.fdk_dir
	if _, err := f.call(func(fr *C.fdk_fd) int64 { return int64(C.fdk_dir_from_fd(&raw, fr)) }); err != nil {
		return nil, err
	}
	return wrapDir(raw), nil
}

// Close drops this *Dir's reference; a second Close does nothing. Calls afterwards fail
// with ErrClosed; none may run while Close runs.
func (d *Dir) Close() error {
	runtime.SetFinalizer(d, nil)
	d.raw = C.fdk_dir_unref(d.raw)
	return nil
}

// withPath runs one call with path as a C string, keeping d alive until it returned. A
// failure is an *fs.PathError{Op: op, Path: path} wrapping the *Error, as os calls give it
// (errors.Is(err, fs.ErrNotExist) and errors.As(err, &fdkitErr) both work).
func (d *Dir) withPath(op, path string, c func(p *C.char) int64) (int64, error) {
	if err := noNUL(op, path); err != nil {
		return 0, err
	}
	if d.raw == nil {
		return 0, &fs.PathError{Op: op, Path: path, Err: ErrClosed}
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	defer runtime.KeepAlive(d)
	r, err := call(func() int64 { return c(cp) })
	if err != nil {
		return r, &fs.PathError{Op: op, Path: path, Err: err}
	}
	return r, nil
}

// OpenDir opens path beneath d as a new confined directory.
func (d *Dir) OpenDir(path string) (*Dir, error) {
	var raw *C.fdk_dir
	if _, err := d.withPath("opendir", path, func(p *C.char) int64 { return int64(C.fdk_dir_open(&raw, d.raw, p)) }); err != nil {
		return nil, err
	}
	return wrapDir(raw), nil
}

// Open opens path beneath d with O_* flags; perm applies with O_CREAT.
func (d *Dir) Open(path string, flags uint, perm fs.FileMode) (*Fd, error) {
	var raw *C.fdk_fd
	if _, err := d.withPath("open", path, func(p *C.char) int64 {
		return int64(C.fdk_openat(&raw, d.raw, p, C.uint(flags), C.uint(perm.Perm())))
	}); err != nil {
		return nil, err
	}
	return wrapFd(raw), nil
}

// Mkdir creates a directory at path with perm (the umask applies).
func (d *Dir) Mkdir(path string, perm fs.FileMode) error {
	_, err := d.withPath("mkdir", path, func(p *C.char) int64 { return int64(C.fdk_mkdirat(d.raw, p, C.uint(perm.Perm()))) })
	return err
}

// Unlink removes a non-directory (a symlink itself, never its target).
func (d *Dir) Unlink(path string) error {
	_, err := d.withPath("unlink", path, func(p *C.char) int64 { return int64(C.fdk_unlinkat(d.raw, p)) })
	return err
}

// Rmdir removes an empty directory: ENOTEMPTY when it is not, ENOTDIR for a non-directory.
func (d *Dir) Rmdir(path string) error {
	_, err := d.withPath("rmdir", path, func(p *C.char) int64 { return int64(C.fdk_rmdirat(d.raw, p)) })
	return err
}

// Rename renames oldPath beneath d to newPath beneath newDir, replacing what is there as
// rename(2) does. A genuine cross-device rename is EXDEV without ErrEscape.
func (d *Dir) Rename(oldPath string, newDir *Dir, newPath string) error {
	return d.withTwoPaths("rename", oldPath, newDir, newPath, func(o *C.char, nd *C.fdk_dir, n *C.char) int64 {
		return int64(C.fdk_renameat(d.raw, o, nd, n))
	})
}

// Rename2 is Rename with RenameNoReplace, RenameExchange or RenameWhiteout (EINVAL or
// ENOSYS where the file system or kernel lacks them, EPERM for RenameWhiteout without
// CAP_MKNOD).
func (d *Dir) Rename2(oldPath string, newDir *Dir, newPath string, flags uint) error {
	return d.withTwoPaths("rename", oldPath, newDir, newPath, func(o *C.char, nd *C.fdk_dir, n *C.char) int64 {
		return int64(C.fdk_renameat2(d.raw, o, nd, n, C.uint(flags)))
	})
}

// Link makes a hard link newPath beneath newDir to oldPath beneath d (a symlink is linked
// itself, never followed).
func (d *Dir) Link(oldPath string, newDir *Dir, newPath string) error {
	return d.withTwoPaths("link", oldPath, newDir, newPath, func(o *C.char, nd *C.fdk_dir, n *C.char) int64 {
		return int64(C.fdk_linkat(d.raw, o, nd, n))
	})
}

// withTwoPaths is withPath for the calls that name a second path beneath newDir (an
// *os.LinkError-like failure is reported as an *fs.PathError on oldPath).
func (d *Dir) withTwoPaths(op, oldPath string, newDir *Dir, newPath string,
	c func(o *C.char, nd *C.fdk_dir, n *C.char) int64) error {
	if err := noNUL(op, newPath); err != nil {
		return err
	}
	if newDir.raw == nil {
		return &fs.PathError{Op: op, Path: newPath, Err: ErrClosed}
	}
	cn := C.CString(newPath)
	defer C.free(unsafe.Pointer(cn))
	defer runtime.KeepAlive(newDir)
	_, err := d.withPath(op, oldPath, func(p *C.char) int64 { return c(p, newDir.raw, cn) })
	return err
}

// Chmod sets the permission bits (and setuid, setgid, sticky) of path; follow follows a
// symlink in the last position (a symlink itself has no mode: EOPNOTSUPP).
func (d *Dir) Chmod(path string, mode fs.FileMode, follow bool) error {
	_, err := d.withPath("chmod", path, func(p *C.char) int64 {
		return int64(C.fdk_chmodat(d.raw, p, C.uint(unixMode(mode)), followFlag(follow)))
	})
	return err
}

// Chown sets the owner and group of path; -1 leaves one unchanged.
func (d *Dir) Chown(path string, uid, gid int, follow bool) error {
	_, err := d.withPath("chown", path, func(p *C.char) int64 {
		return int64(C.fdk_chownat(d.raw, p, C.int64_t(uid), C.int64_t(gid), followFlag(follow)))
	})
	return err
}

// Chtimes sets the access and modification times of path, as os.Chtimes does: a zero
// time.Time leaves that one unchanged.
func (d *Dir) Chtimes(path string, atime, mtime time.Time, follow bool) error {
	as, an := utime(atime)
	ms, mn := utime(mtime)
	_, err := d.withPath("chtimes", path, func(p *C.char) int64 {
		return int64(C.fdk_utimensat(d.raw, p, as, an, ms, mn, followFlag(follow)))
	})
	return err
}

func utime(t time.Time) (sec, nsec C.int64_t) {
	if t.IsZero() {
		return 0, C.FDK_UTIME_OMIT
	}
	return C.int64_t(t.Unix()), C.int64_t(t.Nanosecond())
}

func followFlag(follow bool) C.uint {
	if follow {
		return C.FDK_FOLLOW
	}
	return 0
}

// unixMode is the chmod(2) value of an fs.FileMode: permission bits and setuid, setgid,
// sticky.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	for _, b := range specialModeBits {
		if m&b.goBit != 0 {
			u |= b.unixBit
		}
	}
	return u
}

// specialModeBits pairs fs.FileMode's setuid, setgid and sticky bits with st_mode's.
var specialModeBits = []struct {
	goBit   fs.FileMode
	unixBit uint32
}{{fs.ModeSetuid, syscall.S_ISUID}, {fs.ModeSetgid, syscall.S_ISGID}, {fs.ModeSticky, syscall.S_ISVTX}}

// Realpath is the symlink-free path of what path names: relative to d beneath a confined
// directory ("." for d itself, never ".." nor a symlink), absolute for FS.
func (d *Dir) Realpath(path string) (string, error) {
	return d.text("realpath", path, func(out **C.char, p *C.char) int64 { return int64(C.fdk_realpath(out, d.raw, p)) })
}

// text runs a call that returns a text fdkit allocated, and copies it out.
func (d *Dir) text(op, path string, c func(out **C.char, p *C.char) int64) (string, error) {
	var out *C.char
	n, err := d.withPath(op, path, func(p *C.char) int64 { return c(&out, p) })
	if err != nil {
		return "", err
	}
	defer C.fdk_free(unsafe.Pointer(out))
	return C.GoStringN(out, C.int(n)), nil
}

// Symlink creates a symlink at path whose text is target (stored as given).
func (d *Dir) Symlink(target, path string) error {
	if err := noNUL("symlink", target); err != nil {
		return err
	}
	ct := C.CString(target)
	defer C.free(unsafe.Pointer(ct))
	_, err := d.withPath("symlink", path, func(p *C.char) int64 { return int64(C.fdk_symlinkat(ct, d.raw, p)) })
	return err
}

// Readlink is the text of the symlink at path.
func (d *Dir) Readlink(path string) (string, error) {
	return d.text("readlink", path, func(out **C.char, p *C.char) int64 { return int64(C.fdk_readlinkat(out, d.raw, p)) })
}

// Stat is a stat result.
type Stat struct {
	Kind    FileKind
	Size    int64
	Perm    fs.FileMode // permission bits only
	Mode    fs.FileMode // kind, permission, setuid, setgid and sticky bits, as os.FileInfo.Mode
	Ino     uint64
	Dev     uint64
	Rdev    uint64 // the device a device file stands for
	Nlink   uint64
	Uid     uint32
	Gid     uint32
	Blocks  int64 // 512-byte units
	Blksize int64
	Atime   time.Time
	Mtime   time.Time
	Ctime   time.Time
	Btime   time.Time // birth time; zero where the file system keeps none
}

// statWith fills a fresh fdk_stat with fill and copies it out.
func statWith(fill func(st *C.fdk_stat) int64) (*Stat, error) {
	var st *C.fdk_stat
	if _, err := call(func() int64 { return int64(C.fdk_stat_new(&st)) }); err != nil {
		return nil, err
	}
	defer C.fdk_stat_free(st)
	if _, err := call(func() int64 { return fill(st) }); err != nil {
		return nil, err
	}
	return statFrom(st), nil
}

// statFrom copies a filled fdk_stat.
func statFrom(st *C.fdk_stat) *Stat {
	when := func(get func(sec, nsec *C.int64_t) C.int) time.Time {
		var sec, nsec C.int64_t
		if get(&sec, &nsec) < 0 {
			return time.Time{}
		}
		return time.Unix(int64(sec), int64(nsec))
	}
	kind := FileKind(C.fdk_stat_kind(st))
	return &Stat{
		Kind:    kind,
		Size:    int64(C.fdk_stat_size(st)),
		Perm:    fs.FileMode(C.fdk_stat_perm(st)) & fs.ModePerm,
		Mode:    goMode(uint32(C.fdk_stat_mode(st)), kind),
		Ino:     uint64(C.fdk_stat_ino(st)),
		Dev:     uint64(C.fdk_stat_dev(st)),
		Rdev:    uint64(C.fdk_stat_rdev(st)),
		Nlink:   uint64(C.fdk_stat_nlink(st)),
		Uid:     uint32(C.fdk_stat_uid(st)),
		Gid:     uint32(C.fdk_stat_gid(st)),
		Blocks:  int64(C.fdk_stat_blocks(st)),
		Blksize: int64(C.fdk_stat_blksize(st)),
		Atime:   when(func(s, n *C.int64_t) C.int { return C.fdk_stat_atime(st, s, n) }),
		Mtime:   when(func(s, n *C.int64_t) C.int { return C.fdk_stat_mtime(st, s, n) }),
		Ctime:   when(func(s, n *C.int64_t) C.int { return C.fdk_stat_ctime(st, s, n) }),
		Btime:   when(func(s, n *C.int64_t) C.int { return C.fdk_stat_btime(st, s, n) }),
	}
}

// goMode is the fs.FileMode of a platform st_mode, as the os package builds it.
func goMode(mode uint32, kind FileKind) fs.FileMode {
	m := fs.FileMode(mode) & fs.ModePerm
	switch kind {
	case KindDir:
		m |= fs.ModeDir
	case KindSymlink:
		m |= fs.ModeSymlink
	case KindFifo:
		m |= fs.ModeNamedPipe
	case KindSocket:
		m |= fs.ModeSocket
	case KindChar:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case KindBlock:
		m |= fs.ModeDevice
	}
	for _, b := range specialModeBits {
		if mode&b.unixBit != 0 {
			m |= b.goBit
		}
	}
	return m
}

// Stat describes path; follow follows a symlink in the last position (confined).
func (d *Dir) Stat(path string, follow bool) (*Stat, error) {
	var out *Stat
	var statErr error
	_, err := d.withPath("stat", path, func(p *C.char) int64 {
		out, statErr = statWith(func(st *C.fdk_stat) int64 { return int64(C.fdk_statat(st, d.raw, p, C.int(followFlag(follow)))) })
		return 0
	})
	if err == nil && statErr != nil {
		err = pathError("stat", path, statErr)
	}
	return out, err
}

// Stat is fstat.
func (f *Fd) Stat() (*Stat, error) {
	defer runtime.KeepAlive(f)
	st, err := statWith(func(st *C.fdk_stat) int64 { return int64(C.fdk_fstat(st, f.raw)) })
	return st, f.markClosed(err)
}

// DirEntry is one entry of ReadDir.
type DirEntry struct {
	Name string
	Kind FileKind
}

// ReadDir lists the directory at path ("." and ".." left out) in the file system's order.
func (d *Dir) ReadDir(path string) ([]DirEntry, error) {
	var raw *C.fdk_dirents
	if _, err := d.withPath("readdir", path, func(p *C.char) int64 { return int64(C.fdk_readdir(&raw, d.raw, p)) }); err != nil {
		return nil, err
	}
	return takeDirents(raw), nil
}

// takeDirents copies an entry list out and frees it.
func takeDirents(raw *C.fdk_dirents) []DirEntry {
	defer C.fdk_dirents_free(raw)
	out := make([]DirEntry, int(C.fdk_dirents_count(raw)))
	for i := range out {
		out[i] = DirEntry{
			Name: C.GoString(C.fdk_dirents_name(raw, C.size_t(i))),
			Kind: FileKind(C.fdk_dirents_kind(raw, C.size_t(i))),
		}
	}
	return out
}

// DirIter streams a directory's entries, one per Next, for directories too large to list at
// once. One goroutine at a time; Close it (a finalizer covers a forgotten one).
type DirIter struct {
	raw  *C.fdk_dir_iter
	path string
}

// OpenIter starts listing the directory at path.
func (d *Dir) OpenIter(path string) (*DirIter, error) {
	var raw *C.fdk_dir_iter
	if _, err := d.withPath("readdir", path, func(p *C.char) int64 { return int64(C.fdk_dir_iter_open(&raw, d.raw, p)) }); err != nil {
		return nil, err
	}
	it := &DirIter{raw: raw, path: path}
	runtime.SetFinalizer(it, func(it *DirIter) { C.fdk_dir_iter_free(it.raw) })
	return it, nil
}

// Next is the next entry ("." and ".." left out), or io.EOF after the last.
func (it *DirIter) Next() (DirEntry, error) {
	defer runtime.KeepAlive(it)
	if it.raw == nil {
		return DirEntry{}, ErrClosed
	}
	var name *C.char
	var kind C.int
	r, err := call(func() int64 { return int64(C.fdk_dir_iter_next(it.raw, &name, &kind)) })
	if err != nil {
		return DirEntry{}, &fs.PathError{Op: "readdir", Path: it.path, Err: err}
	}
	if r == 0 {
		return DirEntry{}, io.EOF
	}
	return DirEntry{Name: C.GoString(name), Kind: FileKind(kind)}, nil
}

// Close closes the directory; a second Close does nothing.
func (it *DirIter) Close() error {
	runtime.SetFinalizer(it, nil)
	it.raw = C.fdk_dir_iter_free(it.raw)
	return nil
}
