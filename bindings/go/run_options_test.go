// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fdkit"
)

func TestRunEarlyExitStopsTheChild(t *testing.T) {
	noLeaks(t, func() {
		calls := 0
		res, err := fdkit.Run(&fdkit.RunOptions{
			Args:   []string{"sh", "-c", "echo starting; echo READY; sleep 30"},
			Stdout: fdkit.Capture,
			Group:  fdkit.GroupNew, // the kill takes the sleep along
			EarlyExit: func(out []byte) bool {
				calls++
				return bytes.Contains(out, []byte("READY\n"))
			},
		})
		must(t, err)
		if !res.EarlyExit || res.Status.Signal != syscall.SIGKILL || calls == 0 || !strings.HasPrefix(string(res.Stdout), "starting\nREADY\n") {
			t.Fatalf("result %+v after %d calls", res, calls)
		}
		res, err = fdkit.Run(&fdkit.RunOptions{Args: []string{"echo", "x"}, Stdout: fdkit.Capture, EarlyExit: func([]byte) bool { return false }})
		must(t, err)
		if res.EarlyExit || !res.Status.Success() {
			t.Fatalf("result %+v", res)
		}
	})
}

// A panic in the predicate cannot unwind through C: the child is stopped and the panic is
// raised again from Run.
func TestRunEarlyExitPanicComesOutOfRun(t *testing.T) {
	noLeaks(t, func() {
		defer func() {
			if r := recover(); r != "predicate" {
				t.Fatalf("recovered %v", r)
			}
		}()
		started := time.Now()
		fdkit.Run(&fdkit.RunOptions{
			Args:      []string{"sh", "-c", "echo x; sleep 30"},
			Stdout:    fdkit.Capture,
			Group:     fdkit.GroupNew,
			EarlyExit: func([]byte) bool { panic("predicate") },
		})
		t.Fatalf("Run returned after %v", time.Since(started))
	})
}

// CancelGraceful sends StopSignal first; a child that ignores it gets SIGKILL KillGrace later.
// The child is stopped once it says its trap is set (EarlyExit applies the policy as a
// timeout does): a fixed timeout could fire before a loaded machine let the shell set it,
// and the signal's default action then ended the shell (SIGTERM seen in a -race run).
func TestRunGracefulCancelWithStopSignal(t *testing.T) {
	noLeaks(t, func() {
		armed := func(out []byte) bool { return bytes.Contains(out, []byte("armed\n")) }
		res, err := fdkit.Run(&fdkit.RunOptions{
			Args:       []string{"sh", "-c", "trap 'echo got INT; exit 5' INT; echo armed; while :; do sleep 0.05; done"},
			Stdout:     fdkit.Capture,
			EarlyExit:  armed,
			Cancel:     fdkit.CancelGraceful,
			KillGrace:  5 * time.Second,
			StopSignal: syscall.SIGINT,
		})
		must(t, err)
		if !res.EarlyExit || res.Status.Code != 5 || string(res.Stdout) != "armed\ngot INT\n" {
			t.Fatalf("result %+v %q", res, res.Stdout)
		}
		started := time.Now()
		res, err = fdkit.Run(&fdkit.RunOptions{
			Args:      []string{"sh", "-c", "trap '' TERM; echo armed; sleep 30"},
			Stdout:    fdkit.Capture,
			EarlyExit: armed,
			Cancel:    fdkit.CancelGraceful,
			KillGrace: 200 * time.Millisecond,
			Group:     fdkit.GroupNew,
		})
		must(t, err)
		if !res.EarlyExit || res.Status.Signal != syscall.SIGKILL || time.Since(started) > 10*time.Second {
			t.Fatalf("result %+v", res)
		}
		res, err = fdkit.Run(&fdkit.RunOptions{
			Args:    []string{"sh", "-c", "sleep 0.4; exit 2"},
			Timeout: 50 * time.Millisecond,
			Cancel:  fdkit.CancelNone,
		})
		must(t, err)
		if !res.TimedOut || res.Status.Code != 2 {
			t.Fatalf("CancelNone lets the child finish: %+v", res)
		}
		if _, err := fdkit.Run(&fdkit.RunOptions{Args: []string{"true"}, Cancel: fdkit.CancelPolicy(7)}); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("unknown policy: %v", err)
		}
	})
}

func TestRunStopAtMaxOutput(t *testing.T) {
	noLeaks(t, func() {
		res, err := fdkit.Run(&fdkit.RunOptions{
			Args:            []string{"sh", "-c", "while :; do echo yyyyyyyyyyyyyyyy; done"},
			Stdout:          fdkit.Capture,
			MaxOutput:       1000,
			StopAtMaxOutput: true,
		})
		must(t, err)
		if !res.Truncated || len(res.Stdout) != 1000 || res.Status.Signal != syscall.SIGKILL {
			t.Fatalf("result %+v (%d bytes)", res.Status, len(res.Stdout))
		}
	})
}

