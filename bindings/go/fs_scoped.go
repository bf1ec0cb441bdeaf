// SPDX-License-Identifier: MIT
package fdkit

// Scoped directories and the calls that came with them: links by follow or by handle,
// special files, truncate and access by path, extended attributes; each with its
// asynchronous form (the worker pool runs those).

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"io/fs"
	"runtime"
	"strings"
	"unsafe"
)

// Flags of OpenDir2. The scoping ones (DirNoXdev, DirNoSymlinks, DirInRoot) hold for the
// path opened and then for every path resolved beneath the new Dir, which a Dir opened
// beneath it keeps as well as its own.
const (
	DirNoFollow   = C.FDK_DIR_NOFOLLOW    // a symlink as the last component is not followed: ENOTDIR
	DirNoXdev     = C.FDK_DIR_NO_XDEV     // crossing a mount point fails with EXDEV
	DirNoSymlinks = C.FDK_DIR_NO_SYMLINKS // following any symlink fails with ELOOP
	DirInRoot     = C.FDK_DIR_IN_ROOT     // ".." at the dir stays there; absolute paths and targets start from it
)

// Permissions Access checks; AccessExists checks only that path resolves.
const (
	AccessExists = C.FDK_ACCESS_EXISTS
	AccessRead   = C.FDK_ACCESS_READ
	AccessWrite  = C.FDK_ACCESS_WRITE
	AccessExec   = C.FDK_ACCESS_EXEC
)

// Flags of Setxattr.
const (
	XattrCreate  = C.FDK_XATTR_CREATE  // EEXIST when the attribute exists
	XattrReplace = C.FDK_XATTR_REPLACE // ENODATA when it does not
)

// OpenDir2 is OpenDir with Dir* flags (EINVAL for unknown bits; EXDEV and ELOOP from the
// scoping ones).
func (d *Dir) OpenDir2(path string, flags uint) (*Dir, error) {
	var raw *C.fdk_dir
	if _, err := d.withPath("opendir", path, func(p *C.char) int64 {
		return int64(C.fdk_dir_open2(&raw, d.raw, p, C.uint(flags)))
	}); err != nil {
		return nil, err
	}
	return wrapDir(raw), nil
}

// Link2 is Link that, with follow, links what a symlink source points to (followed
// confined beneath d).
func (d *Dir) Link2(oldPath string, newDir *Dir, newPath string, follow bool) error {
	return d.withTwoPaths("link", oldPath, newDir, newPath, func(o *C.char, nd *C.fdk_dir, n *C.char) int64 {
		return int64(C.fdk_linkat2(d.raw, o, nd, n, followFlag(follow)))
	})
}

// LinkFd gives the file f refers to the name path beneath d (last component not followed):
// it publishes a file opened with O_TMPFILE. ENOENT for a file with no link left or opened
// with O_TMPFILE|O_EXCL, EEXIST when path exists, EBADF for a closed f.
func (d *Dir) LinkFd(f *Fd, path string) error {
	defer runtime.KeepAlive(f)
	_, err := d.withPath("link", path, func(p *C.char) int64 { return int64(C.fdk_linkat_fd(f.raw, d.raw, p)) })
	return err
}

// Mknod creates a special file at path: kind is KindFifo, KindChar, KindBlock, KindSocket
// or KindRegular, perm its permission bits (the umask applies), dev the device number of
// KindChar and KindBlock (0 else). EPERM for a device without CAP_MKNOD.
func (d *Dir) Mknod(path string, kind FileKind, perm fs.FileMode, dev uint64) error {
	_, err := d.withPath("mknod", path, func(p *C.char) int64 {
		return int64(C.fdk_mknodat(d.raw, p, C.int(kind), C.uint(perm.Perm()), C.uint64_t(dev)))
	})
	return err
}

// Mkfifo creates a FIFO at path.
func (d *Dir) Mkfifo(path string, perm fs.FileMode) error {
	_, err := d.withPath("mkfifo", path, func(p *C.char) int64 { return int64(C.fdk_mkfifoat(d.raw, p, C.uint(perm.Perm()))) })
	return err
}

