// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"fdkit"
)

func TestRunCapturesOutputAndFeedsStdin(t *testing.T) {
	noLeaks(t, func() {
		res, err := fdkit.Run(&fdkit.RunOptions{
			Args:   []string{"sh", "-c", "tr a-z A-Z; echo oops >&2; exit 3"},
			Stdin:  []byte("hello"),
			Stdout: fdkit.Capture,
			Stderr: fdkit.Capture,
		})
		must(t, err)
		if string(res.Stdout) != "HELLO" || string(res.Stderr) != "oops\n" || res.Status != (fdkit.ExitStatus{Code: 3}) {
			t.Fatalf("result: %+v", res)
		}
		if res.TimedOut || res.Pid <= 0 || res.Status.Success() {
			t.Fatalf("result: %+v", res)
		}
	})
}

// As exec.CommandContext: a done context stops the child, and the error wraps ctx.Err().
func TestRunContextStopsTheChild(t *testing.T) {
	noLeaks(t, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		started := time.Now()
		res, err := fdkit.RunContext(ctx, &fdkit.RunOptions{Args: []string{"sleep", "30"}})
		if !errors.Is(err, context.DeadlineExceeded) || res == nil || res.Status != (fdkit.ExitStatus{Signal: syscall.SIGKILL}) {
			t.Fatalf("run: %+v, %v", res, err)
		}
		if time.Since(started) > 10*time.Second {
			t.Fatalf("the child was not stopped: %v", time.Since(started))
		}
		res, err = fdkit.RunContext(context.Background(), &fdkit.RunOptions{Args: []string{"true"}})
		must(t, err)
		if !res.Status.Success() {
			t.Fatalf("run: %+v", res)
		}
	})
}

func TestRunTimesOutAndKills(t *testing.T) {
	noLeaks(t, func() {
		res, err := fdkit.Run(&fdkit.RunOptions{Args: []string{"sleep", "10"}, Timeout: 100 * time.Millisecond})
		must(t, err)
		if !res.TimedOut || res.Status.Signal != syscall.SIGKILL || res.Duration > 5*time.Second {
			t.Fatalf("result: %+v", res)
		}
	})
}

func TestRunOfAMissingProgramFailsToStart(t *testing.T) {
	noLeaks(t, func() {
		if _, err := fdkit.Run(&fdkit.RunOptions{Args: []string{"fdkit-no-such-program"}}); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("run: %v", err)
		}
	})
}

func TestRunAsyncCompletesOnTheLoop(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		var got *fdkit.RunResult
		op, err := l.RunAsync(&fdkit.RunOptions{Args: []string{"echo", "async"}, Stdout: fdkit.Capture},
			func(res *fdkit.RunResult, err error) { must(t, err); got = res })
		must(t, err)
		if got != nil || !op.Pending() {
			t.Fatal("the callback ran inside RunAsync")
		}
		l.Run(fdkit.RunDefault)
		if got == nil || string(got.Stdout) != "async\n" || !got.Status.Success() || op.Pending() {
			t.Fatalf("result: %+v", got)
		}
	})
}

func TestSpawnWithAnInheritedPipeAndWait(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		defer r.Close()
		a, err := fdkit.NewActions()
		must(t, err)
		defer a.Close()
		must(t, a.InheritFd(1, w))
		must(t, a.Chdir("/"))
		must(t, a.Execvp("pwd", []string{"pwd"}, nil))
		p, err := a.Spawn()
		must(t, err)
		defer p.Close()
		w.Close()
		for i := 0; i < 2; i++ { // a second wait gives the same status
			if st, err := p.Wait(); err != nil || !st.Success() {
				t.Fatalf("wait: %+v %v", st, err)
			}
		}
		buf := make([]byte, 16)
		n, err := r.Read(buf)
		must(t, err)
		if string(buf[:n]) != "/\n" {
			t.Fatalf("child wrote %q", buf[:n])
		}
	})
}

func TestSignalTryWaitAndPidfd(t *testing.T) {
	noLeaks(t, func() {
		a, err := fdkit.NewActions()
		must(t, err)
		defer a.Close()
		must(t, a.Execvp("sleep", []string{"sleep", "10"}, []string{"PATH=/bin:/usr/bin"}))
		p, err := a.Spawn()
		must(t, err)
		defer p.Close()
		if _, done, err := p.TryWait(); err != nil || done {
			t.Fatalf("try_wait on a running child: %v %v", done, err)
		}
		if fd, err := p.Pidfd(); err != nil && !errors.Is(err, syscall.ENOTSUP) || err == nil && fd <= 2 {
			t.Fatalf("pidfd: %d %v", fd, err)
		}
		must(t, p.Signal(syscall.SIGTERM))
		st, err := p.Wait()
		must(t, err)
		if st.Signal != syscall.SIGTERM {
			t.Fatalf("status: %+v", st)
		}
		if err := p.Signal(0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("signal after the reap: %v", err)
		}
	})
}

