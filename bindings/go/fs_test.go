// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"fdkit"
)

func TestEscapeFromAConfinedDirIsEXDEV(t *testing.T) {
	noLeaks(t, func() {
		tmp := t.TempDir()
		must(t, os.WriteFile(filepath.Join(tmp, "x"), []byte("outside"), 0o644))
		must(t, os.Mkdir(filepath.Join(tmp, "inner"), 0o755))
		dir, err := fdkit.FS().OpenDir(filepath.Join(tmp, "inner"))
		must(t, err)
		defer dir.Close()
		_, err = dir.Open("../x", fdkit.O_RDONLY, 0)
		if !errors.Is(err, syscall.EXDEV) {
			t.Fatalf("open ../x: %v, want EXDEV", err)
		}
		var fe *fdkit.Error
		if !errors.As(err, &fe) || !strings.Contains(fe.Detail, "../x") {
			t.Fatalf("detail does not name the path: %v", err)
		}
		// As os.Open reports it: an *fs.PathError naming the call and the path.
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Op != "open" || pe.Path != "../x" {
			t.Fatalf("not an *fs.PathError for open ../x: %#v", err)
		}
		if _, err := dir.Open("missing", fdkit.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("open missing: %v", err)
		}
		must(t, dir.Symlink("/etc/passwd", "abs"))
		if _, err := dir.Stat("abs", true); !errors.Is(err, syscall.EXDEV) {
			t.Fatalf("stat through an absolute symlink: %v", err)
		}
		f, err := fdkit.FS().Open(filepath.Join(tmp, "inner/../x"), fdkit.O_RDONLY, 0)
		must(t, err) // the unconfined file system follows ".."
		f.Close()
	})
}

func TestCreateStatListRenameRemove(t *testing.T) {
	noLeaks(t, func() {
		tmp := t.TempDir()
		dir, err := fdkit.FS().OpenDir(tmp)
		must(t, err)
		defer dir.Close()
		must(t, dir.Mkdir("sub", 0o755))
		f, err := dir.Open("sub/a", fdkit.O_WRONLY|fdkit.O_CREAT|fdkit.O_EXCL, 0o600)
		must(t, err)
		defer f.Close()
		_, err = f.Write([]byte("12345"))
		must(t, err)
		st, err := f.Stat()
		must(t, err)
		if st.Size != 5 || st.Kind != fdkit.KindRegular || st.Perm != 0o600 {
			t.Fatalf("fstat: %+v", st)
		}
		if _, err := dir.Open("sub/a", fdkit.O_CREAT|fdkit.O_EXCL, 0); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("O_EXCL on an existing file: %v", err)
		}
		must(t, dir.Symlink("a", "sub/link"))
		if target, err := dir.Readlink("sub/link"); err != nil || target != "a" {
			t.Fatalf("readlink: %q %v", target, err)
		}
		lst, err := dir.Stat("sub/link", false)
		must(t, err)
		fst, err := dir.Stat("sub/link", true)
		must(t, err)
		if lst.Kind != fdkit.KindSymlink || fst.Ino != st.Ino {
			t.Fatalf("lstat %+v, stat %+v", lst, fst)
		}
		entries, err := dir.ReadDir("sub")
		must(t, err)
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
		want := []fdkit.DirEntry{{Name: "a", Kind: fdkit.KindRegular}, {Name: "link", Kind: fdkit.KindSymlink}}
		if len(entries) != 2 || entries[0] != want[0] || entries[1] != want[1] {
			t.Fatalf("read_dir: %+v", entries)
		}
		sub, err := dir.OpenDir("sub")
		must(t, err)
		defer sub.Close()
		must(t, sub.Rename("a", dir, "b"))
		if data, err := os.ReadFile(filepath.Join(tmp, "b")); err != nil || string(data) != "12345" {
			t.Fatalf("renamed file: %q %v", data, err)
		}
		must(t, dir.Unlink("b"))
		if err := dir.Unlink("b"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("second unlink: %v", err)
		}
		if err := dir.Rmdir("sub"); !errors.Is(err, syscall.ENOTEMPTY) {
			t.Fatalf("rmdir of a non-empty dir: %v", err)
		}
		must(t, sub.Unlink("link"))
		must(t, dir.Rmdir("sub"))
	})
}

