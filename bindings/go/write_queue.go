// SPDX-License-Identifier: MIT
package fdkit

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// WriteAllAsync writes a copy of p completely: done gets len(p) once every byte is
// written, or an error. Writes on one handle are queued in submission order and never
// interleave (fdk_write_all_async).
func (l *Loop) WriteAllAsync(f *Fd, p []byte, done func(n int, err error)) (*Op, error) {
	return l.startCopiedWrite(f, p, done, func(buf unsafe.Pointer, n C.size_t, cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_write_all_async(l.raw, f.raw, buf, n, cb, data, op)
	})
}

// WritevAllAsync is WriteAllAsync of copies of bufs, written in order as one write: done
// gets their total length, or an error.
func (l *Loop) WritevAllAsync(f *Fd, bufs [][]byte, done func(n int, err error)) (*Op, error) {
	return l.vectoredAsync(f, newCIovecsOf(bufs), func(r int64) { done(int(max0(r)), resultError(r)) },
		func(iov *C.struct_iovec, n C.int, cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
			return C.fdk_writev_all_async(l.raw, f.raw, iov, n, cb, data, op)
		})
}

// startCopiedWrite starts a write of a C copy of p through call (fdk_write_async or
// fdk_write_all_async); the copy lives until done has run.
func (l *Loop) startCopiedWrite(f *Fd, p []byte, done func(n int, err error),
	call func(buf unsafe.Pointer, n C.size_t, cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int) (*Op, error) {
	buf := cBytes(len(p))
	copy(unsafe.Slice((*byte)(buf), len(p)), p)
	op, err := l.start(func(r int64) {
		defer C.free(buf)
		defer runtime.KeepAlive(f)
		done(int(max0(r)), resultError(r))
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		return call(buf, C.size_t(len(p)), cb, data, op)
	})
	if err != nil {
		C.free(buf)
	}
	return op, err
}

// WriteQueueSize is the number of bytes queued on f by WriteAllAsync and not yet written
// (back-pressure).
func (l *Loop) WriteQueueSize(f *Fd) (int64, error) {
	if l.raw == nil {
		return 0, ErrClosed
	}
	r := int64(C.fdk_write_queue_size(l.raw, f.raw))
	runtime.KeepAlive(f)
	return max0(r), resultError(r)
}
