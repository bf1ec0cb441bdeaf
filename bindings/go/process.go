// SPDX-License-Identifier: MIT
package fdkit

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"io/fs"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// Blocking modes of an inherited descriptor (InheritFdMode, InheritRaw). The mode belongs
// to the open file description the parent shares: changing it changes it for both.
const (
	InheritPreserve    = C.FDK_INHERIT_PRESERVE    // leave the mode alone
	InheritBlocking    = C.FDK_INHERIT_BLOCKING    // clear O_NONBLOCK in the child
	InheritNonBlocking = C.FDK_INHERIT_NONBLOCKING // set O_NONBLOCK in the child
)

// Spawn backends (Actions.Backend, RunOptions.Backend).
const (
	BackendAuto       = C.FDK_SPAWN_BACKEND_AUTO        // vfork-style clone on a cached stack
	BackendFork       = C.FDK_SPAWN_BACKEND_FORK        // fork(), then the same child code
	BackendPosixSpawn = C.FDK_SPAWN_BACKEND_POSIX_SPAWN // ENOTSUP for actions it cannot express
)

// RlimInfinity is the "no limit" value of Actions.Rlimit.
const RlimInfinity = uint64(C.FDK_RLIM_INFINITY)

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
// it. Close frees it; otherwise it is freed when garbage collected. The child runs no Go
// code: every action is carried out by fdkit's system-call-only child code.
type Actions struct {
	raw     *C.fdk_actions
	Backend uint // how Spawn creates the child: BackendAuto (the zero value), BackendFork, BackendPosixSpawn
}

// NewActions is an empty action list.
func NewActions() (*Actions, error) {
	var raw *C.fdk_actions
	if _, err := call(func() int64 { return int64(C.fdk_actions_new(&raw)) }); err != nil {
		return nil, err
	}
	a := &Actions{raw: raw}
	runtime.SetFinalizer(a, func(a *Actions) { C.fdk_actions_free(a.raw) })
	return a, nil
}

// Close frees the list and drops its references to handles; a second Close does nothing.
func (a *Actions) Close() error {
	runtime.SetFinalizer(a, nil)
	a.raw = C.fdk_actions_free(a.raw)
	return nil
}

func (a *Actions) add(c func() C.int) error {
	defer runtime.KeepAlive(a)
	if a.raw == nil {
		return ErrClosed
	}
	_, err := call(func() int64 { return int64(c()) })
	return err
}

// Execvp executes file (looked up in PATH when it has no '/', in the parent at spawn time)
// with argv (argv[0] included); env nil passes the environment as it is at spawn time.
func (a *Actions) Execvp(file string, argv, env []string) error {
	return a.exec(file, argv, env, func(f *C.char, argv, env **C.char) C.int { return C.fdk_actions_execvp(a.raw, f, argv, env) })
}

// Execve executes path as given (no PATH search); otherwise as Execvp.
func (a *Actions) Execve(path string, argv, env []string) error {
	return a.exec(path, argv, env, func(f *C.char, argv, env **C.char) C.int { return C.fdk_actions_execve(a.raw, f, argv, env) })
}

func (a *Actions) exec(file string, argv, env []string, c func(f *C.char, argv, env **C.char) C.int) error {
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
	return a.add(func() C.int { return c(cf, cargv, cenv) })
}

// Fchdir changes the child's directory to the one dir refers to (a handle closed by spawn
// time fails the spawn with EBADF). It uses dir's number in the parent: add it before an
// InheritFd whose destination could take that number.
func (a *Actions) Fchdir(dir *Fd) error {
	defer runtime.KeepAlive(dir)
	return a.add(func() C.int { return C.fdk_actions_fchdir(a.raw, dir.raw) })
}

// InheritFdMode is InheritFd with a blocking mode: InheritPreserve, InheritBlocking or
// InheritNonBlocking.
func (a *Actions) InheritFdMode(dst int, src *Fd, mode int) error {
	defer runtime.KeepAlive(src)
	return a.add(func() C.int { return C.fdk_actions_inherit_fd(a.raw, C.int(dst), src.raw, C.int(mode)) })
}

// InheritRaw gives the child descriptor number src as dst; the caller keeps src open until
// the spawn returned (fdkit never closes it).
func (a *Actions) InheritRaw(dst, src, mode int) error {
	return a.add(func() C.int { return C.fdk_actions_inherit_raw(a.raw, C.int(dst), C.int(src), C.int(mode)) })
}