// Truncate sets the size of the file path names (a symlink is followed, confined, as
// os.Truncate follows it). EINVAL for a negative size or a file that is not regular.
func (d *Dir) Truncate(path string, size int64) error {
	_, err := d.withPath("truncate", path, func(p *C.char) int64 { return int64(C.fdk_truncateat(d.raw, p, C.int64_t(size))) })
	return err
}

func accessFlags(follow, effective bool) C.uint {
	flags := followFlag(follow)
	if effective {
		flags |= C.FDK_ACCESS_EFFECTIVE
	}
	return flags
}

// Access is nil when the caller may access path with every permission in mode (Access*
// bits), checked with the real ids or, with effective, the effective ones. EACCES when one
// is missing, EROFS for AccessWrite on a read-only mount.
func (d *Dir) Access(path string, mode uint, follow, effective bool) error {
	_, err := d.withPath("access", path, func(p *C.char) int64 {
		return int64(C.fdk_faccessat(d.raw, p, C.uint(mode), accessFlags(follow, effective)))
	})
	return err
}

// withName is withPath for the calls that also take an attribute name.
func (d *Dir) withName(op, path, name string, c func(p, n *C.char) int64) (int64, error) {
	cn, err := nameArg(op, name)
	if err != nil {
		return 0, err
	}
	defer C.free(unsafe.Pointer(cn))
	return d.withPath(op, path, func(p *C.char) int64 { return c(p, cn) })
}

// Getxattr is the value of the extended attribute name of what path names; follow follows a
// symlink in the last position (confined). ENODATA for a missing attribute, EOPNOTSUPP where
// the file system keeps none.
func (d *Dir) Getxattr(path, name string, follow bool) ([]byte, error) {
	var value []byte
	_, err := d.withName("getxattr", path, name, func(p, n *C.char) int64 {
		var out *C.char
		r := int64(C.fdk_getxattrat(&out, d.raw, p, n, followFlag(follow)))
		if r >= 0 {
			value = C.GoBytes(unsafe.Pointer(out), C.int(r))
			C.fdk_free(unsafe.Pointer(out))
		}
		return r
	})
	return value, err
}

// Setxattr sets the extended attribute name to value; flags: XattrCreate or XattrReplace
// (not both), or 0.
func (d *Dir) Setxattr(path, name string, value []byte, flags uint, follow bool) error {
	_, err := d.withName("setxattr", path, name, func(p, n *C.char) int64 {
		return int64(C.fdk_setxattrat(d.raw, p, n, bufPtr(value), C.size_t(len(value)), C.uint(flags)|followFlag(follow)))
	})
	return err
}

// xattrNames splits a list of NUL-terminated names.
func xattrNames(list string) []string {
	names := strings.Split(list, "\x00")
	return names[:len(names)-1] // the last NUL ends the last name
}

// Listxattr is the names of the extended attributes of what path names.
func (d *Dir) Listxattr(path string, follow bool) ([]string, error) {
	list, err := d.text("listxattr", path, func(out **C.char, p *C.char) int64 {
		return int64(C.fdk_listxattrat(out, d.raw, p, followFlag(follow)))
	})
	if err != nil {
		return nil, err
	}
	return xattrNames(list), nil
}

// Removexattr removes the extended attribute name (ENODATA when there is none).
func (d *Dir) Removexattr(path, name string, follow bool) error {
	_, err := d.withName("removexattr", path, name, func(p, n *C.char) int64 {
		return int64(C.fdk_removexattrat(d.raw, p, n, followFlag(follow)))
	})
	return err
}

// OpenDir2Async is Dir.OpenDir2 on the loop.
func (l *Loop) OpenDir2Async(d *Dir, path string, flags uint, done func(*Dir, error)) (*Op, error) {
	return l.dirAsync(d, path, done, func(cp *C.char, cb C.fdk_dir_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_dir_open2_async(l.raw, d.raw, cp, C.uint(flags), cb, data, opp)
	})
}

// Link2Async is Dir.Link2 on the loop.
func (l *Loop) Link2Async(d *Dir, oldPath string, newDir *Dir, newPath string, follow bool, done func(error)) (*Op, error) {
	return l.twoPathAsync("link", d, oldPath, newDir, newPath, done,
		func(o *C.char, nd *C.fdk_dir, n *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
			return C.fdk_linkat2_async(l.raw, d.raw, o, nd, n, followFlag(follow), cb, data, opp)
		})
}

