// SPDX-License-Identifier: MIT
package fdkit

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"errors"
	"io"
	"runtime"
	"unsafe"
)

// bufPtr is the address of b's first byte (nil when empty), for the length of a C call.
func bufPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// Read is one read(2)'s worth; 0 bytes at end of file is io.EOF (io.Reader).
func (f *Fd) Read(p []byte) (int, error) {
	n, err := f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_read(raw, bufPtr(p), C.size_t(len(p)))) })
	if err != nil {
		return 0, err
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return int(n), nil
}

// WriteOnce is one write(2)'s worth: the count may be short.
func (f *Fd) WriteOnce(p []byte) (int, error) {
	n, err := f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_write(raw, bufPtr(p), C.size_t(len(p)))) })
	return int(n), err
}

// Write writes all of p, or fails (io.Writer).
func (f *Fd) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := f.WriteOnce(p[done:])
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// Readv is one readv(2) into bufs, filled in order; it returns the total count (io.EOF
// when it is 0 at end of file). The data passes through C memory: C may keep no Go pointer,
// and an iovec array in Go memory would hold Go pointers.
func (f *Fd) Readv(bufs [][]byte) (int, error) {
	v := newCIovecs(bufLens(bufs))
	defer v.free()
	n, err := f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_readv(raw, v.iov, C.int(len(bufs)))) })
	if err != nil {
		return 0, err
	}
	left := int(n)
	for i, b := range bufs {
		k := len(b)
		if k > left {
			k = left
		}
		copy(b, unsafe.Slice((*byte)(v.bufs[i]), k))
		left -= k
	}
	if n == 0 && totalLen(bufs) > 0 {
		return 0, io.EOF
	}
	return int(n), nil
}

// Writev is one writev(2) of bufs: the count may be short.
func (f *Fd) Writev(bufs [][]byte) (int, error) {
	v := newCIovecsOf(bufs)
	defer v.free()
	n, err := f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_writev(raw, v.iov, C.int(len(bufs)))) })
	return int(n), err
}

func bufLens(bufs [][]byte) []int {
	lens := make([]int, len(bufs))
	for i, b := range bufs {
		lens[i] = len(b)
	}
	return lens
}

func totalLen(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

// ReadAt reads at off without moving the file position (io.ReaderAt).
func (f *Fd) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		q := p[done:]
		n, err := f.call(func(raw *C.fdk_fd) int64 {
			return int64(C.fdkgo_pread(raw, bufPtr(q), C.size_t(len(q)), C.int64_t(off+int64(done))))
		})
		if err != nil {
			return done, err
		}
		if n == 0 {
			return done, io.EOF
		}
		done += int(n)
	}
	return done, nil
}

// WriteAt writes all of p at off without moving the file position (io.WriterAt).
func (f *Fd) WriteAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		q := p[done:]
		n, err := f.call(func(raw *C.fdk_fd) int64 {
			return int64(C.fdkgo_pwrite(raw, bufPtr(q), C.size_t(len(q)), C.int64_t(off+int64(done))))
		})
		if err != nil {
			return done, err
		}
		done += int(n)
	}
	return done, nil
}

// Seek takes io.SeekStart, io.SeekCurrent or io.SeekEnd (io.Seeker).
func (f *Fd) Seek(offset int64, whence int) (int64, error) {
	var w C.int
	switch whence {
	case io.SeekStart:
		w = C.FDK_SEEK_SET
	case io.SeekCurrent:
		w = C.FDK_SEEK_CUR
	case io.SeekEnd:
		w = C.FDK_SEEK_END
	default:
		return 0, errors.New("fdkit: Seek: bad whence")
	}
	return f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_lseek(raw, C.int64_t(offset), w)) })
}

// Sync is fsync, or fdatasync when dataOnly.
func (f *Fd) Sync(dataOnly bool) error {
	var flags C.uint
	if dataOnly {
		flags = C.FDK_FSYNC_DATA
	}
	_, err := f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_fsync(raw, flags)) })
	return err
}

// Truncate is ftruncate: the file's size becomes length.
func (f *Fd) Truncate(length int64) error {
	_, err := f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_ftruncate(raw, C.int64_t(length))) })
	return err
}

