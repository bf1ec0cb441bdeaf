// SPDX-License-Identifier: MIT
package fdkit

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// cStrings is a NULL-terminated C array of C strings; free releases all of it.
func cStrings(items []string) (arr **C.char, free func()) {
	size := C.size_t(len(items)+1) * C.size_t(unsafe.Sizeof((*C.char)(nil)))
	ptrs := unsafe.Slice((**C.char)(C.malloc(size)), len(items)+1)
	for i, s := range items {
		ptrs[i] = C.CString(s)
	}
	ptrs[len(items)] = nil
	return &ptrs[0], func() {
		for _, p := range ptrs {
			C.free(unsafe.Pointer(p))
		}
		C.free(unsafe.Pointer(&ptrs[0]))
	}
}

// ExitStatus is how a child ended: an exit code, or the signal that killed it.
type ExitStatus struct {
	Code   int            // exit code when Signal is 0
	Signal syscall.Signal // the killing signal, or 0
}

func exitStatus(kind, value C.int) ExitStatus {
	if kind == C.FDK_EXIT_SIGNAL {
		return ExitStatus{Signal: syscall.Signal(value)}
	}
	return ExitStatus{Code: int(value)}
}

// Success reports exit code 0.
func (s ExitStatus) Success() bool { return s == ExitStatus{} }

// Actions is an ordered list of fork actions run in the child, ending with an exec.
// Everything given to it is copied (handles referenced). One goroutine at a time may use
// it. Close frees it; otherwise it is freed when garbage collected.
type Actions struct {
	raw *C.fdk_actions
}

func NewActions() (*Actions, error) {
	var raw *C.fdk_actions
	if _, err := call(func() int64 { return int64(C.fdk_actions_new(&raw)) }); err != nil {
		return nil, err
	}
	a := &Actions{raw: raw}
	runtime.SetFinalizer(a, func(a *Actions) { C.fdk_actions_free(a.raw) })
	return a, nil
}

func (a *Actions) Close() error {
	runtime.SetFinalizer(a, nil)
	a.raw = C.fdk_actions_free(a.raw)
	return nil
}

func (a *Actions) add(c func() C.int) error {
	defer runtime.KeepAlive(a)
	_, err := call(func() int64 { return int64(c()) })
	return err
}

// Execvp executes file (looked up in PATH when it has no '/') with argv (argv[0]
// included); env nil passes the environment as it is at spawn time.
func (a *Actions) Execvp(file string, argv, env []string) error {
	if err := noNUL("exec", append(append([]string{file}, argv...), env...)...); err != nil {
		return err
	}
	cf := C.CString(file)
	defer C.free(unsafe.Pointer(cf))
	cargv, freeArgv := cStrings(argv)
	defer freeArgv()
	var cenv **C.char
	if env != nil {
		var freeEnv func()
		cenv, freeEnv = cStrings(env)
		defer freeEnv()
	}
	return a.add(func() C.int { return C.fdk_actions_execvp(a.raw, cf, cargv, cenv) })
}

func (a *Actions) Chdir(path string) error {
	if err := noNUL("chdir", path); err != nil {
		return err
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	return a.add(func() C.int { return C.fdk_actions_chdir(a.raw, cp) })
}

// InheritFd gives the child src as descriptor dst, blocking mode left as it is.
func (a *Actions) InheritFd(dst int, src *Fd) error {
	defer runtime.KeepAlive(src)
	return a.add(func() C.int { return C.fdk_actions_inherit_fd(a.raw, C.int(dst), src.raw, C.FDK_INHERIT_PRESERVE) })
}

func (a *Actions) Setsid() error { return a.add(func() C.int { return C.fdk_actions_setsid(a.raw) }) }

// CloseOtherFds closes every descriptor but 0, 1, 2 and the InheritFd destinations at exec.
func (a *Actions) CloseOtherFds() error {
	return a.add(func() C.int { return C.fdk_actions_close_other_fds(a.raw) })
}

// Spawn starts a child that runs the actions; collect it with Wait.
func (a *Actions) Spawn() (*Process, error) {
	var raw *C.fdk_process
	if err := a.add(func() C.int { return C.fdk_spawn(&raw, nil, a.raw, 0, nil, nil) }); err != nil {
		return nil, err
	}
	return newProcess(raw, 0), nil
}

// Spawn starts a child that runs actions; onExit runs on the loop once it has exited (not
// reaped yet: TryWait collects the status), or with ECANCELED when the loop is closed
// first. It never runs after the Process is closed. Call it on the loop's thread.
func (l *Loop) Spawn(a *Actions, onExit func(error)) (*Process, error) {
	id := exitCallbacks.add(&pending{loop: l, exitDone: onExit})
	var raw *C.fdk_process
	err := a.add(func() C.int {
		return C.fdk_spawn(&raw, l.raw, a.raw, 0, C.fdk_exit_cb(C.fdkgo_exit_cb), C.fdkgo_data(C.uintptr_t(id)))
	})
	if err != nil {
		exitCallbacks.remove(id)
		return nil, err
	}
	proc := newProcess(raw, id)
	// The table entry roots the process until its callback ran, so onExit runs even when
	// the caller keeps no reference.
	exitCallbacks.get(id).process = proc
	return proc, nil
}

// exitCallbacks holds the exit callbacks of processes spawned on a loop, by id. A Process
// may be closed by the finalizer goroutine while its loop's thread is about to call back:
// the trampoline then finds no entry and does nothing, where a deleted cgo.Handle would
// panic inside C.
var exitCallbacks = callbackTable{entries: map[uintptr]*pending{}}

type callbackTable struct {
	mu      sync.Mutex
	last    uintptr
	entries map[uintptr]*pending
}

func (t *callbackTable) add(p *pending) uintptr {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last++
	t.entries[t.last] = p
	return t.last
}

func (t *callbackTable) get(id uintptr) *pending {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.entries[id]
}

func (t *callbackTable) remove(id uintptr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, id)
}

