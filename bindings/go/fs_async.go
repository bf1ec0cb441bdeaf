// SPDX-License-Identifier: MIT
package fdkit

// The asynchronous forms of the file system calls: the same calls without blocking the
// loop (inline where the kernel promises not to wait, else io_uring, else the worker
// pool). Paths are copied and directories referenced by fdkit until the callback, which
// runs on the loop with the same errors as the synchronous call (*fs.PathError), or
// ECANCELED.

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

func pathError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: path, Err: err}
}

// pathAsync starts an operation on path beneath d; begin calls the C function with the
// path as a C string (copied by the call).
func (l *Loop) pathAsync(op string, d *Dir, path string, p *pending,
	begin func(cp *C.char, data unsafe.Pointer, opp **C.fdk_op) C.int) (*Op, error) {
	if err := noNUL(op, path); err != nil {
		return nil, err
	}
	if d.raw == nil {
		return nil, pathError(op, path, ErrClosed)
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	defer runtime.KeepAlive(d)
	o, err := l.startPending(p, func(data unsafe.Pointer, opp **C.fdk_op) C.int { return begin(cp, data, opp) })
	return o, pathError(op, path, err)
}

// pathResultAsync is pathAsync for a call that completes with a plain result (fdk_result_cb).
func (l *Loop) pathResultAsync(op string, d *Dir, path string, done func(error),
	begin func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int) (*Op, error) {
	return l.pathAsync(op, d, path, &pending{done: func(r int64) { done(pathError(op, path, resultError(r))) }},
		func(cp *C.char, data unsafe.Pointer, opp **C.fdk_op) C.int {
			return begin(cp, C.fdk_result_cb(C.fdkgo_result_cb), data, opp)
		})
}

// twoPathAsync is pathResultAsync for the calls that also name newPath beneath newDir.
func (l *Loop) twoPathAsync(op string, d *Dir, oldPath string, newDir *Dir, newPath string, done func(error),
	begin func(o *C.char, nd *C.fdk_dir, n *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int) (*Op, error) {
	if err := noNUL(op, newPath); err != nil {
		return nil, err
	}
	if newDir.raw == nil {
		return nil, pathError(op, newPath, ErrClosed)
	}
	cn := C.CString(newPath)
	defer C.free(unsafe.Pointer(cn))
	defer runtime.KeepAlive(newDir)
	return l.pathResultAsync(op, d, oldPath, done, func(o *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return begin(o, newDir.raw, cn, cb, data, opp)
	})
}

// OpenAsync opens path beneath d; done gets the handle on the loop.
func (l *Loop) OpenAsync(d *Dir, path string, flags uint, perm fs.FileMode, done func(*Fd, error)) (*Op, error) {
	return l.pathAsync("open", d, path, &pending{fdDone: func(f *Fd, err error) { done(f, pathError("open", path, err)) }},
		func(cp *C.char, data unsafe.Pointer, opp **C.fdk_op) C.int {
			return C.fdk_openat_async(l.raw, d.raw, cp, C.uint(flags), C.uint(perm.Perm()), C.fdk_open_cb(C.fdkgo_fd_cb), data, opp)
		})
}

// OpenDirAsync is Dir.OpenDir on the loop.
func (l *Loop) OpenDirAsync(d *Dir, path string, done func(*Dir, error)) (*Op, error) {
	return l.dirAsync(d, path, done, func(cp *C.char, cb C.fdk_dir_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_dir_open_async(l.raw, d.raw, cp, cb, data, opp)
	})
}

// dirAsync starts a call completing with a new dir (OpenDirAsync, OpenDir2Async).
func (l *Loop) dirAsync(d *Dir, path string, done func(*Dir, error),
	begin func(cp *C.char, cb C.fdk_dir_cb, data unsafe.Pointer, opp **C.fdk_op) C.int) (*Op, error) {
	return l.pathAsync("opendir", d, path, &pending{ptrDone: func(r int64, ptr unsafe.Pointer) {
		if err := resultError(r); err != nil {
			done(nil, pathError("opendir", path, err))
			return
		}
		done(wrapDir((*C.fdk_dir)(ptr)), nil)
	}}, func(cp *C.char, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return begin(cp, C.fdk_dir_cb(C.fdkgo_dir_cb), data, opp)
	})
}

// MkdirAsync is Dir.Mkdir on the loop.
func (l *Loop) MkdirAsync(d *Dir, path string, perm fs.FileMode, done func(error)) (*Op, error) {
	return l.pathResultAsync("mkdir", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_mkdirat_async(l.raw, d.raw, cp, C.uint(perm.Perm()), cb, data, opp)
	})
}

// UnlinkAsync is Dir.Unlink on the loop.
func (l *Loop) UnlinkAsync(d *Dir, path string, done func(error)) (*Op, error) {
	return l.pathResultAsync("unlink", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_unlinkat_async(l.raw, d.raw, cp, cb, data, opp)
	})
}