// LoginTty makes the child lead a new session with tty as its controlling terminal (as
// BSD's login_tty); mapping tty onto 0, 1 and 2 stays InheritFd's job, added after it.
// EINVAL with Setsid or Setpgid in the same list; a tty that is no terminal fails the spawn
// with ENOTTY.
func (a *Actions) LoginTty(tty *Fd) error {
	defer runtime.KeepAlive(tty)
	return a.add(func() C.int { return C.fdk_actions_login_tty(a.raw, tty.raw) })
}

// Setpgid puts the child in process group pgid; 0 makes it lead a new one.
func (a *Actions) Setpgid(pgid int) error {
	return a.add(func() C.int { return C.fdk_actions_setpgid(a.raw, C.int32_t(pgid)) })
}

// Setuid sets the child's user id. Setuid, Setgid and Setgroups make the raw system calls
// in the child only (the spawn fails with EPERM when the caller may not take those ids). Add
// Setgroups and Setgid before Setuid.
func (a *Actions) Setuid(uid uint32) error {
	return a.add(func() C.int { return C.fdk_actions_setuid(a.raw, C.uint32_t(uid)) })
}

// Setgid sets the child's group id (see Setuid).
func (a *Actions) Setgid(gid uint32) error {
	return a.add(func() C.int { return C.fdk_actions_setgid(a.raw, C.uint32_t(gid)) })
}

// Setgroups sets the supplementary groups (an empty list clears them).
func (a *Actions) Setgroups(gids []uint32) error {
	var p *C.uint32_t
	if len(gids) > 0 {
		p = (*C.uint32_t)(unsafe.Pointer(&gids[0])) // copied by the call; holds no pointers
	}
	defer runtime.KeepAlive(gids)
	return a.add(func() C.int { return C.fdk_actions_setgroups(a.raw, C.size_t(len(gids)), p) })
}

// Umask sets the child's file mode creation mask (permission bits only: EINVAL otherwise).
func (a *Actions) Umask(mask fs.FileMode) error {
	return a.add(func() C.int { return C.fdk_actions_umask(a.raw, C.uint32_t(mask)) })
}

// Rlimit sets resource limit resource (syscall.RLIMIT_*; RlimInfinity for none). A hard limit
// above the caller's fails the spawn with EPERM.
func (a *Actions) Rlimit(resource int, soft, hard uint64) error {
	return a.add(func() C.int { return C.fdk_actions_rlimit(a.raw, C.int(resource), C.uint64_t(soft), C.uint64_t(hard)) })
}

// Pdeathsig asks the kernel to send sig to the child when the thread that spawned it exits
// (Linux). Go ends an OS thread when a goroutine exits while locked to it (never the main
// thread), and otherwise keeps threads alive: spawn from a goroutine locked with
// runtime.LockOSThread for as long as the child should live, as
// syscall.SysProcAttr.Pdeathsig requires.
func (a *Actions) Pdeathsig(sig syscall.Signal) error {
	return a.add(func() C.int { return C.fdk_actions_pdeathsig(a.raw, C.int(sig)) })
}

// NoNewPrivs sets PR_SET_NO_NEW_PRIVS: exec grants no privilege (setuid bits are ignored).
func (a *Actions) NoNewPrivs() error {
	return a.add(func() C.int { return C.fdk_actions_no_new_privs(a.raw) })
}

// SignalDefault sets sig to its default disposition in the child; SignalIgnore ignores it
// (EINVAL for SIGKILL, SIGSTOP or a bad number). Without them, handled
// signals go back to default, ignored ones stay ignored except SIGPIPE and SIGXFSZ.
func (a *Actions) SignalDefault(sig syscall.Signal) error {
	return a.add(func() C.int { return C.fdk_actions_signal_default(a.raw, C.int(sig)) })
}

// SignalIgnore ignores sig in the child (see SignalDefault).
func (a *Actions) SignalIgnore(sig syscall.Signal) error {
	return a.add(func() C.int { return C.fdk_actions_signal_ignore(a.raw, C.int(sig)) })
}

// Chdir changes the child's directory to path (copied).
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

// Setsid makes the child lead a new session and process group.
func (a *Actions) Setsid() error { return a.add(func() C.int { return C.fdk_actions_setsid(a.raw) }) }

// CloseOtherFds closes every descriptor but 0, 1, 2 and the InheritFd destinations at exec.
func (a *Actions) CloseOtherFds() error {
	return a.add(func() C.int { return C.fdk_actions_close_other_fds(a.raw) })
}

