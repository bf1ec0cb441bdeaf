package fdkit_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"fdkit"
)

func TestRunCapturesOutputExitCodeAndStdin(t *testing.T) {
	noLeaks(t, func() {
		out, err := (&fdkit.Command{Argv: []string{"sh", "-c", "cat; echo err >&2; exit 3"}, Stdin: []byte("fed in")}).Run()
		must(t, err)
		if out.ExitCode != 3 || string(out.Stdout) != "fed in" || string(out.Stderr) != "err\n" || out.TimedOut {
			t.Fatalf("%+v", out)
		}
	})
}

func TestRunTimeoutKillsTheGroup(t *testing.T) {
	noLeaks(t, func() {
		out, err := (&fdkit.Command{Argv: []string{"sh", "-c", "sleep 30 & wait"}, TimeoutMs: 100, NewGroup: true}).Run()
		must(t, err)
		if !out.TimedOut || out.Signal != int(syscall.SIGKILL) || out.ExitCode != -1 {
			t.Fatalf("%+v", out)
		}
	})
}

func TestRunInADirAndAMissingProgram(t *testing.T) {
	noLeaks(t, func() {
		top, err := filepath.EvalSymlinks(t.TempDir())
		must(t, err)
		dir, err := fdkit.FsDir().OpenDir(top)
		must(t, err)
		out, err := (&fdkit.Command{Argv: []string{"pwd", "-P"}, Dir: dir}).Run()
		must(t, err)
		must(t, dir.Close())
		if string(out.Stdout) != top+"\n" {
			t.Fatalf("pwd %q, want %q", out.Stdout, top)
		}
		_, err = (&fdkit.Command{Argv: []string{"/nonexistent/program"}}).Run()
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("missing program: %v", err)
		}
	})
}