// LinkFdAsync is Dir.LinkFd on the loop; f stays referenced until done runs.
func (l *Loop) LinkFdAsync(d *Dir, f *Fd, path string, done func(error)) (*Op, error) {
	defer runtime.KeepAlive(f)
	return l.pathResultAsync("link", d, path, func(err error) {
		runtime.KeepAlive(f)
		done(err)
	}, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_linkat_fd_async(l.raw, f.raw, d.raw, cp, cb, data, opp)
	})
}

// MknodAsync is Dir.Mknod on the loop.
func (l *Loop) MknodAsync(d *Dir, path string, kind FileKind, perm fs.FileMode, dev uint64, done func(error)) (*Op, error) {
	return l.pathResultAsync("mknod", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_mknodat_async(l.raw, d.raw, cp, C.int(kind), C.uint(perm.Perm()), C.uint64_t(dev), cb, data, opp)
	})
}

// MkfifoAsync is Dir.Mkfifo on the loop.
func (l *Loop) MkfifoAsync(d *Dir, path string, perm fs.FileMode, done func(error)) (*Op, error) {
	return l.pathResultAsync("mkfifo", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_mkfifoat_async(l.raw, d.raw, cp, C.uint(perm.Perm()), cb, data, opp)
	})
}

// TruncatePathAsync is Dir.Truncate on the loop (TruncateAsync is Fd.Truncate's).
func (l *Loop) TruncatePathAsync(d *Dir, path string, size int64, done func(error)) (*Op, error) {
	return l.pathResultAsync("truncate", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_truncateat_async(l.raw, d.raw, cp, C.int64_t(size), cb, data, opp)
	})
}

// AccessAsync is Dir.Access on the loop.
func (l *Loop) AccessAsync(d *Dir, path string, mode uint, follow, effective bool, done func(error)) (*Op, error) {
	return l.pathResultAsync("access", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_faccessat_async(l.raw, d.raw, cp, C.uint(mode), accessFlags(follow, effective), cb, data, opp)
	})
}

// nameArg is an attribute name as a C string for one starting call (freed by the caller).
func nameArg(op, name string) (*C.char, error) {
	if err := noNUL(op, name); err != nil {
		return nil, err
	}
	return C.CString(name), nil
}

// GetxattrAsync is Dir.Getxattr on the loop.
func (l *Loop) GetxattrAsync(d *Dir, path, name string, follow bool, done func([]byte, error)) (*Op, error) {
	cn, err := nameArg("getxattr", name)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cn))
	return l.textAsync("getxattr", d, path, func(value string, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		done([]byte(value), nil)
	}, func(cp *C.char, cb C.fdk_text_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_getxattrat_async(l.raw, d.raw, cp, cn, followFlag(follow), cb, data, opp)
	})
}

// SetxattrAsync is Dir.Setxattr on the loop (value is copied by the starting call).
func (l *Loop) SetxattrAsync(d *Dir, path, name string, value []byte, flags uint, follow bool, done func(error)) (*Op, error) {
	cn, err := nameArg("setxattr", name)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cn))
	return l.pathResultAsync("setxattr", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_setxattrat_async(l.raw, d.raw, cp, cn, bufPtr(value), C.size_t(len(value)),
			C.uint(flags)|followFlag(follow), cb, data, opp)
	})
}

// ListxattrAsync is Dir.Listxattr on the loop.
func (l *Loop) ListxattrAsync(d *Dir, path string, follow bool, done func([]string, error)) (*Op, error) {
	return l.textAsync("listxattr", d, path, func(list string, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		done(xattrNames(list), nil)
	}, func(cp *C.char, cb C.fdk_text_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_listxattrat_async(l.raw, d.raw, cp, followFlag(follow), cb, data, opp)
	})
}

// RemovexattrAsync is Dir.Removexattr on the loop.
func (l *Loop) RemovexattrAsync(d *Dir, path, name string, follow bool, done func(error)) (*Op, error) {
	cn, err := nameArg("removexattr", name)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cn))
	return l.pathResultAsync("removexattr", d, path, done, func(cp *C.char, cb C.fdk_result_cb, data unsafe.Pointer, opp **C.fdk_op) C.int {
		return C.fdk_removexattrat_async(l.raw, d.raw, cp, cn, followFlag(follow), cb, data, opp)
	})
}
