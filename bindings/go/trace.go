package fdkit

/*
#include <fdkit.h>
#include "bridge.h"
*/
import "C"

import (
	"sync"
)

// Phases of a TraceEvent.
const (
	TraceBegin = C.FDK_TRACE_BEGIN
	TraceEnd   = C.FDK_TRACE_END
)

// TraceEvent is one begin or end of an fdkit operation.
type TraceEvent struct {
	Phase      int
	Name       string
	SpanID     uint64
	Fd         int
	Path       string
	Result     int64 // end: bytes, 0, or a negative errno
	Detail     string
	ThreadID   uint64
	DurationNs int64
}

var (
	traceMu   sync.Mutex
	traceHook func(TraceEvent)
)

func deliverTrace(phase int, name string, spanID uint64, fd int, path string, result int64, detail string,
	thread uint64, duration int64) {
	traceMu.Lock()
	hook := traceHook
	traceMu.Unlock()
	if hook == nil {
		return
	}
	// A panic must not unwind into C: the hook is a side channel, its panic is dropped.
	defer func() { _ = recover() }()
	hook(TraceEvent{phase, name, spanID, fd, path, result, detail, thread, duration})
}

// SetTraceHook installs hook for every operation of the process (nil removes it). It runs
// on whichever thread performs the operation, loop threads and workers included, so it
// must be safe for concurrent use. When SetTraceHook returns, the previous hook is never
// called again.
func SetTraceHook(hook func(TraceEvent)) error {
	traceMu.Lock()
	traceHook = hook
	traceMu.Unlock()
	cb := C.fdk_trace_cb(C.fdkgo_trace_cb)
	if hook == nil {
		cb = nil
	}
	_, err := call(func() int64 { return int64(C.fdk_trace_set(nil, cb, nil)) })
	return err
}
