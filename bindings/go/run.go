// SPDX-License-Identifier: MIT
package fdkit

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"runtime/cgo"
	"syscall"
	"time"
	"unsafe"
)

// What happens to one of the child's output streams (RunOptions.Stdout, Stderr).
const (
	Inherit = C.FDK_RUN_INHERIT // the child writes to the caller's own stream
	Capture = C.FDK_RUN_CAPTURE // captured into the result
	Discard = C.FDK_RUN_DISCARD // /dev/null
	Merge   = C.FDK_RUN_MERGE   // stderr only: into stdout, like 2>&1
)

// CancelPolicy is what a timeout, a cancelled RunAsync or a done context does to the child.
type CancelPolicy int

const (
	CancelKill     CancelPolicy = iota // SIGKILL at once (the zero value, fdkit's default)
	CancelGraceful                     // StopSignal (SIGTERM), then SIGKILL after KillGrace
	CancelNone                         // nothing: wait for the child, report the overrun
)

// The child's process group (RunOptions.Group). Only a group the run created (GroupNew,
// GroupSession) is signalled as a whole by a timeout or a cancel.
const (
	GroupInherit = C.FDK_RUN_GROUP_INHERIT // stay in the caller's group (the zero value)
	GroupNew     = C.FDK_RUN_GROUP_NEW     // a new group the child leads
	GroupSession = C.FDK_RUN_GROUP_SESSION // a new session and group
	GroupJoin    = C.FDK_RUN_GROUP_JOIN    // join the group RunOptions.GroupLeader
)

// Which of the caller's descriptors the child keeps besides 0, 1 and 2 (RunOptions.Fds).
const (
	FdsCloexecOnly = C.FDK_RUN_FDS_CLOEXEC_ONLY // those without close-on-exec (the zero value)
	FdsCloseFrom3  = C.FDK_RUN_FDS_CLOSE_FROM_3 // none
	FdsAllowlist   = C.FDK_RUN_FDS_ALLOWLIST    // exactly RunOptions.KeepFds, at the same numbers
)

// defaultKillGrace is fdkit's own default grace (run.h), passed when only the policy is set.
const defaultKillGrace = time.Second

// RunOptions describes a command to run to completion. The zero value of every field is
// fdkit's default.
type RunOptions struct {
	Args      []string      // Args[0] is looked up in PATH when it has no '/'
	Env       []string      // "K=V"; nil passes the caller's environment
	Dir       string        // working directory; "" keeps the caller's
	CwdDir    *Dir          // working directory as a directory handle (fchdir); replaces Dir
	CwdFd     *Fd           // working directory as an open directory descriptor; replaces Dir
	Stdin     []byte        // fed to the child, then closed; nil inherits the caller's stdin
	StdinFd   *Fd           // the child's stdin (instead of Stdin)
	Stdout    int           // Inherit, Capture or Discard
	Stderr    int           // Inherit, Capture, Discard or Merge
	Timeout   time.Duration // 0: none; the Cancel policy applies when it passes
	MaxOutput int64         // most bytes kept over both captured streams; 0: no limit
	// StopAtMaxOutput stops the child by the Cancel policy (kill for CancelNone) once output
	// past MaxOutput arrives, instead of reading and dropping it for as long as it writes.
	StopAtMaxOutput bool
	Cancel          CancelPolicy
	// KillGrace is the time between StopSignal and SIGKILL, and how long the run waits for
	// pipes a descendant keeps open after the child exited; 0: one second.
	KillGrace  time.Duration
	StopSignal syscall.Signal // the first signal of CancelGraceful; 0: SIGTERM
	Group      int            // GroupInherit, GroupNew, GroupSession or GroupJoin
	// GroupLeader is the group GroupJoin joins.
	GroupLeader int
	Fds         int   // FdsCloexecOnly, FdsCloseFrom3 or FdsAllowlist
	KeepFds     []int // the descriptors FdsAllowlist keeps (each above 2 and open)
	// EarlyExit is called on the run's thread with all the captured stdout so far (up to
	// MaxOutput) each time more arrives; true stops the child by the Cancel policy (kill for
	// CancelNone) and sets RunResult.EarlyExit. The slice is fdkit's memory, valid during the
	// call only: copy what you keep. A panic stops the child and is raised again from Run
	// (Loop.Run for RunAsync).
	EarlyExit func(stdoutSoFar []byte) bool
	Backend   uint // BackendAuto, BackendFork or BackendPosixSpawn
}