// RmdirAsync is Dir.Rmdir on the loop.
func (l *Loop) RmdirAsync(d *Dir, path string, done func(error)) (*Op, error) {
	return l.pathResultAsync("rmdir", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_rmdirat_async(l.raw, d.raw, cp, cb, data, opp)
	})
}

// RenameAsync is Dir.Rename on the loop.
func (l *Loop) RenameAsync(d *Dir, oldPath string, newDir *Dir, newPath string, done func(error)) (*Op, error) {
	return l.twoPathAsync("rename", d, oldPath, newDir, newPath, done,
		func(o *C.char, nd *C.fdk_dir, n *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
			return C.fdk_renameat_async(l.raw, d.raw, o, nd, n, cb, data, opp)
		})
}

// Rename2Async is Dir.Rename2 on the loop.
func (l *Loop) Rename2Async(d *Dir, oldPath string, newDir *Dir, newPath string, flags uint, done func(error)) (*Op, error) {
	return l.twoPathAsync("rename", d, oldPath, newDir, newPath, done,
		func(o *C.char, nd *C.fdk_dir, n *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
			return C.fdk_renameat2_async(l.raw, d.raw, o, nd, n, C.uint(flags), cb, data, opp)
		})
}

// LinkAsync is Dir.Link on the loop.
func (l *Loop) LinkAsync(d *Dir, oldPath string, newDir *Dir, newPath string, done func(error)) (*Op, error) {
	return l.twoPathAsync("link", d, oldPath, newDir, newPath, done,
		func(o *C.char, nd *C.fdk_dir, n *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
			return C.fdk_linkat_async(l.raw, d.raw, o, nd, n, cb, data, opp)
		})
}

// SymlinkAsync is Dir.Symlink on the loop.
func (l *Loop) SymlinkAsync(target string, d *Dir, path string, done func(error)) (*Op, error) {
	if err := noNUL("symlink", target); err != nil {
		return nil, err
	}
	ct := C.CString(target)
	defer C.free(unsafe.Pointer(ct))
	return l.pathResultAsync("symlink", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_symlinkat_async(l.raw, ct, d.raw, cp, cb, data, opp)
	})
}

// ChmodAsync is Dir.Chmod on the loop.
func (l *Loop) ChmodAsync(d *Dir, path string, mode fs.FileMode, follow bool, done func(error)) (*Op, error) {
	return l.pathResultAsync("chmod", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_chmodat_async(l.raw, d.raw, cp, C.uint(unixMode(mode)), followFlag(follow), cb, data, opp)
	})
}

// ChownAsync is Dir.Chown on the loop.
func (l *Loop) ChownAsync(d *Dir, path string, uid, gid int, follow bool, done func(error)) (*Op, error) {
	return l.pathResultAsync("chown", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_chownat_async(l.raw, d.raw, cp, C.int64_t(uid), C.int64_t(gid), followFlag(follow), cb, data, opp)
	})
}

// ChtimesAsync is Dir.Chtimes on the loop.
func (l *Loop) ChtimesAsync(d *Dir, path string, atime, mtime time.Time, follow bool, done func(error)) (*Op, error) {
	as, an := utime(atime)
	ms, mn := utime(mtime)
	return l.pathResultAsync("chtimes", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_utimensat_async(l.raw, d.raw, cp, as, an, ms, mn, followFlag(follow), cb, data, opp)
	})
}

