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
	return l.start(func(r int64) {
		defer C.free(buf)
		defer runtime.KeepAlive(f) // the *Fd, and its reference, live until the callback
		if err := resultError(r); err != nil {
			done(nil, err)
			return
		}
		done(C.GoBytes(buf, C.int(r)), nil)
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		r := C.fdk_read_async(l.raw, f.raw, buf, C.size_t(n), cb, data, op)
		if r < 0 {
			C.free(buf)
		}
		return r
	})
}

// WriteAsync writes a copy of p (one write's worth: the count may be short); done gets
// the count or an error on the loop.
func (l *Loop) WriteAsync(f *Fd, p []byte, done func(n int, err error)) (*Op, error) {
	buf := cBytes(len(p))
	copy(unsafe.Slice((*byte)(buf), len(p)), p)
	return l.start(func(r int64) {
		defer C.free(buf)
		defer runtime.KeepAlive(f)
		done(int(max0(r)), resultError(r))
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		r := C.fdk_write_async(l.raw, f.raw, buf, C.size_t(len(p)), cb, data, op)
		if r < 0 {
			C.free(buf)
		}
		return r
	})
}

// GetrandomAsync fills n random bytes on the worker pool.
func (l *Loop) GetrandomAsync(n int, done func(data []byte, err error)) (*Op, error) {
	buf := cBytes(n)
	return l.start(func(r int64) {
		defer C.free(buf)
		if err := resultError(r); err != nil {
			done(nil, err)
			return
		}
		done(C.GoBytes(buf, C.int(r)), nil)
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		r := C.fdk_getrandom_async(l.raw, buf, C.size_t(n), 0, cb, data, op)
		if r < 0 {
			C.free(buf)
		}
		return r
	})
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

// cIovecs is a C array of iovecs over copies of bufs (or fresh buffers of the same sizes
// when copyIn is false); free them with freeIovecs.
func cIovecs(bufs [][]byte, copyIn bool) *C.struct_iovec {
	iov := (*C.struct_iovec)(C.calloc(C.size_t(len(bufs)+1), C.size_t(unsafe.Sizeof(C.struct_iovec{}))))
	vs := unsafe.Slice(iov, len(bufs))
	for i, b := range bufs {
		vs[i].iov_base = cBytes(len(b))
		vs[i].iov_len = C.size_t(len(b))
		if copyIn {
			copy(unsafe.Slice((*byte)(vs[i].iov_base), len(b)), b)
		}
	}
	return iov
}

func freeIovecs(iov *C.struct_iovec, n int) {
	for _, v := range unsafe.Slice(iov, n) {
		C.free(v.iov_base)
	}
	C.free(unsafe.Pointer(iov))
}

// ReadvAsync scatters into len(bufs) buffers of the sizes of bufs; done gets them filled
// (each cut to what it received) or an error.
func (l *Loop) ReadvAsync(f *Fd, bufs [][]byte, done func(data [][]byte, err error)) (*Op, error) {
	iov := cIovecs(bufs, false)
	return l.start(func(r int64) {
		defer freeIovecs(iov, len(bufs))
		defer runtime.KeepAlive(f)
		if err := resultError(r); err != nil {
			done(nil, err)
			return
		}
		out := make([][]byte, len(bufs))
		left := int(r)
		for i, v := range unsafe.Slice(iov, len(bufs)) {
			n := int(v.iov_len)
			if n > left {
				n = left
			}
			out[i] = C.GoBytes(v.iov_base, C.int(n))
			left -= n
		}
		done(out, nil)
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		r := C.fdk_readv_async(l.raw, f.raw, iov, C.int(len(bufs)), cb, data, op)
		if r < 0 {
			freeIovecs(iov, len(bufs))
		}
		return r
	})
}

// WritevAsync gathers copies of bufs into one write; done gets the count or an error.
func (l *Loop) WritevAsync(f *Fd, bufs [][]byte, done func(n int, err error)) (*Op, error) {
	iov := cIovecs(bufs, true)
	return l.start(func(r int64) {
		defer freeIovecs(iov, len(bufs))
		defer runtime.KeepAlive(f)
		done(int(max0(r)), resultError(r))
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		r := C.fdk_writev_async(l.raw, f.raw, iov, C.int(len(bufs)), cb, data, op)
		if r < 0 {
			freeIovecs(iov, len(bufs))
		}
		return r
	})
}

// ReadAtAsync reads up to n bytes at off without moving the file position.
func (l *Loop) ReadAtAsync(f *Fd, n int, off int64, done func(data []byte, err error)) (*Op, error) {
	iov := cIovecs([][]byte{make([]byte, n)}, false)
	return l.start(func(r int64) {
		defer freeIovecs(iov, 1)
		defer runtime.KeepAlive(f)
		if err := resultError(r); err != nil {
			done(nil, err)
			return
		}
		done(C.GoBytes(iov.iov_base, C.int(r)), nil)
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		r := C.fdk_preadv_async(l.raw, f.raw, iov, 1, C.int64_t(off), cb, data, op)
		if r < 0 {
			freeIovecs(iov, 1)
		}
		return r
	})
}

// WriteAtAsync writes a copy of p at off without moving the file position.
func (l *Loop) WriteAtAsync(f *Fd, p []byte, off int64, done func(n int, err error)) (*Op, error) {
	iov := cIovecs([][]byte{p}, true)
	return l.start(func(r int64) {
		defer freeIovecs(iov, 1)
		defer runtime.KeepAlive(f)
		done(int(max0(r)), resultError(r))
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		r := C.fdk_pwritev_async(l.raw, f.raw, iov, 1, C.int64_t(off), cb, data, op)
		if r < 0 {
			freeIovecs(iov, 1)
		}
		return r
	})
}

// SeekAsync moves the file position on the worker pool; done gets the new offset.
func (l *Loop) SeekAsync(f *Fd, offset int64, whence int, done func(off int64, err error)) (*Op, error) {
	return l.start(func(r int64) {
		defer runtime.KeepAlive(f)
		done(max0(r), resultError(r))
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_lseek_async(l.raw, f.raw, C.int64_t(offset), C.int(whence), cb, data, op)
	})
}

// SyncAsync is fsync (fdatasync when dataOnly) on the worker pool.
func (l *Loop) SyncAsync(f *Fd, dataOnly bool, done func(err error)) (*Op, error) {
	flags := C.uint(0)
	if dataOnly {
		flags = C.FDK_FSYNC_DATA
	}
	return l.start(func(r int64) {
		defer runtime.KeepAlive(f)
		done(resultError(r))
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_fsync_async(l.raw, f.raw, flags, cb, data, op)
	})
}

// TruncateAsync is ftruncate on the worker pool.
func (l *Loop) TruncateAsync(f *Fd, length int64, done func(err error)) (*Op, error) {
	return l.start(func(r int64) {
		defer runtime.KeepAlive(f)
		done(resultError(r))
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_ftruncate_async(l.raw, f.raw, C.int64_t(length), cb, data, op)
	})
}