// Rusage is the resource usage of a reaped child (its own, not its descendants'); every
// field is -1 when it is unknown (the status was recovered after somebody else reaped it).
type Rusage struct {
	UserTime, SystemTime time.Duration
	MaxRSSKiB            int64 // peak resident set size
	MinorFaults          int64 // page faults without I/O
	MajorFaults          int64 // page faults with I/O
	InBlock, OutBlock    int64 // file system blocks read and written (512-byte units)
	VoluntarySwitches    int64
	InvoluntarySwitches  int64
}

func goRusage(u *C.fdk_rusage) Rusage {
	return Rusage{
		UserTime: time.Duration(u.utime_ns), SystemTime: time.Duration(u.stime_ns),
		MaxRSSKiB: int64(u.maxrss_kib), MinorFaults: int64(u.minflt), MajorFaults: int64(u.majflt),
		InBlock: int64(u.inblock), OutBlock: int64(u.oublock),
		VoluntarySwitches: int64(u.nvcsw), InvoluntarySwitches: int64(u.nivcsw),
	}
}

// RunResult is what a run produced.
type RunResult struct {
	Status    ExitStatus
	Stdout    []byte
	Stderr    []byte
	TimedOut  bool
	Truncated bool // output past MaxOutput was dropped
	EarlyExit bool // EarlyExit stopped the child
	// PipesAbandoned: the run stopped waiting KillGrace after the child exited for pipes a
	// descendant kept open; the captured output may be incomplete.
	PipesAbandoned bool
	Pid            int // the pid the child had (already reaped: for logs, never to signal)
	Duration       time.Duration
	Usage          Rusage
}

// earlyExit is RunOptions.EarlyExit as the C predicate's argument reaches it (a cgo.Handle).
type earlyExit struct {
	fn       func([]byte) bool
	panicked interface{} // a panic of fn, raised again once the run is over
	hasPanic bool
}

func (e *earlyExit) check(out unsafe.Pointer, n int) (stop bool) {
	if e.hasPanic {
		return true
	}
	defer func() {
		if r := recover(); r != nil {
			e.panicked, e.hasPanic, stop = r, true, true
		}
	}()
	var b []byte
	if n > 0 {
		b = unsafe.Slice((*byte)(out), n)
	}
	return e.fn(b)
}

// runSetup is a run's C options and the Go state they point at.
type runSetup struct {
	opts  *C.fdk_run_opts
	early *earlyExit
	h     cgo.Handle     // early's handle; 0 without one
	arg   unsafe.Pointer // the predicate's argument: h boxed (boxHandle)
}

// started frees the options (copied by the run); the predicate's handle stays until done.
func (r *runSetup) started() { r.opts = C.fdk_run_opts_free(r.opts) }

// done ends the run's Go state; it raises a panic of the early-exit predicate.
func (r *runSetup) done() {
	r.started()
	if r.h != 0 {
		C.free(r.arg)
		r.h.Delete()
		r.h, r.arg = 0, nil
	}
	if r.early != nil && r.early.hasPanic {
		panic(r.early.panicked)
	}
}

// cOpts builds the C options; they are copied when a run starts, so started follows at once.
func (o *RunOptions) cOpts() (*runSetup, error) {
	if err := noNUL("exec", append(append([]string{o.Dir}, o.Args...), o.Env...)...); err != nil {
		return nil, err
	}
	argv, freeArgv := cStrings(o.Args)
	defer freeArgv()
	var opts *C.fdk_run_opts
	if _, err := call(func() int64 { return int64(C.fdk_run_opts_new(&opts, argv)) }); err != nil {
		return nil, err
	}
	setup := &runSetup{opts: opts}
	if err := o.apply(opts); err != nil {
		setup.started()
		return nil, err
	}
	if o.EarlyExit != nil {
		setup.early = &earlyExit{fn: o.EarlyExit}
		setup.h = cgo.NewHandle(setup.early)
		setup.arg = boxHandle(uintptr(setup.h))
		C.fdk_run_opts_set_early_exit(opts, C.fdk_run_early_exit_fn(C.fdkgo_early_exit), setup.arg)
	}
	return setup, nil
}

