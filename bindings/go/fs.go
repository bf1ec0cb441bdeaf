package fdkit

/*
#include <stdlib.h>
#include <fdkit.h>
*/
import "C"

import (
	"runtime"
	"sort"
	"unsafe"
)

// Open flags: fdkit's own values.
const (
	ORdonly    = C.FDK_O_RDONLY
	OWronly    = C.FDK_O_WRONLY
	ORdwr      = C.FDK_O_RDWR
	OAppend    = C.FDK_O_APPEND
	OCreat     = C.FDK_O_CREAT
	OExcl      = C.FDK_O_EXCL
	OTrunc     = C.FDK_O_TRUNC
	ODirectory = C.FDK_O_DIRECTORY
	ONofollow  = C.FDK_O_NOFOLLOW
)

// Kinds of file a Stat reports.
const (
	KindRegular = C.FDK_KIND_REGULAR
	KindDir     = C.FDK_KIND_DIR
	KindSymlink = C.FDK_KIND_SYMLINK
)

// Dir is a directory every path given to it is resolved beneath: "..", absolute paths
// and symlinks that would lead out fail with EXDEV. FsDir is the unconfined file system.
// Each *Dir holds one reference, dropped by Close or when it is garbage collected; all
// methods are safe for concurrent use (not with Close).
type Dir struct {
	raw *C.fdk_dir
}

func wrapDir(raw *C.fdk_dir) *Dir {
	d := &Dir{raw: raw}
	runtime.SetFinalizer(d, func(d *Dir) { C.fdk_dir_unref(d.raw) })
	return d
}

// Close drops this Dir's reference now (its descriptor closes with the last one). The
// Dir must not be used afterwards.
func (d *Dir) Close() error {
	if d.raw != nil {
		runtime.SetFinalizer(d, nil)
		C.fdk_dir_unref(d.raw)
		d.raw = nil
	}
	return nil
}

// FsDir is the unconfined file system (absolute paths allowed).
func FsDir() *Dir { return wrapDir(C.fdk_dir_fs()) }

// CwdDir is the current directory, confined to it.
func CwdDir() *Dir { return wrapDir(C.fdk_dir_cwd()) }

// withPath runs f with path as a C string.
func withPath(path string, f func(p *C.char) int64) (int64, error) {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	return call(func() int64 { return f(p) })
}

// OpenDir is the directory at path beneath d, itself confining.
func (d *Dir) OpenDir(path string) (*Dir, error) {
	var raw *C.fdk_dir
	_, err := withPath(path, func(p *C.char) int64 { return int64(C.fdk_dir_open(&raw, d.raw, p)) })
	runtime.KeepAlive(d)
	if err != nil {
		return nil, err
	}
	return wrapDir(raw), nil
}

// Open opens the file at path (close-on-exec).
func (d *Dir) Open(path string, flags uint, mode uint32) (*Fd, error) {
	var raw *C.fdk_fd
	_, err := withPath(path, func(p *C.char) int64 {
		return int64(C.fdk_openat(&raw, d.raw, p, C.uint(flags), C.uint(mode)))
	})
	runtime.KeepAlive(d)
	if err != nil {
		return nil, err
	}
	return wrapFd(raw), nil
}

func (d *Dir) Mkdir(path string, mode uint32) error {
	_, err := withPath(path, func(p *C.char) int64 { return int64(C.fdk_mkdirat(d.raw, p, C.uint(mode))) })
	runtime.KeepAlive(d)
	return err
}

func (d *Dir) Unlink(path string) error {
	_, err := withPath(path, func(p *C.char) int64 { return int64(C.fdk_unlinkat(d.raw, p)) })
	runtime.KeepAlive(d)
	return err
}

func (d *Dir) Rmdir(path string) error {
	_, err := withPath(path, func(p *C.char) int64 { return int64(C.fdk_rmdirat(d.raw, p)) })
	runtime.KeepAlive(d)
	return err
}

// Symlink creates path as a symlink to target, stored as given.
func (d *Dir) Symlink(target, path string) error {
	t := C.CString(target)
	defer C.free(unsafe.Pointer(t))
	_, err := withPath(path, func(p *C.char) int64 { return int64(C.fdk_symlinkat(t, d.raw, p)) })
	runtime.KeepAlive(d)
	return err
}

func (d *Dir) Readlink(path string) (string, error) {
	var text *C.char
	n, err := withPath(path, func(p *C.char) int64 { return int64(C.fdk_readlinkat(&text, d.raw, p)) })
	runtime.KeepAlive(d)
	if err != nil {
		return "", err
	}
	defer C.fdk_free(unsafe.Pointer(text))
	return C.GoStringN(text, C.int(n)), nil
}

// Stat is what Dir.Stat found.
type Stat struct {
	Kind int
	Size int64
	Perm uint32
	Ino  uint64
}

// Stat describes path; follow says whether a final symlink is followed (still confined).
func (d *Dir) Stat(path string, follow bool) (Stat, error) {
	var st *C.fdk_stat
	if _, err := call(func() int64 { return int64(C.fdk_stat_new(&st)) }); err != nil {
		return Stat{}, err
	}
	defer C.fdk_stat_free(st)
	fl := C.int(0)
	if follow {
		fl = 1
	}
	_, err := withPath(path, func(p *C.char) int64 { return int64(C.fdk_statat(st, d.raw, p, fl)) })
	runtime.KeepAlive(d)
	if err != nil {
		return Stat{}, err
	}
	return Stat{Kind: int(C.fdk_stat_kind(st)), Size: int64(C.fdk_stat_size(st)), Perm: uint32(C.fdk_stat_perm(st)),
		Ino: uint64(C.fdk_stat_ino(st))}, nil
}

// ReadDir lists the names in the directory at path, sorted.
func (d *Dir) ReadDir(path string) ([]string, error) {
	var ents *C.fdk_dirents
	n, err := withPath(path, func(p *C.char) int64 { return int64(C.fdk_readdir(&ents, d.raw, p)) })
	runtime.KeepAlive(d)
	if err != nil {
		return nil, err
	}
	defer C.fdk_dirents_free(ents)
	names := make([]string, 0, n)
	for i := 0; i < int(n); i++ {
		names = append(names, C.GoString(C.fdk_dirents_name(ents, C.size_t(i))))
	}
	sort.Strings(names)
	return names, nil
}
