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

// RunOptions describes a command to run to completion.
type RunOptions struct {
	Args      []string      // Args[0] is looked up in PATH when it has no '/'
	Env       []string      // "K=V"; nil passes the caller's environment
	Dir       string        // working directory; "" keeps the caller's
	Stdin     []byte        // fed to the child, then closed; nil inherits the caller's stdin
	Stdout    int           // Inherit, Capture or Discard
	Stderr    int           // Inherit, Capture, Discard or Merge
	Timeout   time.Duration // 0: none; the child is killed (SIGKILL) when it passes
	MaxOutput int64         // most bytes kept over both captured streams; 0: no limit
}

// RunResult is what a run produced.
type RunResult struct {
	Status    ExitStatus
	Stdout    []byte
	Stderr    []byte
	TimedOut  bool
	Truncated bool // output past MaxOutput was dropped
	Pid       int
	Duration  time.Duration
}

// cOpts builds the C options; they are copied when a run starts, so free follows at once.
func (o *RunOptions) cOpts() (*C.fdk_run_opts, error) {
	if err := noNUL("exec", append(append([]string{o.Dir}, o.Args...), o.Env...)...); err != nil {
		return nil, err
	}
	argv, freeArgv := cStrings(o.Args)
	defer freeArgv()
	var opts *C.fdk_run_opts
	if _, err := call(func() int64 { return int64(C.fdk_run_opts_new(&opts, argv)) }); err != nil {
		return nil, err
	}
	set := func(c func() C.int) error {
		_, err := call(func() int64 { return int64(c()) })
		return err
	}
	err := set(func() C.int { return C.fdk_run_opts_set_stdout(opts, C.int(o.Stdout)) })
	if err == nil {
		err = set(func() C.int { return C.fdk_run_opts_set_stderr(opts, C.int(o.Stderr)) })
	}
	if err == nil && o.Env != nil {
		envp, freeEnv := cStrings(o.Env)
		defer freeEnv()
		err = set(func() C.int { return C.fdk_run_opts_set_env(opts, envp) })
	}
	if err == nil && o.Dir != "" {
		cd := C.CString(o.Dir)
		defer C.free(unsafe.Pointer(cd))
		err = set(func() C.int { return C.fdk_run_opts_set_cwd(opts, cd) })
	}
	if err == nil && o.Stdin != nil {
		err = set(func() C.int {
			return C.fdk_run_opts_set_stdin_bytes(opts, bufPtr(o.Stdin), C.size_t(len(o.Stdin)))
		})
	}
	if err == nil && o.Timeout > 0 {
		err = set(func() C.int { return C.fdk_run_opts_set_timeout(opts, C.int64_t(o.Timeout.Milliseconds())) })
	}
	if err == nil && o.MaxOutput > 0 {
		err = set(func() C.int { return C.fdk_run_opts_set_max_output(opts, C.int64_t(o.MaxOutput)) })
	}
	if err != nil {
		C.fdk_run_opts_free(opts)
		return nil, err
	}
	return opts, nil
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
	return &RunResult{
		Status:    exitStatus(kind, value),
		Stdout:    bytes(out, outLen),
		Stderr:    bytes(errOut, errLen),
		TimedOut:  C.fdk_run_result_timed_out(res) == 1,
		Truncated: C.fdk_run_result_truncated(res) == 1,
		Pid:       int(C.fdk_run_result_pid(res)),
		Duration:  time.Duration(C.fdk_run_result_duration_ns(res)),
	}, nil
}

// Run runs the command to completion on a private loop. An error means it could not
// start; a child that failed or timed out is a result.
func Run(o *RunOptions) (*RunResult, error) {
	opts, err := o.cOpts()
	if err != nil {
		return nil, err
	}
	defer C.fdk_run_opts_free(opts)
	var res *C.fdk_run_result
	r, err := call(func() int64 { return int64(C.fdk_run(&res, opts)) })
	if err != nil {
		return nil, err
	}
	return takeRunResult(r, res)
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

// RunAsync starts the command on the loop; done gets the result on the loop once the
// child is gone. Cancelling the op kills the child; done still gets its result.
func (l *Loop) RunAsync(o *RunOptions, done func(*RunResult, error)) (*Op, error) {
	opts, err := o.cOpts()
	if err != nil {
		return nil, err
	}
	defer C.fdk_run_opts_free(opts)
	return l.startPending(&pending{runDone: done}, func(data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_run_async(l.raw, opts, C.fdk_run_cb(C.fdkgo_run_cb), data, op)
	})
}