// Spawn starts a child that runs the actions; collect it with Wait.
func (a *Actions) Spawn() (*Process, error) {
	var raw *C.fdk_process
	if err := a.add(func() C.int { return C.fdk_spawn(&raw, nil, a.raw, C.uint(a.Backend), nil, nil) }); err != nil {
		return nil, err
	}
	return newProcess(raw, 0), nil
}

// Spawn starts a child that runs actions; onExit runs on the loop once it has exited (not
// reaped yet: TryWait collects the status), or with ECANCELED when the loop is closed
// first. It never runs after the Process is closed. Call it on the loop's thread.
func (l *Loop) Spawn(a *Actions, onExit func(error)) (*Process, error) {
	if l.raw == nil {
		return nil, ErrClosed
	}
	id := exitCallbacks.add(&pending{loop: l, exitDone: onExit})
	data := boxHandle(id)
	var raw *C.fdk_process
	err := a.add(func() C.int {
		return C.fdk_spawn(&raw, l.raw, a.raw, C.uint(a.Backend), C.fdk_exit_cb(C.fdkgo_exit_cb), data)
	})
	if err != nil {
		C.free(data)
		exitCallbacks.remove(id)
		return nil, err
	}
	proc := newProcess(raw, id)
	proc.exitData = data
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
// Release and garbage collection leave it running (fdkit reaps it when it exits). Pid,
// Pidfd, Signal and SignalGroup are safe for concurrent use; Wait, TryWait, Release and
// Close one at a time.
type Process struct {
	raw    *C.fdk_process
	onExit uintptr // the exit callback's id in exitCallbacks, removed after fdk_process_free
	// exitData is onExit boxed (boxHandle), the exit callback's data pointer, freed after
	// fdk_process_free (the callback never runs afterwards).
	exitData unsafe.Pointer
	usage    *Rusage // the reaped child's, from Wait or TryWait
}

func newProcess(raw *C.fdk_process, onExit uintptr) *Process {
	p := &Process{raw: raw, onExit: onExit}
	runtime.SetFinalizer(p, (*Process).collect)
	return p
}

// collect is the finalizer: as with os/exec, a collected handle leaves its child running.
func (p *Process) collect() { p.Release() }

// Release frees the handle and leaves the child running, as os.Process.Release does; fdkit
// still reaps it when it exits (never a zombie): on its loop, or for a child spawned without
// one at later spawns and waits, or ReapDetached. An exit callback of Loop.Spawn no longer
// runs. Later calls fail with ErrClosed.
func (p *Process) Release() error {
	if p.raw != nil {
		C.fdk_process_detach(p.raw)
	}
	return p.Close()
}

// ReapDetached reaps the released children spawned without a loop that have exited, and
// returns how many still run (for a host that spawns rarely: from a timer or at exit).
func ReapDetached() (int, error) {
	r, err := call(func() int64 { return int64(C.fdk_process_reap_detached()) })
	return int(r), err
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

// SignalGroup sends sig to the process group the child leads (after Setsid or Setpgid(0));
// ESRCH when there is none or the child has been reaped.
func (p *Process) SignalGroup(sig syscall.Signal) error {
	defer runtime.KeepAlive(p)
	if p.raw == nil {
		return ErrClosed
	}
	_, err := call(func() int64 { return int64(C.fdk_process_signal_group(p.raw, C.int(sig))) })
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
	return p.reaped(&st), nil
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
	return p.reaped(&st), true, nil
}

func (p *Process) reaped(st *C.fdk_exit_status) ExitStatus {
	usage := goRusage(&st.usage)
	p.usage = &usage
	return exitStatus(C.int(st.kind), C.int(st.value))
}

// Usage is the resource usage of the reaped child (its own, not its descendants'), as
// os.ProcessState.SysUsage gives it; false before Wait or TryWait reported the exit.
func (p *Process) Usage() (Rusage, bool) {
	if p.usage == nil {
		return Rusage{}, false
	}
	return *p.usage, true
}

// Close kills (SIGKILL) and reaps a child that still runs and frees the handle; a second
// Close does nothing.
func (p *Process) Close() error {
	runtime.SetFinalizer(p, nil)
	p.raw = C.fdk_process_free(p.raw)
	if p.onExit != 0 {
		exitCallbacks.remove(p.onExit)
		C.free(p.exitData)
		p.onExit, p.exitData = 0, nil
	}
	return nil
}
