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

// Spawn describes a child: the actions it runs before it execs, in order (Dir, Inherit,
// Setsid, CloseOtherFds), then the exec of Argv (PATH searched).
type Spawn struct {
	Argv          []string
	Dir           string      // chdir to it; "" leaves the directory
	Inherit       map[int]*Fd // child descriptor number -> handle (blocking mode preserved)
	Setsid        bool
	CloseOtherFds bool // every descriptor but 0, 1, 2 and Inherit's is closed at exec
}

// Process is a spawned child; Free (or the finalizer) kills and reaps it if it still
// runs. Its methods are safe for concurrent use (not with Free).
type Process struct {
	raw *C.fdk_process
}

// Status is how a child ended: Signal is 0 unless it was killed (Code is -1 then).
type Status struct {
	Code   int
	Signal int
}

// Start spawns the child. A failing action is an error naming it (the failed child is
// already reaped).
func (s *Spawn) Start() (*Process, error) {
	var actions *C.fdk_actions
	if _, err := call(func() int64 { return int64(C.fdk_actions_new(&actions)) }); err != nil {
		return nil, err
	}
	defer C.fdk_actions_free(actions)
	argv := cStrings(s.Argv)
	defer freeCStrings(argv, len(s.Argv))
	steps := []func() int64{}
	if s.Dir != "" {
		steps = append(steps, func() int64 {
			p := C.CString(s.Dir)
			defer C.free(unsafe.Pointer(p))
			return int64(C.fdk_actions_chdir(actions, p))
		})
	}
	for dst, fd := range s.Inherit {
		dst, fd := dst, fd
		steps = append(steps, func() int64 {
			return int64(C.fdk_actions_inherit_fd(actions, C.int(dst), fd.raw, C.FDK_INHERIT_PRESERVE))
		})
	}
	if s.Setsid {
		steps = append(steps, func() int64 { return int64(C.fdk_actions_setsid(actions)) })
	}
	if s.CloseOtherFds {
		steps = append(steps, func() int64 { return int64(C.fdk_actions_close_other_fds(actions)) })
	}
	steps = append(steps, func() int64 {
		file := (*C.char)(C.fdkgo_ptr_array_get(argv, 0))
		return int64(C.fdk_actions_execvp(actions, file, (**C.char)(argv), nil))
	})
	var raw *C.fdk_process
	steps = append(steps, func() int64 { return int64(C.fdk_spawn(&raw, nil, actions, 0, nil, nil)) })
	for _, step := range steps {
		if _, err := call(step); err != nil {
			return nil, err
		}
	}
	runtime.KeepAlive(s.Inherit)
	p := &Process{raw: raw}
	runtime.SetFinalizer(p, (*Process).Free)
	return p, nil
}

func (p *Process) Pid() int { return int(C.fdk_process_pid(p.raw)) }

// Signal sends sig; ESRCH once the child was reaped (a recycled pid is never signalled).
func (p *Process) Signal(sig int) error {
	_, err := call(func() int64 { return int64(C.fdk_process_signal(p.raw, C.int(sig))) })
	return err
}

func statusOf(st *C.fdk_exit_status) Status {
	if st.kind == C.FDK_EXIT_SIGNAL {
		return Status{Code: -1, Signal: int(st.value)}
	}
	return Status{Code: int(st.value)}
}

// Wait waits for the exit, reaps, and returns how it ended (the same on later calls).
func (p *Process) Wait() (Status, error) {
	var st C.fdk_exit_status
	if _, err := call(func() int64 { return int64(C.fdk_process_wait(p.raw, &st)) }); err != nil {
		return Status{}, err
	}
	return statusOf(&st), nil
}

// TryWait is the status if the child exited (it is reaped then); ok is false if it runs.
func (p *Process) TryWait() (st Status, ok bool, err error) {
	var cst C.fdk_exit_status
	r, err := call(func() int64 { return int64(C.fdk_process_try_wait(p.raw, &cst)) })
	if err != nil || r == 0 {
		return Status{}, false, err
	}
	return statusOf(&cst), true, nil
}

// Free kills and reaps a child that still runs and frees the process.
func (p *Process) Free() {
	if p.raw != nil {
		runtime.SetFinalizer(p, nil)
		C.fdk_process_free(p.raw)
		p.raw = nil
	}
}
