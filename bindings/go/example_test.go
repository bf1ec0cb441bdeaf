// The example of doc/bindings/go.md, compiled by go test (it has no Output comment, so it is not run).
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
