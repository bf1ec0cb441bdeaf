// SPDX-License-Identifier: MIT
package fdkit

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"io/fs"
	"runtime"
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

// Close drops this *Dir's reference; a second Close does nothing. The Dir must not be
// used afterwards, nor while Close runs.
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

func (d *Dir) Mkdir(path string, perm fs.FileMode) error {
	_, err := d.withPath("mkdir", path, func(p *C.char) int64 { return int64(C.fdk_mkdirat(d.raw, p, C.uint(perm.Perm()))) })
	return err
}

// Unlink removes a non-directory (a symlink itself, never its target).
func (d *Dir) Unlink(path string) error {
	_, err := d.withPath("unlink", path, func(p *C.char) int64 { return int64(C.fdk_unlinkat(d.raw, p)) })
	return err
}

func (d *Dir) Rmdir(path string) error {
	_, err := d.withPath("rmdir", path, func(p *C.char) int64 { return int64(C.fdk_rmdirat(d.raw, p)) })
	return err
}

// Rename renames oldPath beneath d to newPath beneath newDir.
func (d *Dir) Rename(oldPath string, newDir *Dir, newPath string) error {
	if err := noNUL("rename", newPath); err != nil {
		return err
	}
	cn := C.CString(newPath)
	defer C.free(unsafe.Pointer(cn))
	defer runtime.KeepAlive(newDir)
	_, err := d.withPath("rename", oldPath, func(p *C.char) int64 { return int64(C.fdk_renameat(d.raw, p, newDir.raw, cn)) })
	return err
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
	var out *C.char
	n, err := d.withPath("readlink", path, func(p *C.char) int64 { return int64(C.fdk_readlinkat(&out, d.raw, p)) })
	if err != nil {
		return "", err
	}
	defer C.fdk_free(unsafe.Pointer(out))
	return C.GoStringN(out, C.int(n)), nil
}

// Stat is a stat result.
type Stat struct {
	Kind  FileKind
	Size  int64
	Perm  fs.FileMode // permission bits only
	Ino   uint64
	Dev   uint64
	Nlink uint64
	Uid   uint32
	Gid   uint32
	Mtime time.Time
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
	var sec, nsec C.int64_t
	C.fdk_stat_mtime(st, &sec, &nsec)
	return &Stat{
		Kind:  FileKind(C.fdk_stat_kind(st)),
		Size:  int64(C.fdk_stat_size(st)),
		Perm:  fs.FileMode(C.fdk_stat_perm(st)) & fs.ModePerm,
		Ino:   uint64(C.fdk_stat_ino(st)),
		Dev:   uint64(C.fdk_stat_dev(st)),
		Nlink: uint64(C.fdk_stat_nlink(st)),
		Uid:   uint32(C.fdk_stat_uid(st)),
		Gid:   uint32(C.fdk_stat_gid(st)),
		Mtime: time.Unix(int64(sec), int64(nsec)),
	}, nil
}

// Stat describes path; follow follows a symlink in the last position (confined).
func (d *Dir) Stat(path string, follow bool) (*Stat, error) {
	if err := noNUL("stat", path); err != nil {
		return nil, err
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	defer runtime.KeepAlive(d)
	f := C.int(0)
	if follow {
		f = 1
	}
	return statWith(func(st *C.fdk_stat) int64 { return int64(C.fdk_statat(st, d.raw, cp, f)) })
}

// Stat is fstat.
func (f *Fd) Stat() (*Stat, error) {
	defer runtime.KeepAlive(f)
	return statWith(func(st *C.fdk_stat) int64 { return int64(C.fdk_fstat(st, f.raw)) })
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
	defer C.fdk_dirents_free(raw)
	n := int(C.fdk_dirents_count(raw))
	out := make([]DirEntry, n)
	for i := range out {
		out[i] = DirEntry{
			Name: C.GoString(C.fdk_dirents_name(raw, C.size_t(i))),
			Kind: FileKind(C.fdk_dirents_kind(raw, C.size_t(i))),
		}
	}
	return out, nil
}

// OpenAsync opens path beneath d on the worker pool; done gets the handle on the loop. The
// path is copied and d referenced until then.
func (l *Loop) OpenAsync(d *Dir, path string, flags uint, perm fs.FileMode, done func(*Fd, error)) (*Op, error) {
	if err := noNUL("open", path); err != nil {
		return nil, err
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	defer runtime.KeepAlive(d)
	return l.startPending(&pending{fdDone: done}, func(data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_openat_async(l.raw, d.raw, cp, C.uint(flags), C.uint(perm.Perm()), C.fdk_open_cb(C.fdkgo_fd_cb),
			data, op)
	})
}