// Getrandom fills p with random bytes and returns the count.
func Getrandom(p []byte) (int, error) {
	n, err := call(func() int64 { return int64(C.fdk_getrandom(bufPtr(p), C.size_t(len(p)), 0)) })
	return int(n), err
}

// NowNs is nanoseconds on the monotonic clock.
func NowNs() int64 { return int64(C.fdk_now_ns()) }

// resultError is nil for a non-negative result, else the loop thread's last error (set
// before the callback runs).
func resultError(result int64) error {
	if result < 0 {
		return lastError(result)
	}
	return nil
}

// cBytes is a C buffer of n bytes (at least 1, so malloc never returns NULL for 0).
func cBytes(n int) unsafe.Pointer {
	if n == 0 {
		n = 1
	}
	return C.malloc(C.size_t(n))
}

// ReadAsync reads up to n bytes; done gets them, or an error, on the loop.
func (l *Loop) ReadAsync(f *Fd, n int, done func(data []byte, err error)) (*Op, error) {
	buf := cBytes(n)
	op, err := l.start(func(r int64) {
		defer C.free(buf)
		defer runtime.KeepAlive(f) // the *Fd, and its reference, live until the callback
		if err := resultError(r); err != nil {
			done(nil, err)
			return
		}
		done(C.GoBytes(buf, C.int(r)), nil)
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_read_async(l.raw, f.raw, buf, C.size_t(n), cb, data, op)
	})
	if err != nil {
		C.free(buf)
	}
	return op, err
}

// WriteAsync writes a copy of p (one write's worth: the count may be short); done gets
// the count or an error on the loop.
func (l *Loop) WriteAsync(f *Fd, p []byte, done func(n int, err error)) (*Op, error) {
	return l.startCopiedWrite(f, p, done, func(buf unsafe.Pointer, n C.size_t, cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_write_async(l.raw, f.raw, buf, n, cb, data, op)
	})
}

// cIovecs lays out one C buffer per length, and the iovec array pointing at them, in C
// memory that lives until the operation's callback (C may keep no Go pointer).
type cIovecs struct {
	iov  *C.struct_iovec
	bufs []unsafe.Pointer
}

func newCIovecs(lens []int) *cIovecs {
	v := &cIovecs{iov: (*C.struct_iovec)(cBytes(len(lens) * C.sizeof_struct_iovec))}
	iov := unsafe.Slice(v.iov, len(lens))
	for i, n := range lens {
		b := cBytes(n)
		v.bufs = append(v.bufs, b)
		iov[i].iov_base, iov[i].iov_len = b, C.size_t(n)
	}
	return v
}

// newCIovecsOf is newCIovecs holding copies of bufs.
func newCIovecsOf(bufs [][]byte) *cIovecs {
	v := newCIovecs(bufLens(bufs))
	for i, b := range bufs {
		copy(unsafe.Slice((*byte)(v.bufs[i]), len(b)), b)
	}
	return v
}

func (v *cIovecs) free() {
	for _, b := range v.bufs {
		C.free(b)
	}
	C.free(unsafe.Pointer(v.iov))
}

