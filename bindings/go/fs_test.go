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

func tempRoot(t *testing.T) (string, *fdkit.Dir) {
	t.Helper()
	top := t.TempDir()
	must(t, os.Mkdir(filepath.Join(top, "root"), 0o755))
	must(t, os.WriteFile(filepath.Join(top, "secret"), []byte("outside"), 0o644))
	root, err := fdkit.FsDir().OpenDir(filepath.Join(top, "root"))
	must(t, err)
	return top, root
}

func TestFilesDirectoriesLinksAndStat(t *testing.T) {
	noLeaks(t, func() {
		_, root := tempRoot(t)
		defer root.Close()
		f, err := root.Open("a.txt", fdkit.OWronly|fdkit.OCreat, 0o640)
		must(t, err)
		_, err = f.Write([]byte("hello"))
		must(t, err)
		must(t, f.Close())
		must(t, root.Mkdir("sub", 0o755))
		must(t, root.Symlink("../a.txt", "sub/link"))
		target, err := root.Readlink("sub/link")
		must(t, err)
		if target != "../a.txt" {
			t.Fatalf("readlink %q", target)
		}
		g, err := root.Open("sub/link", fdkit.ORdonly, 0)
		must(t, err)
		buf := make([]byte, 16)
		n, _ := g.Read(buf)
		must(t, g.Close())
		if string(buf[:n]) != "hello" {
			t.Fatalf("read %q through the link", buf[:n])
		}
		st, err := root.Stat("a.txt", true)
		must(t, err)
		if st.Kind != fdkit.KindRegular || st.Size != 5 || st.Perm != 0o640 {
			t.Fatalf("stat %+v", st)
		}
		if st, _ := root.Stat("sub/link", false); st.Kind != fdkit.KindSymlink {
			t.Fatalf("lstat %+v", st)
		}
		names, err := root.ReadDir("")
		must(t, err)
		if strings.Join(names, ",") != "a.txt,sub" {
			t.Fatalf("readdir %v", names)
		}
		must(t, root.Unlink("sub/link"))
		must(t, root.Rmdir("sub"))
		must(t, root.Unlink("a.txt"))
		if _, err := root.Stat("a.txt", true); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("stat after unlink: %v", err)
		}
	})
}

func TestEscapesAreRefusedWithEXDEV(t *testing.T) {
	noLeaks(t, func() {
		_, root := tempRoot(t)
		defer root.Close()
		must(t, root.Symlink("../secret", "out"))
		must(t, root.Symlink("/etc", "abs"))
		for _, path := range []string{"../secret", "out", "abs/passwd", "/etc/passwd"} {
			_, err := root.Open(path, fdkit.ORdonly, 0)
			var fe *fdkit.Error
			if !errors.Is(err, syscall.EXDEV) || !errors.As(err, &fe) || !strings.Contains(fe.Detail, "escapes") {
				t.Fatalf("%s: %v", path, err)
			}
		}
		if _, err := root.OpenDir(".."); !errors.Is(err, syscall.EXDEV) {
			t.Fatalf("opendir ..: %v", err)
		}
	})
}
