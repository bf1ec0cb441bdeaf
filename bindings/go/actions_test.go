// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"fdkit"
)

// childOutput adds stdout on a pipe and the exec action (Execve of argv, no PATH search),
// spawns, and returns what the child wrote and how it ended.
func childOutput(t *testing.T, a *fdkit.Actions, argv ...string) (string, fdkit.ExitStatus) {
	t.Helper()
	r, w := pipe(t)
	defer r.Close()
	defer w.Close()
	must(t, a.InheritFd(1, w))
	must(t, a.Execve(argv[0], argv, []string{"PATH=/bin:/usr/bin"}))
	p, err := a.Spawn()
	w.Close()
	must(t, err)
	defer p.Close()
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if err != nil {
			break
		}
		out = append(out, buf[:n]...)
	}
	st, err := p.Wait()
	must(t, err)
	return string(out), st
}

// procStatusField is a field of /proc/self/status as the child's grep prints it.
func statusLine(out, field string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, field+":") {
			return strings.TrimSpace(strings.TrimPrefix(line, field+":"))
		}
	}
	return ""
}

func newActions(t *testing.T) *fdkit.Actions {
	t.Helper()
	a, err := fdkit.NewActions()
	must(t, err)
	return a
}

// The credentials, limits, mask, signal dispositions and privileges the actions set are
// the child's, as /proc/self/status and the shell report them.
func TestActionsSetTheChildsState(t *testing.T) {
	noLeaks(t, func() {
		a := newActions(t)
		defer a.Close()
		root := os.Geteuid() == 0
		if root {
			must(t, a.Setgroups([]uint32{7, 9}))
			must(t, a.Setgid(4321))
			must(t, a.Setuid(1234))
		}
		must(t, a.Umask(0o027))
		must(t, a.Rlimit(syscall.RLIMIT_NOFILE, 64, 128))
		must(t, a.NoNewPrivs())
		must(t, a.SignalIgnore(syscall.SIGUSR1))
		must(t, a.SignalIgnore(syscall.SIGUSR2))
		must(t, a.SignalDefault(syscall.SIGUSR2)) // the later action wins
		out, st := childOutput(t, a, "/bin/sh", "-c", "umask; ulimit -n; ulimit -Hn; cat /proc/self/status")
		if !st.Success() {
			t.Fatalf("child: %+v\n%s", st, out)
		}
		lines := strings.SplitN(out, "\n", 4)
		if lines[0] != "0027" || lines[1] != "64" || lines[2] != "128" {
			t.Fatalf("umask and limits: %q", lines[:3])
		}
		if statusLine(out, "NoNewPrivs") != "1" {
			t.Fatalf("NoNewPrivs: %q", statusLine(out, "NoNewPrivs"))
		}
		ignored, err := strconv.ParseUint(statusLine(out, "SigIgn"), 16, 64)
		must(t, err)
		if ignored&(1<<(syscall.SIGUSR1-1)) == 0 || ignored&(1<<(syscall.SIGUSR2-1)) != 0 {
			t.Fatalf("SigIgn %#x: SIGUSR1 should be ignored, SIGUSR2 not", ignored)
		}
		if root {
			if uid := strings.Fields(statusLine(out, "Uid")); uid[0] != "1234" || uid[1] != "1234" {
				t.Fatalf("Uid: %v", uid)
			}
			if gid := strings.Fields(statusLine(out, "Gid")); gid[0] != "4321" {
				t.Fatalf("Gid: %v", gid)
			}
			if groups := statusLine(out, "Groups"); groups != "7 9" {
				t.Fatalf("Groups: %q", groups)
			}
		}
	})
}

func TestActionsRefuseBadArgumentsAtOnce(t *testing.T) {
	noLeaks(t, func() {
		a := newActions(t)
		for what, err := range map[string]error{
			"umask":          a.Umask(0o1777),
			"rlimit":         a.Rlimit(syscall.RLIMIT_NOFILE, 10, 5),
			"pdeathsig":      a.Pdeathsig(syscall.Signal(1000)),
			"signal_default": a.SignalDefault(syscall.SIGKILL),
			"signal_ignore":  a.SignalIgnore(syscall.SIGSTOP),
			"setpgid":        a.Setpgid(-1),
			"inherit_raw":    a.InheritRaw(3, -1, fdkit.InheritPreserve),
		} {
			if !errors.Is(err, syscall.EINVAL) {
				t.Errorf("%s: %v, want EINVAL", what, err)
			}
		}
		must(t, a.Close())
		if err := a.Setsid(); !errors.Is(err, fdkit.ErrClosed) {
			t.Fatalf("an action after Close: %v", err)
		}
		if _, err := a.Spawn(); !errors.Is(err, fdkit.ErrClosed) {
			t.Fatalf("spawn after Close: %v", err)
		}
	})
}

