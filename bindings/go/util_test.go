// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"os"
	"runtime"
	"syscall"
	"testing"

	"fdkit"
)

func openFds(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// noLeaks runs fn on a goroutine locked to its OS thread (a loop belongs to one thread)
// and checks that it leaves as many descriptors open as it found. libuv keeps two global
// descriptors after its first loop, so the baseline is taken after one loop was created.
func noLeaks(t *testing.T, fn func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	l, err := fdkit.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	before := openFds(t)
	fn()
	if after := openFds(t); after != before {
		t.Errorf("the test leaked descriptors: %d open before, %d after", before, after)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func pipe(t *testing.T) (*fdkit.Fd, *fdkit.Fd) {
	t.Helper()
	r, w, err := fdkit.Pipe()
	must(t, err)
	return r, w
}

func newLoop(t *testing.T) *fdkit.Loop {
	t.Helper()
	l, err := fdkit.NewLoop()
	must(t, err)
	return l
}

// unixPair is a connected AF_UNIX stream socketpair.
func unixPair(t *testing.T) (*fdkit.Fd, *fdkit.Fd) {
	t.Helper()
	a, b, err := fdkit.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	must(t, err)
	return a, b
}
