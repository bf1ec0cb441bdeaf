package fdkit

/*
#include <stdlib.h>
#include <fdkit.h>
#include "bridge.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Command is a command to run to completion: Argv (PATH searched), stdout and stderr
// captured.
type Command struct {
	Argv      []string
	Stdin     []byte // fed to the child as it reads; nil: none
	TimeoutMs int64  // 0: none; the child (and its group with NewGroup) is killed when it passes
	NewGroup  bool
	Dir       *Dir // where the child starts; nil: the caller's directory
}

// Output is how a run ended and what it wrote.
type Output struct {
	ExitCode int // -1 when killed by a signal
	Signal   int // 0 unless killed by a signal
	Stdout   []byte
	Stderr   []byte
	TimedOut bool
}

// cStrings is a NULL-terminated C array of C strings; free it with freeCStrings.
func cStrings(list []string) unsafe.Pointer {
	array := C.fdkgo_ptr_array(C.size_t(len(list) + 1))
	for i, s := range list {
		C.fdkgo_ptr_array_set(array, C.size_t(i), unsafe.Pointer(C.CString(s)))
	}
	return array
}

func freeCStrings(array unsafe.Pointer, n int) {
	for i := 0; i < n; i++ {
		C.free(C.fdkgo_ptr_array_get(array, C.size_t(i)))
	}
	C.free(array)
}

// Run runs the command on a private loop. The error is what stopped the start (a missing
// program, bad options); how the child ended is in the Output.
func (c *Command) Run() (*Output, error) {
	argv := cStrings(c.Argv)
	defer freeCStrings(argv, len(c.Argv))
	var opts *C.fdk_run_opts
	if _, err := call(func() int64 { return int64(C.fdk_run_opts_new(&opts, (**C.char)(argv))) }); err != nil {
		return nil, err
	}
	defer C.fdk_run_opts_free(opts)
	setters := []func() int64{
		func() int64 { return int64(C.fdk_run_opts_set_stdout(opts, C.FDK_RUN_CAPTURE)) },
		func() int64 { return int64(C.fdk_run_opts_set_stderr(opts, C.FDK_RUN_CAPTURE)) },
	}
	if c.Stdin != nil {
		setters = append(setters, func() int64 {
			data := C.CBytes(c.Stdin) // the setter copies it
			defer C.free(data)
			return int64(C.fdk_run_opts_set_stdin_bytes(opts, data, C.size_t(len(c.Stdin))))
		})
	}
	if c.TimeoutMs > 0 {
		setters = append(setters, func() int64 { return int64(C.fdk_run_opts_set_timeout(opts, C.int64_t(c.TimeoutMs))) })
	}
	if c.NewGroup {
		setters = append(setters, func() int64 { return int64(C.fdk_run_opts_set_group(opts, C.FDK_RUN_GROUP_NEW, 0)) })
	}
	if c.Dir != nil {
		setters = append(setters, func() int64 { return int64(C.fdk_run_opts_set_cwd_dir(opts, c.Dir.raw)) })
	}
	for _, set := range setters {
		if _, err := call(set); err != nil {
			return nil, err
		}
	}
	var res *C.fdk_run_result
	_, err := call(func() int64 { return int64(C.fdk_run(&res, opts)) })
	runtime.KeepAlive(c.Dir)
	if err != nil {
		return nil, err
	}
	defer C.fdk_run_result_free(res)
	var kind, value C.int
	C.fdk_run_result_status(res, &kind, &value)
	out := &Output{ExitCode: int(value), TimedOut: C.fdk_run_result_timed_out(res) != 0}
	if kind == C.FDK_EXIT_SIGNAL {
		out.ExitCode, out.Signal = -1, int(value)
	}
	var n C.size_t
	if p := C.fdk_run_result_stdout(res, &n); p != nil {
		out.Stdout = C.GoBytes(unsafe.Pointer(p), C.int(n))
	}
	if p := C.fdk_run_result_stderr(res, &n); p != nil {
		out.Stderr = C.GoBytes(unsafe.Pointer(p), C.int(n))
	}
	return out, nil
}
