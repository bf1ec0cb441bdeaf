// SPDX-License-Identifier: MIT
package fdkit

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// Phases of a TraceEvent.
const (
	TraceBegin = C.FDK_TRACE_BEGIN
	TraceEnd   = C.FDK_TRACE_END
)

// TraceEvent is one begin or end of an operation's span.
type TraceEvent struct {
	Phase    int    // TraceBegin or TraceEnd
	Name     string // "read", "openat", "spawn"...
	SpanID   uint64 // the same in a span's begin and end
	Fd       int    // the descriptor involved, or -1
	Path     string // the path involved, or ""
	Result   int64  // end: bytes, 0 or a negative errno; begin: 0
	Detail   string // end: extra facts, or ""
	ThreadID uint64
	TimeNs   int64
	Duration time.Duration // end: time since the begin
}

var (
	traceMu   sync.Mutex // held across fdk_trace_set, after which a replaced hook is never called
	traceHook cgo.Handle
	traceData unsafe.Pointer // traceHook boxed (boxHandle), the hook's data pointer
)

func goStringOrEmpty(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

func deliverTrace(e *C.fdk_trace_event, h cgo.Handle) {
	ev := TraceEvent{
		Phase:    int(e.phase),
		Name:     goStringOrEmpty(e.name),
		SpanID:   uint64(e.span_id),
		Fd:       int(e.fd),
		Path:     goStringOrEmpty(e.path),
		Result:   int64(e.result),
		Detail:   goStringOrEmpty(e.detail),
		ThreadID: uint64(e.thread_id),
		TimeNs:   int64(e.time_ns),
		Duration: time.Duration(e.duration_ns),
	}
	// The hook runs on whatever thread does the operation, with no caller to give a panic
	// to: it is dropped rather than unwound into C.
	defer func() { _ = recover() }()
	h.Value().(func(*TraceEvent))(&ev)
}

func setTrace(hook func(*TraceEvent)) error {
	traceMu.Lock()
	defer traceMu.Unlock()
	var h cgo.Handle
	var cb C.fdk_trace_cb
	var data unsafe.Pointer
	if hook != nil {
		h = cgo.NewHandle(hook)
		cb, data = C.fdk_trace_cb(C.fdkgo_trace_cb), boxHandle(uintptr(h))
	}
	if _, err := call(func() int64 { return int64(C.fdk_trace_set(nil, cb, data)) }); err != nil {
		if hook != nil {
			C.free(data)
			h.Delete()
		}
		return err
	}
	if traceHook != 0 {
		C.free(traceData)
		traceHook.Delete()
	}
	traceHook, traceData = h, data
	return nil
}

// SetTraceHook installs hook for every fdkit operation in the process, replacing any
// earlier one. It runs on the thread doing the operation (a loop, a worker, a caller), so
// it must be safe for concurrent use; operations it starts produce no events. It must not
// call SetTraceHook or ClearTraceHook: they wait for running hook calls to return. A panic
// in it is recovered and dropped.
func SetTraceHook(hook func(*TraceEvent)) error { return setTrace(hook) }

// ClearTraceHook removes the hook; when it returns, the hook is no longer called.
func ClearTraceHook() error { return setTrace(nil) }