// GroupSession and the descriptor policies, the directory as a handle or a descriptor, and
// stdin from a descriptor.
func TestRunGroupFdsCwdAndStdinFd(t *testing.T) {
	noLeaks(t, func() {
		res, err := fdkit.Run(&fdkit.RunOptions{
			Args: []string{"sh", "-c", "cat /proc/self/stat"}, Stdout: fdkit.Capture, Group: fdkit.GroupSession,
		})
		must(t, err)
		fields := strings.Fields(string(res.Stdout[bytes.LastIndexByte(res.Stdout, ')')+1:]))
		if fields[2] != fields[3] { // pgrp == session: it leads both
			t.Fatalf("group %s, session %s", fields[2], fields[3])
		}
		// A high number: ls's own descriptor for /proc/self/fd takes the lowest free one.
		const keep = 60
		extra, err := os.Open("/dev/null")
		must(t, err)
		must(t, syscall.Dup3(int(extra.Fd()), keep, syscall.O_CLOEXEC))
		extra.Close()
		defer syscall.Close(keep)
		fdsOf := func(policy int, keepFds []int) string {
			res, err := fdkit.Run(&fdkit.RunOptions{
				Args: []string{"ls", "/proc/self/fd"}, Stdout: fdkit.Capture, Fds: policy, KeepFds: keepFds,
			})
			must(t, err)
			return string(res.Stdout)
		}
		kept := strings.Fields(fdsOf(fdkit.FdsAllowlist, []int{keep}))
		if !contains(kept, keep) {
			t.Fatalf("the allow-listed descriptor %d is missing: %v", keep, kept)
		}
		if contains(strings.Fields(fdsOf(fdkit.FdsCloseFrom3, nil)), keep) {
			t.Fatal("CloseFrom3 kept a descriptor")
		}
		if _, err := fdkit.Run(&fdkit.RunOptions{Args: []string{"true"}, KeepFds: []int{keep}}); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("an allow-list without FdsAllowlist: %v", err)
		}

		tmp := t.TempDir()
		must(t, os.WriteFile(filepath.Join(tmp, "in"), []byte("from a file"), 0o644))
		d, err := fdkit.FS().OpenDir(tmp)
		must(t, err)
		res, err = fdkit.Run(&fdkit.RunOptions{Args: []string{"pwd"}, Stdout: fdkit.Capture, CwdDir: d})
		d.Close()
		must(t, err)
		if string(res.Stdout) != realTmp(t, tmp)+"\n" {
			t.Fatalf("pwd in a dir handle: %q", res.Stdout)
		}
		dirFd, err := fdkit.FS().Open(tmp, fdkit.O_DIRECTORY, 0)
		must(t, err)
		in, err := fdkit.FS().Open(filepath.Join(tmp, "in"), fdkit.O_RDONLY, 0)
		must(t, err)
		res, err = fdkit.Run(&fdkit.RunOptions{Args: []string{"sh", "-c", "pwd; cat"}, Stdout: fdkit.Capture, CwdFd: dirFd, StdinFd: in})
		dirFd.Close()
		in.Close()
		must(t, err)
		if string(res.Stdout) != realTmp(t, tmp)+"\nfrom a file" {
			t.Fatalf("pwd and cat: %q", res.Stdout)
		}
	})
}

func contains(fields []string, fd int) bool {
	for _, f := range fields {
		if f == strconv.Itoa(fd) {
			return true
		}
	}
	return false
}

// Usage, backends, and a descendant holding the captured pipe after the child exited.
func TestRunUsageBackendAndAbandonedPipes(t *testing.T) {
	noLeaks(t, func() {
		res, err := fdkit.Run(&fdkit.RunOptions{
			Args: []string{"sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"}, Backend: fdkit.BackendFork,
		})
		must(t, err)
		if res.Usage.UserTime+res.Usage.SystemTime <= 0 || res.Usage.MaxRSSKiB <= 0 || !res.Status.Success() {
			t.Fatalf("usage %+v, status %+v", res.Usage, res.Status)
		}
		started := time.Now()
		res, err = fdkit.Run(&fdkit.RunOptions{
			Args:      []string{"sh", "-c", "sleep 30 & echo $!"},
			Stdout:    fdkit.Capture,
			Stderr:    fdkit.Discard, // the test runner waits for whoever holds its own stderr
			KillGrace: 200 * time.Millisecond,
			Backend:   fdkit.BackendPosixSpawn,
		})
		must(t, err)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(res.Stdout))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if !res.PipesAbandoned || !res.Status.Success() || time.Since(started) > 10*time.Second {
			t.Fatalf("result %+v %q after %v", res, res.Stdout, time.Since(started))
		}
	})
}

// RunOp.Signal reaches the child of a running RunAsync, and the whole group the run made.
func TestRunAsyncSignal(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		var got *fdkit.RunResult
		var op *fdkit.RunOp
		signalled := false
		op, err := l.RunAsync(&fdkit.RunOptions{
			Args:   []string{"sh", "-c", "trap 'echo usr1; exit 3' USR1; echo ready; while :; do sleep 0.05; done"},
			Stdout: fdkit.Capture, Group: fdkit.GroupNew,
			// Called on the loop's thread as output arrives: the trap is set once "ready" came.
			EarlyExit: func(out []byte) bool {
				if !signalled && bytes.Equal(out, []byte("ready\n")) {
					must(t, op.Signal(syscall.SIGUSR1))
					signalled = true
				}
				return false
			},
		}, func(res *fdkit.RunResult, err error) { must(t, err); got = res })
		must(t, err)
		must(t, op.Signal(0))
		_, err = l.Run(fdkit.RunDefault)
		must(t, err)
		if got == nil || got.Status.Code != 3 || string(got.Stdout) != "ready\nusr1\n" {
			t.Fatalf("result %+v", got)
		}
		if err := op.Signal(0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("signal after the run: %v", err)
		}
	})
}