// Process is a spawned child. Close kills (SIGKILL) and reaps a child that still runs;
// garbage collection leaves it running (see collect). Pid, Pidfd and Signal are safe for concurrent use; Wait, TryWait
// and Close one at a time.
type Process struct {
	raw    *C.fdk_process
	onExit uintptr // the exit callback's id in exitCallbacks, removed after fdk_process_free
}

func newProcess(raw *C.fdk_process, onExit uintptr) *Process {
	p := &Process{raw: raw, onExit: onExit}
	runtime.SetFinalizer(p, (*Process).collect)
	return p
}

// collect is the finalizer: as with os/exec, a collected handle leaves its child running
// (fdk_process_detach: fdkit reaps it when it exits). Until fdkit reaps detached children
// spawned without a loop, detach refuses those and Close still kills them.
func (p *Process) collect() {
	C.fdk_process_detach(p.raw)
	p.Close()
}

// Pid is the child's process id; -1 after Close, as os.Process gives after Release.
func (p *Process) Pid() int {
	defer runtime.KeepAlive(p)
	if p.raw == nil {
		return -1
	}
	return int(C.fdk_process_pid(p.raw))
}

// Pidfd is the process's pidfd, owned by p (valid until Close); ENOTSUP where the kernel
// has none.
func (p *Process) Pidfd() (int, error) {
	defer runtime.KeepAlive(p)
	if p.raw == nil {
		return -1, ErrClosed
	}
	r, err := call(func() int64 { return int64(C.fdk_process_pidfd(p.raw)) })
	return int(r), err
}

// Signal sends sig (0 only checks); ESRCH once the child has been reaped.
func (p *Process) Signal(sig syscall.Signal) error {
	defer runtime.KeepAlive(p)
	if p.raw == nil {
		return ErrClosed
	}
	_, err := call(func() int64 { return int64(C.fdk_process_signal(p.raw, C.int(sig))) })
	return err
}

// Wait waits for the child to exit and reaps it; later calls give the same status.
func (p *Process) Wait() (ExitStatus, error) {
	defer runtime.KeepAlive(p)
	if p.raw == nil {
		return ExitStatus{}, ErrClosed
	}
	var st C.fdk_exit_status
	if _, err := call(func() int64 { return int64(C.fdk_process_wait(p.raw, &st)) }); err != nil {
		return ExitStatus{}, err
	}
	return exitStatus(C.int(st.kind), C.int(st.value)), nil
}

// TryWait reports (status, true) if the child has exited (it is reaped then).
func (p *Process) TryWait() (ExitStatus, bool, error) {
	defer runtime.KeepAlive(p)
	if p.raw == nil {
		return ExitStatus{}, false, ErrClosed
	}
	var st C.fdk_exit_status
	r, err := call(func() int64 { return int64(C.fdk_process_try_wait(p.raw, &st)) })
	if err != nil || r == 0 {
		return ExitStatus{}, false, err
	}
	return exitStatus(C.int(st.kind), C.int(st.value)), true, nil
}

// Close kills (SIGKILL) and reaps a child that still runs and frees the handle; a second
// Close does nothing.
func (p *Process) Close() error {
	runtime.SetFinalizer(p, nil)
	p.raw = C.fdk_process_free(p.raw)
	if p.onExit != 0 {
		exitCallbacks.remove(p.onExit)
		p.onExit = 0
	}
	return nil
}