// textAsync starts a call completing with a text fdkit allocated (readlink, realpath).
func (l *Loop) textAsync(op string, d *Dir, path string, done func(string, error),
	begin func(cp *C.char, cb C.fdk_text_cb, data unsafe.Pointer, opp **C.fdk_op) C.int) (*Op, error) {
	return l.pathAsync(op, d, path, &pending{ptrDone: func(r int64, ptr unsafe.Pointer) {
		if err := resultError(r); err != nil {
			done("", pathError(op, path, err))
			return
		}
		text := C.GoStringN((*C.char)(ptr), C.int(r))
		C.fdk_free(ptr)
		done(text, nil)
	}}, func(cp *C.char, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return begin(cp, C.fdk_text_cb(C.fdkgo_text_cb), data, opp)
	})
}

// ReadlinkAsync is Dir.Readlink on the loop.
func (l *Loop) ReadlinkAsync(d *Dir, path string, done func(string, error)) (*Op, error) {
	return l.textAsync("readlink", d, path, done, func(cp *C.char, cb C.fdk_text_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_readlinkat_async(l.raw, d.raw, cp, cb, data, opp)
	})
}

// RealpathAsync is Dir.Realpath on the loop.
func (l *Loop) RealpathAsync(d *Dir, path string, done func(string, error)) (*Op, error) {
	return l.textAsync("realpath", d, path, done, func(cp *C.char, cb C.fdk_text_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_realpath_async(l.raw, d.raw, cp, cb, data, opp)
	})
}

// ReadDirAsync is Dir.ReadDir on the loop.
func (l *Loop) ReadDirAsync(d *Dir, path string, done func([]DirEntry, error)) (*Op, error) {
	return l.pathAsync("readdir", d, path, &pending{ptrDone: func(r int64, ptr unsafe.Pointer) {
		if err := resultError(r); err != nil {
			done(nil, pathError("readdir", path, err))
			return
		}
		done(takeDirents((*C.fdk_dirents)(ptr)), nil)
	}}, func(cp *C.char, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_readdir_async(l.raw, d.raw, cp, C.fdk_dirents_cb(C.fdkgo_dirents_cb), data, opp)
	})
}

// newCStat allocates the fdk_stat an asynchronous stat fills.
func newCStat() (*C.fdk_stat, error) {
	var st *C.fdk_stat
	_, err := call(func() int64 { return int64(C.fdk_stat_new(&st)) })
	return st, err
}

// StatAsync is Dir.Stat on the loop.
func (l *Loop) StatAsync(d *Dir, path string, follow bool, done func(*Stat, error)) (*Op, error) {
	st, err := newCStat()
	if err != nil {
		return nil, err
	}
	op, err := l.pathAsync("stat", d, path, &pending{done: func(r int64) {
		defer C.fdk_stat_free(st)
		if err := resultError(r); err != nil {
			done(nil, pathError("stat", path, err))
			return
		}
		done(statFrom(st), nil)
	}}, func(cp *C.char, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_statat_async(l.raw, st, d.raw, cp, C.int(followFlag(follow)), C.fdk_result_cb(C.fdkgo_result_cb), data, opp)
	})
	if err != nil {
		C.fdk_stat_free(st)
	}
	return op, err
}

// FstatAsync is Fd.Stat on the loop.
func (l *Loop) FstatAsync(f *Fd, done func(*Stat, error)) (*Op, error) {
	st, err := newCStat()
	if err != nil {
		return nil, err
	}
	op, err := l.fdAsync(f, func(r int64) {
		defer C.fdk_stat_free(st)
		if err := resultError(r); err != nil {
			done(nil, err)
			return
		}
		done(statFrom(st), nil)
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_fstat_async(l.raw, st, f.raw, cb, data, opp)
	})
	if err != nil {
		C.fdk_stat_free(st)
	}
	return op, err
}