func TestFchdirInheritRawAndExecve(t *testing.T) {
	noLeaks(t, func() {
		tmp := t.TempDir()
		dir, err := fdkit.FS().Open(tmp, fdkit.O_DIRECTORY, 0)
		must(t, err)
		defer dir.Close()
		extra, err := os.Open("/dev/null")
		must(t, err)
		defer extra.Close()
		a := newActions(t)
		defer a.Close()
		must(t, a.Fchdir(dir))
		must(t, a.InheritRaw(5, int(extra.Fd()), fdkit.InheritBlocking))
		out, st := childOutput(t, a, "/bin/sh", "-c", "pwd; readlink /proc/self/fd/5")
		if !st.Success() || out != realTmp(t, tmp)+"\n/dev/null\n" {
			t.Fatalf("child: %+v %q", st, out)
		}
		b := newActions(t)
		defer b.Close()
		// Execve does no PATH search.
		must(t, b.Execve("sh", []string{"sh"}, nil))
		if _, err := b.Spawn(); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("execve of a bare name: %v", err)
		}
	})
}

// A child leading its own group (Setpgid(0)) takes its descendants along when the group is
// signalled.
func TestSetpgidAndSignalGroup(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		defer r.Close()
		a := newActions(t)
		defer a.Close()
		must(t, a.Setpgid(0))
		must(t, a.InheritFd(1, w))
		must(t, a.Execvp("sh", []string{"sh", "-c", "sleep 30 & echo $!; wait"}, nil))
		p, err := a.Spawn()
		w.Close()
		must(t, err)
		defer p.Close()
		buf := make([]byte, 32)
		n, err := r.Read(buf)
		must(t, err)
		grandchild, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
		must(t, err)
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
		must(t, err)
		if pgrp := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))[2]; pgrp != strconv.Itoa(p.Pid()) {
			t.Fatalf("the child's group is %s, not its pid %d", pgrp, p.Pid())
		}
		must(t, p.SignalGroup(syscall.SIGTERM))
		st, err := p.Wait()
		must(t, err)
		if st.Signal != syscall.SIGTERM {
			t.Fatalf("child: %+v", st)
		}
		for i := 0; syscall.Kill(grandchild, 0) == nil; i++ {
			if i == 500 {
				t.Fatalf("the grandchild %d outlived its group's SIGTERM", grandchild)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := p.SignalGroup(syscall.SIGTERM); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("signal_group after the reap: %v", err)
		}
	})
}

// Pdeathsig follows the spawning thread: Go ends a thread whose goroutine exits while locked
// to it, and the child gets its signal then.
func TestPdeathsigFollowsTheSpawningThread(t *testing.T) {
	noLeaks(t, func() {
		a := newActions(t)
		defer a.Close()
		must(t, a.Pdeathsig(syscall.SIGTERM))
		must(t, a.Execvp("sleep", []string{"sleep", "30"}, nil))
		spawned := make(chan *fdkit.Process)
		var spawn func()
		spawn = func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			if syscall.Gettid() == os.Getpid() {
				// Go never ends the process's main thread: spawn from another one.
				runtime.UnlockOSThread()
				go spawn()
				return
			}
			p, err := a.Spawn()
			if err != nil {
				t.Error(err)
			}
			spawned <- p
		}
		go spawn()
		p := <-spawned
		if p == nil {
			return
		}
		defer p.Close()
		st, err := p.Wait()
		must(t, err)
		if st.Signal != syscall.SIGTERM {
			t.Fatalf("child: %+v", st)
		}
	})
}

func TestLoginTtyNeedsATerminalAndItsOwnSession(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		defer r.Close()
		defer w.Close()
		a := newActions(t)
		defer a.Close()
		must(t, a.LoginTty(w))
		must(t, a.Execvp("true", []string{"true"}, nil))
		_, err := a.Spawn()
		var fe *fdkit.Error
		if !errors.Is(err, syscall.ENOTTY) || !errors.As(err, &fe) || !strings.Contains(fe.Detail, "login_tty") {
			t.Fatalf("login_tty on a pipe: %v", err)
		}
		b := newActions(t)
		defer b.Close()
		must(t, b.Setsid())
		if err := b.LoginTty(w); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("login_tty after setsid: %v", err)
		}
	})
}