// apply sets every option that differs from fdkit's default.
func (o *RunOptions) apply(opts *C.fdk_run_opts) error {
	var setters []func() C.int
	set := func(c func() C.int) { setters = append(setters, c) }
	set(func() C.int { return C.fdk_run_opts_set_stdout(opts, C.int(o.Stdout)) })
	set(func() C.int { return C.fdk_run_opts_set_stderr(opts, C.int(o.Stderr)) })
	if o.Env != nil {
		envp, freeEnv := cStrings(o.Env)
		defer freeEnv()
		set(func() C.int { return C.fdk_run_opts_set_env(opts, envp) })
	}
	if o.Dir != "" {
		cd := C.CString(o.Dir)
		defer C.free(unsafe.Pointer(cd))
		set(func() C.int { return C.fdk_run_opts_set_cwd(opts, cd) })
	}
	if o.CwdFd != nil {
		set(func() C.int { return C.fdk_run_opts_set_cwd_fd(opts, o.CwdFd.raw) })
	}
	if o.CwdDir != nil {
		if o.CwdDir.raw == nil {
			return ErrClosed
		}
		set(func() C.int { return C.fdk_run_opts_set_cwd_dir(opts, o.CwdDir.raw) })
	}
	if o.Stdin != nil {
		set(func() C.int { return C.fdk_run_opts_set_stdin_bytes(opts, bufPtr(o.Stdin), C.size_t(len(o.Stdin))) })
	}
	if o.StdinFd != nil {
		set(func() C.int { return C.fdk_run_opts_set_stdin_fd(opts, o.StdinFd.raw) })
	}
	if o.Timeout > 0 {
		set(func() C.int { return C.fdk_run_opts_set_timeout(opts, C.int64_t(o.Timeout.Milliseconds())) })
	}
	if o.MaxOutput > 0 {
		set(func() C.int { return C.fdk_run_opts_set_max_output(opts, C.int64_t(o.MaxOutput)) })
	}
	if o.StopAtMaxOutput {
		set(func() C.int { return C.fdk_run_opts_set_stop_at_max_output(opts, 1) })
	}
	if o.Cancel != CancelKill || o.KillGrace != 0 {
		policy, ok := map[CancelPolicy]C.int{CancelKill: C.FDK_RUN_CANCEL_KILL, CancelGraceful: C.FDK_RUN_CANCEL_GRACEFUL,
			CancelNone: C.FDK_RUN_CANCEL_NONE}[o.Cancel]
		if !ok {
			policy = -1 // fdkit refuses it with EINVAL
		}
		grace := o.KillGrace
		if grace == 0 {
			grace = defaultKillGrace
		}
		set(func() C.int { return C.fdk_run_opts_set_cancel(opts, policy, C.int64_t(grace.Milliseconds())) })
	}
	if o.StopSignal != 0 {
		set(func() C.int { return C.fdk_run_opts_set_stop_signal(opts, C.int(o.StopSignal)) })
	}
	if o.Group != GroupInherit || o.GroupLeader != 0 {
		set(func() C.int { return C.fdk_run_opts_set_group(opts, C.int(o.Group), C.int32_t(o.GroupLeader)) })
	}
	if o.Fds != FdsCloexecOnly || o.KeepFds != nil {
		keep := make([]C.int, len(o.KeepFds)+1) // +1: never a zero-length array to take [0] of
		for i, fd := range o.KeepFds {
			keep[i] = C.int(fd)
		}
		set(func() C.int { return C.fdk_run_opts_set_fds(opts, C.int(o.Fds), &keep[0], C.size_t(len(o.KeepFds))) })
	}
	if o.Backend != BackendAuto {
		set(func() C.int { return C.fdk_run_opts_set_backend(opts, C.int(o.Backend)) })
	}
	defer runtime.KeepAlive(o)
	for _, c := range setters {
		if _, err := call(func() int64 { return int64(c()) }); err != nil {
			return err
		}
	}
	return nil
}