// vectoredAsync starts a readv/writev-shaped operation over v; done gets the raw result
// while v is still allocated.
func (l *Loop) vectoredAsync(f *Fd, v *cIovecs, done func(int64),
	begin func(iov *C.struct_iovec, n C.int, cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int) (*Op, error) {
	op, err := l.start(func(r int64) {
		defer v.free()
		defer runtime.KeepAlive(f)
		done(r)
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		return begin(v.iov, C.int(len(v.bufs)), cb, data, op)
	})
	if err != nil {
		v.free()
	}
	return op, err
}

// ReadvAsync reads into buffers of the given lengths (preadv at off when off >= 0, else
// readv); done gets the filled buffers, cut to the n bytes read.
func (l *Loop) ReadvAsync(f *Fd, lens []int, off int64, done func(bufs [][]byte, n int, err error)) (*Op, error) {
	v := newCIovecs(lens)
	return l.vectoredAsync(f, v, func(r int64) {
		if err := resultError(r); err != nil {
			done(nil, 0, err)
			return
		}
		var bufs [][]byte
		left := int(r)
		for i, n := range lens {
			if n > left {
				n = left
			}
			bufs = append(bufs, C.GoBytes(v.bufs[i], C.int(n)))
			left -= n
		}
		done(bufs, int(r), nil)
	}, func(iov *C.struct_iovec, n C.int, cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		if off >= 0 {
			return C.fdk_preadv_async(l.raw, f.raw, iov, n, C.int64_t(off), cb, data, op)
		}
		return C.fdk_readv_async(l.raw, f.raw, iov, n, cb, data, op)
	})
}

// WritevAsync writes copies of bufs (pwritev at off when off >= 0, else writev; one
// call's worth: the count may be short); done gets the count.
func (l *Loop) WritevAsync(f *Fd, bufs [][]byte, off int64, done func(n int, err error)) (*Op, error) {
	v := newCIovecsOf(bufs)
	return l.vectoredAsync(f, v, func(r int64) { done(int(max0(r)), resultError(r)) },
		func(iov *C.struct_iovec, n C.int, cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
			if off >= 0 {
				return C.fdk_pwritev_async(l.raw, f.raw, iov, n, C.int64_t(off), cb, data, op)
			}
			return C.fdk_writev_async(l.raw, f.raw, iov, n, cb, data, op)
		})
}

// fdAsync starts an operation on f whose result is a plain number.
func (l *Loop) fdAsync(f *Fd, done func(int64),
	begin func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int) (*Op, error) {
	return l.start(func(r int64) {
		defer runtime.KeepAlive(f)
		done(r)
	}, begin)
}

// SeekAsync is lseek on the worker pool (whence: io.SeekStart, SeekCurrent, SeekEnd);
// done gets the new offset.
func (l *Loop) SeekAsync(f *Fd, offset int64, whence int, done func(int64, error)) (*Op, error) {
	var w C.int
	switch whence {
	case io.SeekStart:
		w = C.FDK_SEEK_SET
	case io.SeekCurrent:
		w = C.FDK_SEEK_CUR
	case io.SeekEnd:
		w = C.FDK_SEEK_END
	default:
		return nil, errors.New("fdkit: SeekAsync: bad whence")
	}
	return l.fdAsync(f, func(r int64) { done(max0(r), resultError(r)) },
		func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
			return C.fdk_lseek_async(l.raw, f.raw, C.int64_t(offset), w, cb, data, op)
		})
}

// SyncAsync is fsync (fdatasync when dataOnly) on the worker pool.
func (l *Loop) SyncAsync(f *Fd, dataOnly bool, done func(error)) (*Op, error) {
	var flags C.uint
	if dataOnly {
		flags = C.FDK_FSYNC_DATA
	}
	return l.fdAsync(f, func(r int64) { done(resultError(r)) },
		func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
			return C.fdk_fsync_async(l.raw, f.raw, flags, cb, data, op)
		})
}

// TruncateAsync is ftruncate on the worker pool.
func (l *Loop) TruncateAsync(f *Fd, length int64, done func(error)) (*Op, error) {
	return l.fdAsync(f, func(r int64) { done(resultError(r)) },
		func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
			return C.fdk_ftruncate_async(l.raw, f.raw, C.int64_t(length), cb, data, op)
		})
}

// GetrandomAsync fills n random bytes on the worker pool.
func (l *Loop) GetrandomAsync(n int, done func(data []byte, err error)) (*Op, error) {
	buf := cBytes(n)
	op, err := l.start(func(r int64) {
		defer C.free(buf)
		if err := resultError(r); err != nil {
			done(nil, err)
			return
		}
		done(C.GoBytes(buf, C.int(r)), nil)
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_getrandom_async(l.raw, buf, C.size_t(n), 0, cb, data, op)
	})
	if err != nil {
		C.free(buf)
	}
	return op, err
}

// SleepUntil completes once NowNs() >= deadline (never earlier), or with ECANCELED.
func (l *Loop) SleepUntil(deadline int64, done func(err error)) (*Op, error) {
	return l.start(func(r int64) { done(resultError(r)) },
		func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
			return C.fdk_sleep_until(l.raw, C.int64_t(deadline), cb, data, op)
		})
}

func max0(n int64) int64 {
	if n < 0 {
		return 0
	}
	return n
}