// A child on a pseudo-terminal made its controlling terminal: the tty it reports is the one
// given.
func TestLoginTtyOnAPseudoTerminal(t *testing.T) {
	noLeaks(t, func() {
		master, err := fdkit.FS().Open("/dev/ptmx", fdkit.O_RDWR|fdkit.O_NOCTTY, 0)
		must(t, err)
		defer master.Close()
		var unlock, ptn int32
		must(t, master.Use(func(fd int) error {
			if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
				return e
			}
			if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&ptn))); e != 0 {
				return e
			}
			return nil
		}))
		name := fmt.Sprintf("/dev/pts/%d", ptn)
		tty, err := fdkit.FS().Open(name, fdkit.O_RDWR|fdkit.O_NOCTTY, 0)
		must(t, err)
		a := newActions(t)
		defer a.Close()
		must(t, a.LoginTty(tty))
		for fd := 0; fd < 3; fd++ {
			must(t, a.InheritFd(fd, tty))
		}
		must(t, a.Execvp("sh", []string{"sh", "-c", "tty; cat /proc/self/stat"}, nil))
		p, err := a.Spawn()
		tty.Close()
		must(t, err)
		defer p.Close()
		st, err := p.Wait()
		must(t, err)
		// With every end of the terminal closed, the master gives what the child wrote, then EIO.
		var out string
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			if err != nil {
				break
			}
			out += string(buf[:n])
		}
		if !st.Success() || !strings.HasPrefix(out, name+"\r\n") {
			t.Fatalf("child %+v wrote %q", st, out)
		}
	})
}

// Spawning with the fork and posix_spawn backends; posix_spawn refuses what it cannot
// express.
func TestSpawnBackends(t *testing.T) {
	noLeaks(t, func() {
		for _, backend := range []uint{fdkit.BackendFork, fdkit.BackendPosixSpawn} {
			a := execActions(t, "sh", "-c", "exit 4")
			a.Backend = backend
			p, err := a.Spawn()
			must(t, err)
			st, err := p.Wait()
			must(t, err)
			p.Close()
			a.Close()
			if st.Code != 4 {
				t.Fatalf("backend %d: %+v", backend, st)
			}
		}
		a := newActions(t)
		defer a.Close()
		a.Backend = fdkit.BackendPosixSpawn
		must(t, a.NoNewPrivs())
		must(t, a.Execvp("true", []string{"true"}, nil))
		if _, err := a.Spawn(); !errors.Is(err, syscall.ENOTSUP) {
			t.Fatalf("posix_spawn with no_new_privs: %v", err)
		}
	})
}

// Release leaves a child without a loop running, and fdkit reaps it once it exits: never a
// zombie.
func TestReleasedChildIsReapedNotKilled(t *testing.T) {
	noLeaks(t, func() {
		dir := t.TempDir()
		mark := filepath.Join(dir, "done")
		a := execActions(t, "sh", "-c", "sleep 0.3; touch "+mark)
		defer a.Close()
		p, err := a.Spawn()
		must(t, err)
		pid := p.Pid()
		must(t, p.Release())
		if p.Pid() != -1 {
			t.Fatalf("pid after release: %d", p.Pid())
		}
		if err := p.Signal(0); !errors.Is(err, fdkit.ErrClosed) {
			t.Fatalf("signal after release: %v", err)
		}
		running, err := fdkit.ReapDetached()
		must(t, err)
		if running < 1 {
			t.Fatalf("%d released children running", running)
		}
		for i := 0; ; i++ {
			running, err = fdkit.ReapDetached()
			must(t, err)
			if _, statErr := os.Stat(fmt.Sprintf("/proc/%d", pid)); running == 0 && os.IsNotExist(statErr) {
				break
			}
			if i == 500 {
				t.Fatalf("the released child %d was not reaped", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := os.Stat(mark); err != nil {
			t.Fatalf("the released child was killed before it finished: %v", err)
		}
	})
}

// InheritFdMode sets the blocking mode of the shared open file description; Usage is the
// reaped child's.
func TestInheritFdModeAndUsage(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		defer r.Close()
		defer w.Close()
		a := newActions(t)
		defer a.Close()
		must(t, a.InheritFdMode(1, w, fdkit.InheritBlocking))
		must(t, a.Execvp("sh", []string{"sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"}, nil))
		p, err := a.Spawn()
		must(t, err)
		defer p.Close()
		if _, ok := p.Usage(); ok {
			t.Fatal("usage before the child was reaped")
		}
		_, err = p.Wait()
		must(t, err)
		usage, ok := p.Usage()
		if !ok || usage.UserTime+usage.SystemTime <= 0 || usage.MaxRSSKiB <= 0 {
			t.Fatalf("usage %+v %v", usage, ok)
		}
		must(t, w.Use(func(fd int) error {
			flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
			if e != 0 {
				return e
			}
			if flags&syscall.O_NONBLOCK != 0 {
				t.Errorf("the shared description is still non-blocking: %#o", flags)
			}
			return nil
		}))
	})
}
