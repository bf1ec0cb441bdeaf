// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"fdkit"
)

func TestIdleLoopReturnsAtOnce(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		if more, err := l.Run(fdkit.RunDefault); more || err != nil {
			t.Fatalf("run: %v, %v", more, err)
		}
		if fd, err := l.BackendFd(); fd < 0 || err != nil {
			t.Fatalf("backend fd: %d, %v", fd, err)
		}
	})
}

func TestPostFromAnotherGoroutine(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		ran := false
		done := make(chan error)
		go func() { done <- l.Post(func() { ran = true }) }()
		must(t, <-done)
		l.Run(fdkit.RunDefault)
		if !ran {
			t.Fatal("the posted function did not run")
		}
	})
}

func TestSleepNeverEndsEarly(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		deadline := fdkit.NowNs() + 20_000_000
		var woke int64
		op, err := l.SleepUntil(deadline, func(err error) {
			must(t, err)
			woke = fdkit.NowNs()
		})
		must(t, err)
		if woke != 0 || !op.Pending() {
			t.Fatal("the callback ran inside the starting call")
		}
		l.Run(fdkit.RunDefault)
		if woke < deadline || op.Pending() || op.Cancel() {
			t.Fatalf("woke %d before the deadline %d, or op still pending", woke, deadline)
		}
	})
}

func TestCancelCompletesWithECANCELED(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		r, w := pipe(t)
		defer r.Close()
		defer w.Close()
		var got error
		op, err := l.ReadAsync(r, 8, func(_ []byte, err error) { got = err })
		must(t, err)
		if !op.Cancel() {
			t.Fatal("cancel refused")
		}
		l.Run(fdkit.RunDefault)
		if !errors.Is(got, syscall.ECANCELED) {
			t.Fatalf("got %v", got)
		}
	})
}

func TestClosingTheLoopCancelsPendingOperations(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		var got error
		_, err := l.SleepUntil(fdkit.NowNs()+60e9, func(err error) { got = err })
		must(t, err)
		must(t, l.Close())
		if !errors.Is(got, syscall.ECANCELED) {
			t.Fatalf("got %v", got)
		}
	})
}

func TestPanicInACallbackComesOutOfRun(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		_, err := l.SleepUntil(0, func(error) { panic("boom") })
		must(t, err)
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Fatalf("recovered %v", r)
				}
			}()
			l.Run(fdkit.RunDefault)
			t.Fatal("Run returned without the panic")
		}()
		later := false
		_, err = l.SleepUntil(0, func(error) { later = true })
		must(t, err)
		l.Run(fdkit.RunDefault)
		if !later {
			t.Fatal("the loop is unusable after a panic")
		}
	})
}

func TestRunFromInsideACallbackIsEBUSY(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		var got error
		_, err := l.SleepUntil(0, func(error) { _, got = l.Run(fdkit.RunNoWait) })
		must(t, err)
		l.Run(fdkit.RunDefault)
		if !errors.Is(got, syscall.EBUSY) {
			t.Fatalf("got %v", got)
		}
	})
}

// Goroutines post while the loop's own goroutine closes it: every post either runs (during
// Close at the latest) or fails with ESHUTDOWN, and none touches the freed loop (run with
// -race and GODEBUG=cgocheck=2).
func TestPostRacesClose(t *testing.T) {
	noLeaks(t, func() {
		for round := 0; round < 20; round++ {
			l := newLoop(t)
			var ran, accepted int64
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						if err := l.Post(func() { ran++ }); err != nil {
							errs <- err
							return
						}
						atomic.AddInt64(&accepted, 1)
					}
				}()
			}
			l.Run(fdkit.RunNoWait)
			must(t, l.Close())
			wg.Wait()
			close(errs)
			for err := range errs {
				if !errors.Is(err, syscall.ESHUTDOWN) {
					t.Fatalf("post after close: %v, want ESHUTDOWN", err)
				}
			}
			if ran != atomic.LoadInt64(&accepted) {
				t.Fatalf("%d posts accepted, %d ran", accepted, ran)
			}
		}
	})
}

// A Remote holds its own reference: it posts from another goroutine that keeps no *Loop, and
// after the loop is closed it answers ESHUTDOWN, after its own Close ErrClosed.
func TestRemotePostsAndOutlivesTheLoop(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		r := l.Remote()
		ran := make(chan bool, 1)
		go func() { must(t, r.Post(func() { ran <- true })) }()
		for len(ran) == 0 {
			_, err := l.Run(fdkit.RunOnce)
			must(t, err)
		}
		must(t, l.Close())
		if err := r.Post(func() { t.Error("ran after Close") }); !errors.Is(err, syscall.ESHUTDOWN) {
			t.Fatalf("post after the loop's Close: %v", err)
		}
		must(t, r.Close())
		if err := r.Post(func() {}); !errors.Is(err, fdkit.ErrClosed) {
			t.Fatalf("post after the remote's Close: %v", err)
		}
	})
}

// A callback's data pointer must never be a small integer in a Go pointer slot: starting
// operations at every stack depth of fresh goroutines makes the stack grow while the cgo call
// is being set up, and the stack copier then died with "invalid pointer found on stack".
func TestStartingAtEveryStackDepth(t *testing.T) {
	noLeaks(t, func() {
		for depth := 0; depth < 300; depth++ {
			done := make(chan struct{})
			go func() {
				defer close(done)
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				l := newLoop(t)
				defer l.Close()
				atDepth(depth, func() {
					_, err := l.SleepUntil(0, func(error) {})
					must(t, err)
					_, err = l.StatAsync(fdkit.FS(), "/", true, func(*fdkit.Stat, error) {})
					must(t, err)
				})
				_, err := l.Run(fdkit.RunDefault)
				must(t, err)
			}()
			<-done
		}
	})
}

// atDepth calls fn under depth frames of 64 bytes of locals each.
func atDepth(depth int, fn func()) {
	var pad [8]int64
	if depth > 0 {
		pad[depth%8] = int64(depth)
		atDepth(depth-1, fn)
		return
	}
	fn()
	_ = pad
}
