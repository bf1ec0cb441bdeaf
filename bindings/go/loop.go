// SPDX-License-Identifier: MIT
package fdkit

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// Run modes of Loop.Run.
const (
	RunDefault = C.FDK_RUN_DEFAULT // until nothing is pending or Stop
	RunOnce    = C.FDK_RUN_ONCE    // wait for events once, run their callbacks
	RunNoWait  = C.FDK_RUN_NOWAIT  // run what is ready without waiting
)

// Loop is an fdkit event loop. Every method but Post and Remote must be called from the OS
// thread that runs it (runtime.LockOSThread). After Close, Run, BackendFd and every
// asynchronous call return ErrClosed.
type Loop struct {
	raw *C.fdk_loop
	// Post goes through remote, never raw: the remote outlives the loop, so a goroutine
	// posting while another closes the loop gets ESHUTDOWN. Set once; dropped by the
	// finalizer, when no goroutine can be posting any more.
	remote   *C.fdk_loop_remote
	panicked interface{} // first panic of a callback, re-raised by Run
	hasPanic bool
}

// NewLoop creates a loop for the calling OS thread (lock it first: runtime.LockOSThread).
func NewLoop() (*Loop, error) {
	var raw *C.fdk_loop
	if _, err := call(func() int64 { return int64(C.fdk_loop_new(&raw)) }); err != nil {
		return nil, err
	}
	var remote *C.fdk_loop_remote
	if _, err := call(func() int64 { return int64(C.fdk_loop_remote_new(&remote, raw)) }); err != nil {
		C.fdk_loop_free(raw)
		return nil, err
	}
	l := &Loop{raw: raw, remote: remote}
	runtime.SetFinalizer(l, func(l *Loop) { C.fdk_loop_remote_unref(l.remote) })
	return l, nil
}

// Close completes every pending operation with ECANCELED (their callbacks run) and frees
// the loop. Panics of those callbacks are dropped.
func (l *Loop) Close() error {
	if l.raw == nil {
		return nil
	}
	_, err := call(func() int64 { return int64(C.fdk_loop_free(l.raw)) })
	if err == nil {
		l.raw = nil
	}
	l.panicked, l.hasPanic = nil, false
	return err
}

// Run runs callbacks; it reports whether operations are still pending. A panic raised by
// a callback stops the loop and is raised again here.
func (l *Loop) Run(mode int) (bool, error) {
	if l.raw == nil {
		return false, ErrClosed
	}
	r, err := call(func() int64 { return int64(C.fdk_loop_run(l.raw, C.int(mode))) })
	if l.hasPanic {
		p := l.panicked
		l.panicked, l.hasPanic = nil, false
		panic(p)
	}
	return r > 0, err
}

// Stop makes the current (or next) Run return early.
func (l *Loop) Stop() { C.fdk_loop_stop(l.raw) }

// BackendFd is the descriptor a host with its own event loop polls before Run(RunNoWait).
func (l *Loop) BackendFd() (int, error) {
	if l.raw == nil {
		return -1, ErrClosed
	}
	r, err := call(func() int64 { return int64(C.fdk_loop_backend_fd(l.raw)) })
	return int(r), err
}

// BackendTimeout is how many milliseconds the host may wait; -1 when no timer is due (also
// after Close).
func (l *Loop) BackendTimeout() int {
	if l.raw == nil {
		return -1
	}
	return int(C.fdk_loop_backend_timeout(l.raw))
}

// Post queues fn to run on the loop's thread. Safe from any goroutine, also while another
// closes the loop: fn then either runs (during Close at the latest) or Post fails with an
// error wrapping ESHUTDOWN.
func (l *Loop) Post(fn func()) error {
	defer runtime.KeepAlive(l)
	return remotePost(l.remote, l, fn)
}

// Remote is a handle for posting to a loop from other goroutines that need not keep the
// *Loop itself: it holds its own reference to the loop's fdk_loop_remote, which outlives
// the loop (posting then fails with ESHUTDOWN). Safe for concurrent use.
type Remote struct {
	raw  *C.fdk_loop_remote
	loop *Loop // for the callbacks' panic handling; never used to reach C
}

