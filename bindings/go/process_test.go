package fdkit_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"fdkit"
)

func TestSpawnInheritsCwdAndExitCode(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		top, err := filepath.EvalSymlinks(t.TempDir())
		must(t, err)
		p, err := (&fdkit.Spawn{Argv: []string{"sh", "-c", "pwd -P >&5; exit 7"}, Dir: top,
			Inherit: map[int]*fdkit.Fd{5: w}, CloseOtherFds: true}).Start()
		must(t, err)
		defer p.Free()
		must(t, w.Close())
		st, err := p.Wait()
		must(t, err)
		if st.Code != 7 || st.Signal != 0 || p.Pid() <= 0 {
			t.Fatalf("%+v pid %d", st, p.Pid())
		}
		buf := make([]byte, 4096)
		n, _ := r.Read(buf)
		if string(buf[:n]) != top+"\n" {
			t.Fatalf("child wrote %q", buf[:n])
		}
		must(t, r.Close())
	})
}

func TestSpawnSignalAndReaped(t *testing.T) {
	noLeaks(t, func() {
		p, err := (&fdkit.Spawn{Argv: []string{"sleep", "30"}, Setsid: true}).Start()
		must(t, err)
		defer p.Free()
		if _, ok, err := p.TryWait(); ok || err != nil {
			t.Fatalf("try_wait of a running child: %v %v", ok, err)
		}
		must(t, p.Signal(int(syscall.SIGTERM)))
		st, err := p.Wait()
		must(t, err)
		if st.Signal != int(syscall.SIGTERM) {
			t.Fatalf("%+v", st)
		}
		if err := p.Signal(int(syscall.SIGTERM)); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("signal after reap: %v", err)
		}
	})
}

func TestSpawnFailingActionNamesItself(t *testing.T) {
	noLeaks(t, func() {
		_, err := (&fdkit.Spawn{Argv: []string{"true"}, Dir: "/nonexistent-dir"}).Start()
		var fe *fdkit.Error
		if !errors.Is(err, os.ErrNotExist) || !errors.As(err, &fe) || !strings.Contains(fe.Detail, "chdir") {
			t.Fatalf("chdir to a missing dir: %v", err)
		}
		if _, err := (&fdkit.Spawn{Argv: []string{"no-such-program-anywhere"}}).Start(); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("missing program: %v", err)
		}
	})
}