// takeRunResult copies a C result out and frees it.
func takeRunResult(result int64, res *C.fdk_run_result) (*RunResult, error) {
	if err := resultError(result); err != nil {
		return nil, err
	}
	defer C.fdk_run_result_free(res)
	bytes := func(p *C.uint8_t, n C.size_t) []byte {
		if p == nil {
			return nil
		}
		return C.GoBytes(unsafe.Pointer(p), C.int(n))
	}
	var kind, value C.int
	C.fdk_run_result_status(res, &kind, &value)
	var outLen, errLen C.size_t
	out := C.fdk_run_result_stdout(res, &outLen)
	errOut := C.fdk_run_result_stderr(res, &errLen)
	var usage C.fdk_rusage
	C.fdk_run_result_rusage(res, &usage)
	return &RunResult{
		Status:         exitStatus(kind, value),
		Stdout:         bytes(out, outLen),
		Stderr:         bytes(errOut, errLen),
		TimedOut:       C.fdk_run_result_timed_out(res) == 1,
		Truncated:      C.fdk_run_result_truncated(res) == 1,
		EarlyExit:      C.fdk_run_result_early_exit(res) == 1,
		PipesAbandoned: C.fdk_run_result_pipes_abandoned(res) == 1,
		Pid:            int(C.fdk_run_result_pid(res)),
		Duration:       time.Duration(C.fdk_run_result_duration_ns(res)),
		Usage:          goRusage(&usage),
	}, nil
}

// Run runs the command to completion on a private loop. An error means it could not
// start; a child that failed or timed out is a result.
func Run(o *RunOptions) (*RunResult, error) {
	setup, err := o.cOpts()
	if err != nil {
		return nil, err
	}
	var res *C.fdk_run_result
	r, err := call(func() int64 { return int64(C.fdk_run(&res, setup.opts)) })
	if err != nil {
		setup.done()
		return nil, err
	}
	out, err := takeRunResult(r, res)
	setup.done()
	return out, err
}

// RunContext is Run that stops the child when ctx is done, as exec.CommandContext does: the
// run is cancelled (the child, and its group if the run made one, is killed), and the
// result comes with an error wrapping ctx.Err(). It drives a private loop on the calling
// goroutine's locked thread; the watching goroutine reaches it through Post, which is safe
// even once the loop is closed.
func RunContext(ctx context.Context, o *RunOptions) (*RunResult, error) {
	if ctx.Done() == nil {
		return Run(o)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	l, err := NewLoop()
	if err != nil {
		return nil, err
	}
	defer l.Close()
	var res *RunResult
	var runErr error
	finished := false
	op, err := l.RunAsync(o, func(r *RunResult, e error) { res, runErr, finished = r, e, true })
	if err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
			l.Post(func() { op.Cancel() })
		case <-stop:
		}
	}()
	for !finished {
		if _, err := l.Run(RunOnce); err != nil {
			return nil, err
		}
	}
	if runErr == nil && ctx.Err() != nil {
		runErr = fmt.Errorf("fdkit: run stopped: %w", ctx.Err())
	}
	return res, runErr
}

// RunOp is the pending operation of RunAsync.
type RunOp struct {
	*Op
}

// Signal sends sig (0 to probe) to the run's child, or to its whole group when the run
// created one, as a timeout would: to pass on a signal the caller received. ESRCH once the
// child exited. Loop thread only.
func (o *RunOp) Signal(sig syscall.Signal) error {
	if o.raw == nil {
		return &Error{Errno: syscall.ESRCH, Detail: "run: the run is over"}
	}
	_, err := call(func() int64 { return int64(C.fdk_run_signal(o.raw, C.int(sig))) })
	return err
}

// RunAsync starts the command on the loop; done gets the result on the loop once the
// child is gone. Cancelling the op applies the Cancel policy; done still gets its result.
func (l *Loop) RunAsync(o *RunOptions, done func(*RunResult, error)) (*RunOp, error) {
	setup, err := o.cOpts()
	if err != nil {
		return nil, err
	}
	op, err := l.startPending(&pending{runDone: func(res *RunResult, err error) {
		setup.done()
		done(res, err)
	}}, func(data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_run_async(l.raw, setup.opts, C.fdk_run_cb(C.fdkgo_run_cb), data, op)
	})
	if err != nil {
		setup.done()
		return nil, err
	}
	setup.started()
	return &RunOp{op}, nil
}