func TestAFailedActionNamesItself(t *testing.T) {
	noLeaks(t, func() {
		a, err := fdkit.NewActions()
		must(t, err)
		defer a.Close()
		must(t, a.Chdir("/nonexistent-fdkit"))
		must(t, a.Execvp("true", []string{"true"}, nil))
		_, err = a.Spawn()
		var fe *fdkit.Error
		if !errors.As(err, &fe) || fe.Errno != syscall.ENOENT || !strings.Contains(fe.Detail, "chdir") {
			t.Fatalf("spawn: %v", err)
		}
	})
}

func TestSpawnOnALoopCallsBackWhenTheChildExits(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		a := execActions(t, "sh", "-c", "exit 7")
		defer a.Close()
		exited := false
		p, err := l.Spawn(a, func(err error) { must(t, err); exited = true })
		must(t, err)
		defer p.Close()
		l.Run(fdkit.RunDefault) // a pending exit callback keeps the run going
		st, done, err := p.TryWait()
		if !exited || !done || err != nil || st.Code != 7 {
			t.Fatalf("exited %v, try_wait %+v %v %v", exited, st, done, err)
		}
	})
}

func TestAProcessClosedBeforeItsExitNeverCallsBack(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		a, err := fdkit.NewActions()
		must(t, err)
		defer a.Close()
		must(t, a.Execvp("sleep", []string{"sleep", "10"}, nil))
		p, err := l.Spawn(a, func(error) { t.Error("called back after Close") })
		must(t, err)
		p.Close() // kills and reaps the child
		l.Run(fdkit.RunDefault)
	})
}

// After Close: Pid is -1 (as os.Process after Release) and the calls fail with ErrClosed,
// never a negative errno passed off as a pid.
func TestProcessAndLoopCallsAfterClose(t *testing.T) {
	noLeaks(t, func() {
		a := execActions(t, "true")
		defer a.Close()
		p, err := a.Spawn()
		must(t, err)
		_, err = p.Wait()
		must(t, err)
		must(t, p.Close())
		if pid := p.Pid(); pid != -1 {
			t.Errorf("pid after close: %d", pid)
		}
		if err := p.Signal(0); !errors.Is(err, fdkit.ErrClosed) {
			t.Errorf("signal after close: %v", err)
		}
		if _, err := p.Wait(); !errors.Is(err, fdkit.ErrClosed) {
			t.Errorf("wait after close: %v", err)
		}
		l := newLoop(t)
		must(t, l.Close())
		if _, err := l.Run(fdkit.RunDefault); !errors.Is(err, fdkit.ErrClosed) {
			t.Errorf("run after close: %v", err)
		}
	})
}

// As with os/exec, a collected Process leaves its child running, and the exit callback of
// a spawn nobody keeps still runs.
func TestCollectedProcessKeepsRunningAndCallsBack(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		a := execActions(t, "sh", "-c", "sleep 0.2; exit 3")
		defer a.Close()
		exited := 0
		fdsBefore := openFds(t)
		_, err := l.Spawn(a, func(err error) { must(t, err); exited++ })
		must(t, err)
		runtime.GC()
		runtime.GC()
		started := time.Now()
		_, err = l.Run(fdkit.RunDefault)
		must(t, err)
		if exited != 1 || time.Since(started) < 150*time.Millisecond {
			t.Fatalf("exit callback ran %d times after %v: the child was killed or the callback dropped", exited, time.Since(started))
		}
		// Once its callback ran, the handle is collectable: its finalizer reaps the child and
		// closes the pidfd (noLeaks counts descriptors).
		for i := 0; i < 50 && openFds(t) > fdsBefore; i++ {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// execActions is an action list that executes argv (PATH searched); the caller closes it.
func execActions(t *testing.T, argv ...string) *fdkit.Actions {
	t.Helper()
	a, err := fdkit.NewActions()
	must(t, err)
	must(t, a.Execvp(argv[0], argv, nil))
	return a
}