// Remote returns a new Remote of l, dropped by Close or when garbage collected.
func (l *Loop) Remote() *Remote {
	defer runtime.KeepAlive(l)
	r := &Remote{raw: C.fdk_loop_remote_ref(l.remote), loop: l}
	runtime.SetFinalizer(r, func(r *Remote) { C.fdk_loop_remote_unref(r.raw) })
	return r
}

// Post is Loop.Post.
func (r *Remote) Post(fn func()) error {
	defer runtime.KeepAlive(r)
	if r.raw == nil {
		return ErrClosed
	}
	return remotePost(r.raw, r.loop, fn)
}

// Close drops the reference; later posts fail with ErrClosed. Not concurrently with Post.
func (r *Remote) Close() error {
	runtime.SetFinalizer(r, nil)
	r.raw = C.fdk_loop_remote_unref(r.raw)
	return nil
}

func remotePost(remote *C.fdk_loop_remote, l *Loop, fn func()) error {
	h := cgo.NewHandle(&pending{loop: l, post: fn})
	data := boxHandle(uintptr(h))
	_, err := call(func() int64 {
		return int64(C.fdk_loop_remote_post(remote, C.fdk_post_fn(C.fdkgo_post_fn), data))
	})
	if err != nil {
		C.free(data)
		h.Delete()
	}
	return err
}

// boxHandle is a callback's data pointer: a C block holding a handle's integer (see
// bridge.h). One-shot trampolines free it; a start that fails leaves it to the caller.
func boxHandle(h uintptr) unsafe.Pointer {
	box := (*C.uintptr_t)(C.malloc(C.sizeof_uintptr_t))
	*box = C.uintptr_t(h)
	return unsafe.Pointer(box)
}

// Op is a pending operation. Its methods must be called on the loop's thread.
type Op struct {
	raw *C.fdk_op // nil once the callback ran
}

// Pending reports whether the callback has not run yet.
func (o *Op) Pending() bool { return o.raw != nil }

// Cancel asks the operation to complete with ECANCELED; false if it already completed.
func (o *Op) Cancel() bool { return o.raw != nil && C.fdk_op_cancel(o.raw) == 0 }

type pending struct {
	loop     *Loop
	op       *Op
	done     func(result int64)
	post     func()
	runDone  func(*RunResult, error)
	fdDone   func(*Fd, error)
	exitDone func(error)
	ptrDone  func(result int64, ptr unsafe.Pointer) // fdkgo_dir_cb, _text_cb, _dirents_cb, _addrinfo_cb
	process  *Process                               // a spawn's, kept alive until its exit callback ran
}

// start begins an asynchronous operation: begin calls the C *_async function with the
// callback, its data and the op out-pointer; done runs on the loop with the raw result.
// done must keep alive (and free) whatever the operation uses.
func (l *Loop) start(done func(int64), begin func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int) (*Op, error) {
	return l.startPending(&pending{done: done}, func(data unsafe.Pointer, op **C.fdk_op) C.int {
		return begin(C.fdk_result_cb(C.fdkgo_result_cb), data, op)
	})
}

// startPending is start for any callback shape: begin passes its own trampoline, which
// finds p through the handle in data.
func (l *Loop) startPending(p *pending, begin func(data unsafe.Pointer, op **C.fdk_op) C.int) (*Op, error) {
	if l.raw == nil {
		return nil, ErrClosed
	}
	p.loop, p.op = l, &Op{}
	h := cgo.NewHandle(p)
	data := boxHandle(uintptr(h))
	var raw *C.fdk_op
	_, err := call(func() int64 { return int64(begin(data, &raw)) })
	if err != nil {
		C.free(data)
		h.Delete()
		return nil, err
	}
	p.op.raw = raw
	return p.op, nil
}

// deliver runs a callback without letting a panic unwind into C: the first one is kept
// for Run and the loop stops.
func (p *pending) deliver(f func()) {
	defer func() {
		if r := recover(); r != nil {
			if !p.loop.hasPanic {
				p.loop.panicked, p.loop.hasPanic = r, true
			}
			C.fdk_loop_stop(p.loop.raw)
		}
	}()
	f()
}
