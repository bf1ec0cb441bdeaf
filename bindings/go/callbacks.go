// SPDX-License-Identifier: MIT
package fdkit

// The functions C calls back. A file with //export may only declare in its preamble.

/*
#include <stdint.h>
#include <fdkit.h>
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

//export fdkgoResult
func fdkgoResult(result C.int64_t, data C.uintptr_t) {
	h := cgo.Handle(data)
	p := h.Value().(*pending)
	h.Delete()
	p.op.raw = nil
	p.deliver(func() { p.done(int64(result)) })
}

//export fdkgoPost
func fdkgoPost(data C.uintptr_t) {
	h := cgo.Handle(data)
	p := h.Value().(*pending)
	h.Delete()
	p.deliver(p.post)
}

//export fdkgoRun
func fdkgoRun(result C.int, res *C.fdk_run_result, data C.uintptr_t) {
	h := cgo.Handle(data)
	p := h.Value().(*pending)
	h.Delete()
	p.op.raw = nil
	// The result is copied and freed before the callback runs, so a panic cannot leak it.
	out, err := takeRunResult(int64(result), res)
	p.deliver(func() { p.runDone(out, err) })
}

//export fdkgoFd
func fdkgoFd(result C.int, fd *C.fdk_fd, data C.uintptr_t) {
	h := cgo.Handle(data)
	p := h.Value().(*pending)
	h.Delete()
	p.op.raw = nil
	// Wrapped before the callback runs, so a panic cannot leak the handle.
	var f *Fd
	err := resultError(int64(result))
	if err == nil {
		f = wrapFd(fd)
	}
	p.deliver(func() { p.fdDone(f, err) })
}

//export fdkgoExit
func fdkgoExit(result C.int, data C.uintptr_t) {
	// The entry belongs to the Process, which removes it after fdk_process_free.
	p := exitCallbacks.get(uintptr(data))
	if p == nil {
		return
	}
	exitCallbacks.remove(uintptr(data)) // it runs once: the process may be collected now
	err := resultError(int64(result))
	p.deliver(func() { p.exitDone(err) })
}

//export fdkgoTrace
func fdkgoTrace(event *C.fdk_trace_event, data C.uintptr_t) {
	deliverTrace(event, cgo.Handle(data))
}

//export fdkgoPtr
func fdkgoPtr(result C.int64_t, ptr unsafe.Pointer, data C.uintptr_t) {
	h := cgo.Handle(data)
	p := h.Value().(*pending)
	h.Delete()
	p.op.raw = nil
	// ptrDone takes ownership of ptr (frees or wraps it) before it calls the user's callback,
	// so a panic there cannot leak it.
	p.deliver(func() { p.ptrDone(int64(result), ptr) })
}

//export fdkgoEarlyExit
func fdkgoEarlyExit(out unsafe.Pointer, n C.size_t, data C.uintptr_t) C.int {
	if cgo.Handle(data).Value().(*earlyExit).check(out, int(n)) {
		return 1
	}
	return 0
}