func TestDirFromFd(t *testing.T) {
	noLeaks(t, func() {
		tmp := t.TempDir()
		must(t, os.WriteFile(filepath.Join(tmp, "f"), nil, 0o644))
		fd, err := fdkit.FS().Open(tmp, fdkit.O_DIRECTORY, 0)
		must(t, err)
		dir, err := fdkit.DirFromFd(fd)
		must(t, err)
		st, err := dir.Stat("f", false)
		must(t, err)
		if st.Kind != fdkit.KindRegular {
			t.Fatalf("stat: %+v", st)
		}
		fd.Close() // one handle: closing it closes the directory too
		if _, err := dir.Stat("f", false); !errors.Is(err, syscall.EBADF) {
			t.Fatalf("stat after closing the descriptor: %v", err)
		}
		dir.Close()
		file, err := fdkit.FS().Open(filepath.Join(tmp, "f"), fdkit.O_RDONLY, 0)
		must(t, err)
		defer file.Close()
		if _, err := fdkit.DirFromFd(file); !errors.Is(err, syscall.ENOTDIR) {
			t.Fatalf("dir from a file: %v", err)
		}
	})
}

func TestOpenAsyncCompletesOnTheLoopAndRefusesEscapes(t *testing.T) {
	noLeaks(t, func() {
		tmp := t.TempDir()
		must(t, os.WriteFile(filepath.Join(tmp, "f"), []byte("async"), 0o644))
		must(t, os.Mkdir(filepath.Join(tmp, "inner"), 0o755))
		dir, err := fdkit.FS().OpenDir(filepath.Join(tmp, "inner"))
		must(t, err)
		l := newLoop(t)
		defer l.Close()
		var got []string
		_, err = l.OpenAsync(dir, "../f", fdkit.O_RDONLY, 0, func(f *fdkit.Fd, err error) {
			if !errors.Is(err, syscall.EXDEV) || f != nil {
				t.Errorf("async escape: %v %v", f, err)
			}
			got = append(got, "EXDEV")
		})
		must(t, err)
		_, err = l.OpenAsync(fdkit.FS(), filepath.Join(tmp, "f"), fdkit.O_RDONLY, 0, func(f *fdkit.Fd, err error) {
			must(t, err)
			defer f.Close()
			data, err := io.ReadAll(f)
			must(t, err)
			got = append(got, string(data))
		})
		must(t, err)
		dir.Close() // the operation holds its own reference
		if len(got) != 0 {
			t.Fatal("a callback ran inside OpenAsync")
		}
		l.Run(fdkit.RunDefault)
		sort.Strings(got)
		if len(got) != 2 || got[0] != "EXDEV" || got[1] != "async" {
			t.Fatalf("got %q", got)
		}
	})
}

// A NUL byte would cut the C string short ("secret\x00.png" naming "secret"): refused as
// os.Open refuses it, with an *fs.PathError wrapping EINVAL, before anything is touched.
func TestNULInAPathOrArgumentIsEINVAL(t *testing.T) {
	noLeaks(t, func() {
		tmp := t.TempDir()
		must(t, os.WriteFile(filepath.Join(tmp, "secret"), []byte("x"), 0o600))
		dir, err := fdkit.FS().OpenDir(tmp)
		must(t, err)
		defer dir.Close()
		_, osErr := os.Open(filepath.Join(tmp, "secret\x00.png"))
		actions, err := fdkit.NewActions()
		must(t, err)
		defer actions.Close()
		calls := map[string]func() error{
			"open":     func() error { _, err := dir.Open("secret\x00.png", fdkit.O_RDONLY, 0); return err },
			"stat":     func() error { _, err := dir.Stat("secret\x00.png", true); return err },
			"unlink":   func() error { return dir.Unlink("secret\x00x") },
			"rename":   func() error { return dir.Rename("secret", dir, "other\x00x") },
			"opendir":  func() error { _, err := fdkit.FS().OpenDir(tmp + "\x00/x"); return err },
			"run argv": func() error { _, err := fdkit.Run(&fdkit.RunOptions{Args: []string{"echo", "a\x00b"}}); return err },
			"run env": func() error {
				_, err := fdkit.Run(&fdkit.RunOptions{Args: []string{"true"}, Env: []string{"A=x\x00y"}})
				return err
			},
			"execvp": func() error { return actions.Execvp("true\x00x", []string{"true"}, nil) },
		}
		for name, call := range calls {
			err := call()
			var pe *fs.PathError
			if !errors.Is(err, syscall.EINVAL) || !errors.As(err, &pe) || !errors.Is(osErr, syscall.EINVAL) {
				t.Errorf("%s: %v, want an *fs.PathError wrapping EINVAL as os.Open gives (%v)", name, err, osErr)
			}
		}
		if _, err := os.Stat(filepath.Join(tmp, "secret")); err != nil {
			t.Fatalf("the file was touched: %v", err)
		}
	})
}
