// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"fdkit"
)

// await starts one asynchronous call, checks that its callback did not run inside the
// call, and runs the loop until it did.
func await(t *testing.T, l *fdkit.Loop, what string, start func(finish func()) (*fdkit.Op, error)) {
	t.Helper()
	finished := false
	op, err := start(func() { finished = true })
	if err != nil {
		t.Fatalf("%s: the call failed: %v", what, err)
	}
	if finished || !op.Pending() {
		t.Fatalf("%s: the callback ran inside the call", what)
	}
	_, err = l.Run(fdkit.RunDefault)
	must(t, err)
	if !finished || op.Pending() {
		t.Fatalf("%s: the callback did not run", what)
	}
}

// Every asynchronous file system call, chained: each completes on the loop with what the
// synchronous call gives.
func TestAsyncFsCallsCompleteOnTheLoop(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		d, tmp := tmpDir(t)
		defer d.Close()
		var errs []error
		record := func(finish func()) func(error) {
			return func(err error) { errs = append(errs, err); finish() }
		}
		step := func(what string, start func(done func(error)) (*fdkit.Op, error)) {
			t.Helper()
			errs = nil
			await(t, l, what, func(finish func()) (*fdkit.Op, error) { return start(record(finish)) })
			if errs[0] != nil {
				t.Fatalf("%s: %v", what, errs[0])
			}
		}
		step("mkdir", func(done func(error)) (*fdkit.Op, error) { return l.MkdirAsync(d, "sub", 0o750, done) })
		must(t, os.WriteFile(filepath.Join(tmp, "sub/f"), []byte("12345"), 0o644))
		step("symlink", func(done func(error)) (*fdkit.Op, error) { return l.SymlinkAsync("sub/f", d, "link", done) })
		step("link", func(done func(error)) (*fdkit.Op, error) { return l.LinkAsync(d, "sub/f", d, "hard", done) })
		step("rename", func(done func(error)) (*fdkit.Op, error) { return l.RenameAsync(d, "hard", d, "sub/g", done) })
		step("chmod", func(done func(error)) (*fdkit.Op, error) { return l.ChmodAsync(d, "sub/g", 0o604, false, done) })
		step("chown", func(done func(error)) (*fdkit.Op, error) {
			return l.ChownAsync(d, "sub/g", -1, otherGid(), false, done)
		})
		mtime := time.Unix(1_500_000_000, 0)
		step("chtimes", func(done func(error)) (*fdkit.Op, error) {
			return l.ChtimesAsync(d, "link", time.Time{}, mtime, true, done)
		})
		var text string
		await(t, l, "readlink", func(finish func()) (*fdkit.Op, error) {
			return l.ReadlinkAsync(d, "link", func(s string, err error) { must(t, err); text = s; finish() })
		})
		if text != "sub/f" {
			t.Fatalf("readlink: %q", text)
		}
		await(t, l, "realpath", func(finish func()) (*fdkit.Op, error) {
			return l.RealpathAsync(d, "link", func(s string, err error) { must(t, err); text = s; finish() })
		})
		if text != "sub/f" {
			t.Fatalf("realpath: %q", text)
		}
		var st *fdkit.Stat
		await(t, l, "stat", func(finish func()) (*fdkit.Op, error) {
			return l.StatAsync(d, "sub/g", false, func(s *fdkit.Stat, err error) { must(t, err); st = s; finish() })
		})
		if st.Perm != 0o604 || st.Gid != uint32(otherGid()) || !st.Mtime.Equal(mtime) || st.Nlink != 2 || st.Size != 5 {
			t.Fatalf("stat after chmod, chown, chtimes, link: %+v", st)
		}
		var entries []fdkit.DirEntry
		await(t, l, "readdir", func(finish func()) (*fdkit.Op, error) {
			return l.ReadDirAsync(d, "sub", func(e []fdkit.DirEntry, err error) { must(t, err); entries = e; finish() })
		})
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
		if len(entries) != 2 || entries[0].Name != "f" || entries[1].Name != "g" {
			t.Fatalf("readdir: %+v", entries)
		}
		var sub *fdkit.Dir
		await(t, l, "opendir", func(finish func()) (*fdkit.Op, error) {
			return l.OpenDirAsync(d, "sub", func(s *fdkit.Dir, err error) { must(t, err); sub = s; finish() })
		})
		defer sub.Close()
		f, err := sub.Open("f", fdkit.O_RDONLY, 0)
		must(t, err)
		defer f.Close()
		await(t, l, "fstat", func(finish func()) (*fdkit.Op, error) {
			return l.FstatAsync(f, func(s *fdkit.Stat, err error) { must(t, err); st = s; finish() })
		})
		if st.Size != 5 || st.Kind != fdkit.KindRegular {
			t.Fatalf("fstat: %+v", st)
		}
		step("rename2", func(done func(error)) (*fdkit.Op, error) {
			return l.Rename2Async(sub, "g", d, "g2", fdkit.RenameNoReplace, done)
		})
		step("unlink", func(done func(error)) (*fdkit.Op, error) { return l.UnlinkAsync(d, "g2", done) })
		step("unlink", func(done func(error)) (*fdkit.Op, error) { return l.UnlinkAsync(sub, "f", done) })
		step("unlink", func(done func(error)) (*fdkit.Op, error) { return l.UnlinkAsync(d, "link", done) })
		step("rmdir", func(done func(error)) (*fdkit.Op, error) { return l.RmdirAsync(d, "sub", done) })
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("left behind: %v", left)
		}
	})
}

// Failures come through the callback as the synchronous call gives them: an *fs.PathError
// naming the call and the path, with the escape told apart.
func TestAsyncFsFailuresArePathErrors(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		d, _ := tmpDir(t)
		defer d.Close()
		var got error
		await(t, l, "rmdir", func(finish func()) (*fdkit.Op, error) {
			return l.RmdirAsync(d, "missing", func(err error) { got = err; finish() })
		})
		var pe *fs.PathError
		if !errors.As(got, &pe) || pe.Op != "rmdir" || pe.Path != "missing" || !errors.Is(got, fs.ErrNotExist) {
			t.Fatalf("rmdir of a missing dir: %#v", got)
		}
		await(t, l, "stat", func(finish func()) (*fdkit.Op, error) {
			return l.StatAsync(d, "../x", true, func(_ *fdkit.Stat, err error) { got = err; finish() })
		})
		if !errors.Is(got, fdkit.ErrEscape) {
			t.Fatalf("stat of an escape: %v", got)
		}
		await(t, l, "realpath", func(finish func()) (*fdkit.Op, error) {
			return l.RealpathAsync(d, "nope", func(_ string, err error) { got = err; finish() })
		})
		if !errors.Is(got, syscall.ENOENT) {
			t.Fatalf("realpath of a missing name: %v", got)
		}
		if _, err := l.MkdirAsync(d, "a\x00b", 0o700, func(error) { t.Error("called back") }); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("NUL in an async path: %v", err)
		}
		closed := newLoop(t)
		must(t, closed.Close())
		if _, err := closed.UnlinkAsync(d, "x", func(error) { t.Error("called back") }); !errors.Is(err, fdkit.ErrClosed) {
			t.Fatalf("async call on a closed loop: %v", err)
		}
	})
}
