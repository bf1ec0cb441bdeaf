// SPDX-License-Identifier: MIT
// The examples of doc/bindings/go.md, compiled by go test (they have no Output comment, so they are not run).
package fdkit_test

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"

	"fdkit"
)

func Example() {
	runtime.LockOSThread() // a loop belongs to one OS thread
	loop, _ := fdkit.NewLoop()
	defer loop.Close()
	r, w, _ := fdkit.Pipe()
	defer w.Close()
	loop.ReadAsync(r, 64, func(data []byte, err error) { fmt.Printf("read %q, %v\n", data, err) })
	w.Write([]byte("hello"))
	loop.Run(fdkit.RunDefault) // the callback runs here
	r.Close()
	_, err := r.Read(make([]byte, 4))
	fmt.Println(errors.Is(err, syscall.EBADF), err) // true "<detail> (EBADF)"
}

// The other areas, the second example of doc/bindings/go.md.
func Example_areas() {
	// Confined directories: nothing beneath etc resolves outside it.
	etc, _ := fdkit.FS().OpenDir("/etc")
	defer etc.Close()
	_, err := etc.Open("../proc/version", fdkit.O_RDONLY, 0)
	fmt.Println(errors.Is(err, syscall.EXDEV)) // true

	// Run to completion with capture.
	res, _ := fdkit.Run(&fdkit.RunOptions{
		Args:   []string{"sh", "-c", "echo out; echo err >&2"},
		Stdout: fdkit.Capture,
		Stderr: fdkit.Capture,
	})
	fmt.Printf("%+v %q %q\n", res.Status, res.Stdout, res.Stderr)

	// Descriptor passing: send a pipe's write end over a socketpair.
	a, b, _ := fdkit.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	r, w, _ := fdkit.Pipe()
	a.SendMsg([]byte("w"), w)
	_, fds, _, _ := b.RecvMsg(make([]byte, 1), 1)
	fds[0].Write([]byte("via the passed end"))

	// Trace spans of every operation, from any thread.
	fdkit.SetTraceHook(func(e *fdkit.TraceEvent) { fmt.Println(e.Phase, e.Name, e.Result) })
	w.Write([]byte("traced"))
	fdkit.ClearTraceHook()
	r.Close()
}
