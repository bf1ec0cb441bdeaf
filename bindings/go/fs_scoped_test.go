// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"

	"fdkit"
)

// wantPathErr fails unless err is an *fs.PathError of op on path wrapping want.
func wantPathErr(t *testing.T, what string, err error, op, path string, want error) {
	t.Helper()
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Op != op || pe.Path != path || !errors.Is(err, want) {
		t.Fatalf("%s: got %#v (%v), want a %s error on %q wrapping %v", what, err, err, op, path, want)
	}
}

// scopedTree makes real/f ("data"), real/self -> f, ln -> real and real/abs -> /f.
func scopedTree(t *testing.T, tmp string) {
	t.Helper()
	must(t, os.Mkdir(filepath.Join(tmp, "real"), 0o755))
	must(t, os.WriteFile(filepath.Join(tmp, "real/f"), []byte("data"), 0o644))
	must(t, os.Symlink("f", filepath.Join(tmp, "real/self")))
	must(t, os.Symlink("real", filepath.Join(tmp, "ln")))
	must(t, os.Symlink("/f", filepath.Join(tmp, "real/abs")))
}

func readAll(t *testing.T, d *fdkit.Dir, path string) string {
	t.Helper()
	f, err := d.Open(path, fdkit.O_RDONLY, 0)
	must(t, err)
	defer f.Close()
	buf := make([]byte, 64)
	n, err := f.Read(buf)
	must(t, err)
	return string(buf[:n])
}

func TestOpenDir2NoFollowAndNoSymlinks(t *testing.T) {
	noLeaks(t, func() {
		d, tmp := tmpDir(t)
		defer d.Close()
		scopedTree(t, tmp)
		_, err := d.OpenDir2("ln", fdkit.DirNoFollow)
		wantPathErr(t, "NOFOLLOW on a symlink", err, "opendir", "ln", syscall.ENOTDIR)
		real, err := d.OpenDir2("real", fdkit.DirNoFollow)
		must(t, err)
		real.Close()
		_, err = d.OpenDir2("ln", fdkit.DirNoSymlinks)
		wantPathErr(t, "NO_SYMLINKS through a symlink", err, "opendir", "ln", syscall.ELOOP)
		_, err = d.OpenDir2("real", 0x100)
		wantPathErr(t, "an unknown flag", err, "opendir", "real", syscall.EINVAL)

		scoped, err := d.OpenDir2("", fdkit.DirNoSymlinks)
		must(t, err)
		defer scoped.Close()
		_, err = scoped.Open("ln/f", fdkit.O_RDONLY, 0)
		wantPathErr(t, "a symlink beneath a NO_SYMLINKS dir", err, "open", "ln/f", syscall.ELOOP)
		if got := readAll(t, scoped, "real/f"); got != "data" {
			t.Fatalf("read beneath the scoped dir: %q", got)
		}
		st, err := scoped.Stat("real/self", false) // a last component not followed may be one
		must(t, err)
		if st.Kind != fdkit.KindSymlink {
			t.Fatalf("lstat beneath the scoped dir: %v", st.Kind)
		}
		// A dir opened beneath a scoped one keeps the scope.
		inner, err := scoped.OpenDir("real")
		must(t, err)
		defer inner.Close()
		_, err = inner.Open("self", fdkit.O_RDONLY, 0)
		wantPathErr(t, "a symlink beneath a dir opened in a NO_SYMLINKS dir", err, "open", "self", syscall.ELOOP)
		plain, err := d.OpenDir("real")
		must(t, err)
		defer plain.Close()
		if got := readAll(t, plain, "self"); got != "data" {
			t.Fatalf("a plain dir follows the symlink: %q", got)
		}
	})
}

func TestOpenDir2InRootAndNoXdev(t *testing.T) {
	noLeaks(t, func() {
		d, tmp := tmpDir(t)
		defer d.Close()
		scopedTree(t, tmp)
		root, err := d.OpenDir2("real", fdkit.DirInRoot)
		must(t, err)
		defer root.Close()
		for _, path := range []string{"/f", "../../f", "abs"} {
			if got := readAll(t, root, path); got != "data" {
				t.Fatalf("%s beneath an IN_ROOT dir: %q", path, got)
			}
		}
		plain, err := d.OpenDir("real")
		must(t, err)
		defer plain.Close()
		for _, path := range []string{"/f", "../../f", "abs"} {
			_, err := plain.Open(path, fdkit.O_RDONLY, 0)
			wantPathErr(t, path+" beneath a plain dir", err, "open", path, fdkit.ErrEscape)
		}

		// /proc is a mount of its own beneath /.
		slash, err := fdkit.FS().OpenDir2("/", fdkit.DirNoXdev)
		must(t, err)
		defer slash.Close()
		_, err = slash.OpenDir("proc")
		wantPathErr(t, "into a mount beneath a NO_XDEV dir", err, "opendir", "proc", syscall.EXDEV)
		self, err := fdkit.FS().OpenDir2("/proc/self", fdkit.DirNoXdev)
		must(t, err) // the scope starts at the new dir, not at its base
		self.Close()
		etc, err := slash.OpenDir("etc")
		must(t, err)
		etc.Close()
	})
}

func TestLink2FollowsAndLinkFdPublishesATmpfile(t *testing.T) {
	noLeaks(t, func() {
		d, tmp := tmpDir(t)
		defer d.Close()
		must(t, os.WriteFile(filepath.Join(tmp, "a"), []byte("data"), 0o644))
		must(t, d.Symlink("a", "s"))
		must(t, d.Link2("s", d, "itself", false))
		must(t, d.Link2("s", d, "target", true))
		a, err := d.Stat("a", false)
		must(t, err)
		itself, err := d.Stat("itself", false)
		must(t, err)
		target, err := d.Stat("target", false)
		must(t, err)
		if itself.Kind != fdkit.KindSymlink || target.Ino != a.Ino || target.Nlink != 2 {
			t.Fatalf("link without follow %+v, with follow %+v (a %+v)", itself, target, a)
		}
		err = d.Link2("s", d, "target", true)
		wantPathErr(t, "link onto an existing name", err, "link", "s", fs.ErrExist)

		f, err := d.Open("", fdkit.O_TMPFILE|fdkit.O_RDWR, 0o600)
		must(t, err)
		defer f.Close()
		_, err = f.Write([]byte("unnamed"))
		must(t, err)
		if entries, _ := os.ReadDir(tmp); len(entries) != 4 {
			t.Fatalf("the tmpfile has a name before LinkFd: %v", entries)
		}
		must(t, d.LinkFd(f, "published"))
		if got, err := os.ReadFile(filepath.Join(tmp, "published")); err != nil || string(got) != "unnamed" {
			t.Fatalf("the published file: %q %v", got, err)
		}
		err = d.LinkFd(f, "published")
		wantPathErr(t, "publish onto an existing name", err, "link", "published", fs.ErrExist)

		excl, err := d.Open("", fdkit.O_TMPFILE|fdkit.O_RDWR|fdkit.O_EXCL, 0o600)
		must(t, err)
		err = d.LinkFd(excl, "never")
		wantPathErr(t, "publish an O_EXCL tmpfile", err, "link", "never", syscall.ENOENT)
		must(t, excl.Close())
		err = d.LinkFd(excl, "closed")
		wantPathErr(t, "publish a closed handle", err, "link", "closed", syscall.EBADF)
		err = d.LinkFd(f, "../out")
		wantPathErr(t, "publish outside the dir", err, "link", "../out", fdkit.ErrEscape)
	})
}

func TestMknodMkfifoTruncateAccess(t *testing.T) {
	noLeaks(t, func() {
		d, tmp := tmpDir(t)
		defer d.Close()
		must(t, d.Mkfifo("fifo", 0o600))
		must(t, d.Mknod("sock", fdkit.KindSocket, 0o600, 0))
		must(t, d.Mknod("reg", fdkit.KindRegular, 0o600, 0))
		for path, kind := range map[string]fdkit.FileKind{"fifo": fdkit.KindFifo, "sock": fdkit.KindSocket, "reg": fdkit.KindRegular} {
			st, err := d.Stat(path, false)
			must(t, err)
			if st.Kind != kind || st.Perm != 0o600 {
				t.Fatalf("%s: kind %v perm %v", path, st.Kind, st.Perm)
			}
		}
		const null = 1<<8 | 3 // makedev(1, 3)
		if err := d.Mknod("null", fdkit.KindChar, 0o600, null); errors.Is(err, syscall.EPERM) {
			t.Log("no CAP_MKNOD: the device node is not checked")
		} else {
			must(t, err)
			st, err := d.Stat("null", false)
			must(t, err)
			if st.Kind != fdkit.KindChar || st.Rdev != null {
				t.Fatalf("char device: kind %v rdev %#x", st.Kind, st.Rdev)
			}
		}
		err := d.Mknod("dir", fdkit.KindDir, 0o700, 0)
		wantPathErr(t, "mknod of a directory", err, "mknod", "dir", syscall.EINVAL)
		err = d.Mkfifo("fifo", 0o600)
		wantPathErr(t, "mkfifo onto an existing name", err, "mkfifo", "fifo", fs.ErrExist)

		must(t, os.WriteFile(filepath.Join(tmp, "file"), []byte("0123456789"), 0o644))
		must(t, d.Symlink("file", "link"))
		must(t, d.Truncate("file", 6))
		must(t, d.Truncate("link", 3)) // follows the symlink
		if got, _ := os.ReadFile(filepath.Join(tmp, "file")); string(got) != "012" {
			t.Fatalf("after truncate: %q", got)
		}
		must(t, d.Mkdir("sub", 0o755))
		wantPathErr(t, "truncate a directory", d.Truncate("sub", 0), "truncate", "sub", syscall.EISDIR)
		wantPathErr(t, "truncate to a negative size", d.Truncate("file", -1), "truncate", "file", syscall.EINVAL)

		must(t, d.Access("file", fdkit.AccessRead|fdkit.AccessWrite, false, false))
		must(t, d.Access("file", fdkit.AccessRead, true, true))
		// No execute bit at all: refused even to root.
		wantPathErr(t, "exec of a 0644 file", d.Access("file", fdkit.AccessExec, false, false), "access", "file", syscall.EACCES)
		must(t, d.Symlink("missing", "dangling"))
		must(t, d.Access("dangling", fdkit.AccessExists, false, false))
		wantPathErr(t, "follow a dangling symlink", d.Access("dangling", fdkit.AccessExists, true, false),
			"access", "dangling", syscall.ENOENT)
		wantPathErr(t, "unknown permission bits", d.Access("file", 0x10, false, false), "access", "file", syscall.EINVAL)
		wantPathErr(t, "access outside the dir", d.Access("../x", fdkit.AccessExists, false, false), "access", "../x", fdkit.ErrEscape)
	})
}

// xattrDir is tmpDir on a file system that keeps user attributes (the test skips otherwise).
func xattrDir(t *testing.T) (*fdkit.Dir, string) {
	t.Helper()
	d, tmp := tmpDir(t)
	must(t, os.WriteFile(filepath.Join(tmp, "file"), []byte("x"), 0o644))
	if err := d.Setxattr("file", "user.probe", nil, 0, false); errors.Is(err, syscall.EOPNOTSUPP) {
		d.Close()
		t.Skip("the temporary directory's file system keeps no user attributes")
	}
	must(t, d.Removexattr("file", "user.probe", false))
	return d, tmp
}

func hasName(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestXattrsSetGetListRemove(t *testing.T) {
	noLeaks(t, func() {
		d, _ := xattrDir(t)
		defer d.Close()
		must(t, d.Setxattr("file", "user.colour", []byte("blue\x00green"), 0, false))
		must(t, d.Setxattr("file", "user.empty", nil, fdkit.XattrCreate, false))
		if v, err := d.Getxattr("file", "user.colour", false); err != nil || string(v) != "blue\x00green" {
			t.Fatalf("getxattr: %q %v", v, err)
		}
		if v, err := d.Getxattr("file", "user.empty", false); err != nil || len(v) != 0 {
			t.Fatalf("getxattr of an empty value: %q %v", v, err)
		}
		names, err := d.Listxattr("file", false)
		must(t, err)
		if !hasName(names, "user.colour") || !hasName(names, "user.empty") || hasName(names, "") {
			t.Fatalf("listxattr: %q", names)
		}
		wantPathErr(t, "create an existing attribute", d.Setxattr("file", "user.colour", []byte("red"), fdkit.XattrCreate, false),
			"setxattr", "file", fs.ErrExist)
		wantPathErr(t, "replace a missing attribute", d.Setxattr("file", "user.none", []byte("red"), fdkit.XattrReplace, false),
			"setxattr", "file", syscall.ENODATA)
		wantPathErr(t, "create and replace", d.Setxattr("file", "user.colour", nil, fdkit.XattrCreate|fdkit.XattrReplace, false),
			"setxattr", "file", syscall.EINVAL)
		must(t, d.Setxattr("file", "user.colour", []byte("red"), fdkit.XattrReplace, false))

		must(t, d.Symlink("file", "link"))
		if v, err := d.Getxattr("link", "user.colour", true); err != nil || string(v) != "red" {
			t.Fatalf("getxattr through a symlink: %q %v", v, err)
		}
		wantPathErr(t, "a user attribute on a symlink itself", d.Setxattr("link", "user.colour", []byte("x"), 0, false),
			"setxattr", "link", syscall.EPERM)
		if names, err := d.Listxattr("link", true); err != nil || !hasName(names, "user.colour") {
			t.Fatalf("listxattr through a symlink: %q %v", names, err)
		}

		must(t, d.Removexattr("link", "user.colour", true))
		_, err = d.Getxattr("file", "user.colour", false)
		wantPathErr(t, "a removed attribute", err, "getxattr", "file", syscall.ENODATA)
		wantPathErr(t, "remove a missing attribute", d.Removexattr("file", "user.colour", false), "removexattr", "file", syscall.ENODATA)
		_, err = d.Getxattr("../file", "user.colour", false)
		wantPathErr(t, "getxattr outside the dir", err, "getxattr", "../file", fdkit.ErrEscape)
		_, err = d.Listxattr("../file", false)
		wantPathErr(t, "listxattr outside the dir", err, "listxattr", "../file", fdkit.ErrEscape)
		wantPathErr(t, "a NUL in a name", d.Setxattr("file", "user.a\x00b", nil, 0, false), "setxattr", "user.a\x00b", syscall.EINVAL)
	})
}

func TestRenameWhiteoutLeavesAWhiteout(t *testing.T) {
	noLeaks(t, func() {
		d, tmp := tmpDir(t)
		defer d.Close()
		must(t, os.WriteFile(filepath.Join(tmp, "a"), []byte("data"), 0o644))
		err := d.Rename2("a", d, "b", fdkit.RenameWhiteout)
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) {
			t.Skipf("no whiteouts here (no CAP_MKNOD or a file system without them): %v", err)
		}
		must(t, err)
		st, err := d.Stat("a", false)
		must(t, err)
		if st.Kind != fdkit.KindChar || st.Rdev != 0 {
			t.Fatalf("the whiteout: kind %v rdev %#x", st.Kind, st.Rdev)
		}
		if got, _ := os.ReadFile(filepath.Join(tmp, "b")); string(got) != "data" {
			t.Fatalf("the renamed file: %q", got)
		}
		err = d.Rename2("b", d, "a", fdkit.RenameExchange|fdkit.RenameWhiteout)
		wantPathErr(t, "EXCHANGE with WHITEOUT", err, "rename", "b", syscall.EINVAL)
	})
}

// Every asynchronous form completes on the loop with what the synchronous call gives.
func TestScopedAsyncFormsCompleteOnTheLoop(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		d, tmp := xattrDir(t)
		defer d.Close()
		scopedTree(t, tmp)
		var got error
		result := func(finish func()) func(error) { return func(err error) { got = err; finish() } }
		step := func(what string, start func(done func(error)) (*fdkit.Op, error)) error {
			t.Helper()
			got = nil
			await(t, l, what, func(finish func()) (*fdkit.Op, error) { return start(result(finish)) })
			return got
		}

		var scoped *fdkit.Dir
		await(t, l, "opendir2", func(finish func()) (*fdkit.Op, error) {
			return l.OpenDir2Async(d, "real", fdkit.DirNoSymlinks, func(s *fdkit.Dir, err error) { must(t, err); scoped = s; finish() })
		})
		defer scoped.Close()
		_, err := scoped.Open("self", fdkit.O_RDONLY, 0)
		wantPathErr(t, "a symlink beneath a dir opened async with NO_SYMLINKS", err, "open", "self", syscall.ELOOP)
		await(t, l, "opendir2 refused", func(finish func()) (*fdkit.Op, error) {
			return l.OpenDir2Async(d, "ln", fdkit.DirNoFollow, func(s *fdkit.Dir, err error) {
				if s != nil {
					t.Error("a dir with the error")
				}
				got = err
				finish()
			})
		})
		wantPathErr(t, "async NOFOLLOW on a symlink", got, "opendir", "ln", syscall.ENOTDIR)
		if _, err := l.OpenDir2Async(d, "real", 0x100, func(*fdkit.Dir, error) { t.Error("called back") }); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("async unknown flag: %v", err)
		}

		must(t, step("link2", func(done func(error)) (*fdkit.Op, error) { return l.Link2Async(d, "real/self", d, "hard", true, done) }))
		if st, err := d.Stat("hard", false); err != nil || st.Kind != fdkit.KindRegular || st.Nlink != 2 {
			t.Fatalf("link2 with follow: %+v %v", st, err)
		}
		f, err := d.Open("", fdkit.O_TMPFILE|fdkit.O_WRONLY, 0o600)
		must(t, err)
		defer f.Close()
		_, err = f.Write([]byte("tmp"))
		must(t, err)
		must(t, step("linkfd", func(done func(error)) (*fdkit.Op, error) { return l.LinkFdAsync(d, f, "published", done) }))
		if data, _ := os.ReadFile(filepath.Join(tmp, "published")); string(data) != "tmp" {
			t.Fatalf("published: %q", data)
		}
		wantPathErr(t, "async linkfd onto an existing name",
			step("linkfd", func(done func(error)) (*fdkit.Op, error) { return l.LinkFdAsync(d, f, "published", done) }),
			"link", "published", fs.ErrExist)
		must(t, step("mkfifo", func(done func(error)) (*fdkit.Op, error) { return l.MkfifoAsync(d, "fifo", 0o600, done) }))
		must(t, step("mknod", func(done func(error)) (*fdkit.Op, error) {
			return l.MknodAsync(d, "sock", fdkit.KindSocket, 0o600, 0, done)
		}))
		for path, kind := range map[string]fdkit.FileKind{"fifo": fdkit.KindFifo, "sock": fdkit.KindSocket} {
			if st, err := d.Stat(path, false); err != nil || st.Kind != kind {
				t.Fatalf("%s: %+v %v", path, st, err)
			}
		}
		must(t, step("truncate", func(done func(error)) (*fdkit.Op, error) { return l.TruncatePathAsync(d, "published", 1, done) }))
		if data, _ := os.ReadFile(filepath.Join(tmp, "published")); string(data) != "t" {
			t.Fatalf("after truncate: %q", data)
		}
		must(t, step("access", func(done func(error)) (*fdkit.Op, error) {
			return l.AccessAsync(d, "published", fdkit.AccessRead|fdkit.AccessWrite, false, true, done)
		}))
		wantPathErr(t, "async exec of a 0600 file", step("access", func(done func(error)) (*fdkit.Op, error) {
			return l.AccessAsync(d, "published", fdkit.AccessExec, false, false, done)
		}), "access", "published", syscall.EACCES)

		must(t, step("setxattr", func(done func(error)) (*fdkit.Op, error) {
			value := []byte("v1")
			op, err := l.SetxattrAsync(d, "file", "user.k", value, fdkit.XattrCreate, false, done)
			copy(value, "XX") // the starting call copied it
			return op, err
		}))
		var value []byte
		await(t, l, "getxattr", func(finish func()) (*fdkit.Op, error) {
			return l.GetxattrAsync(d, "file", "user.k", false, func(v []byte, err error) { must(t, err); value = v; finish() })
		})
		if string(value) != "v1" {
			t.Fatalf("getxattr: %q", value)
		}
		var names []string
		await(t, l, "listxattr", func(finish func()) (*fdkit.Op, error) {
			return l.ListxattrAsync(d, "file", false, func(n []string, err error) { must(t, err); names = n; finish() })
		})
		if !hasName(names, "user.k") {
			t.Fatalf("listxattr: %q", names)
		}
		must(t, step("removexattr", func(done func(error)) (*fdkit.Op, error) {
			return l.RemovexattrAsync(d, "file", "user.k", false, done)
		}))
		await(t, l, "getxattr", func(finish func()) (*fdkit.Op, error) {
			return l.GetxattrAsync(d, "file", "user.k", false, func(v []byte, err error) { got = err; finish() })
		})
		wantPathErr(t, "async getxattr of a removed attribute", got, "getxattr", "file", syscall.ENODATA)
		if _, err := l.SetxattrAsync(d, "file", "user.k", nil, fdkit.XattrCreate|fdkit.XattrReplace, false,
			func(error) { t.Error("called back") }); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("async create and replace: %v", err)
		}

		entries, err := d.ReadDir("")
		must(t, err)
		var left []string
		for _, e := range entries {
			left = append(left, e.Name)
		}
		sort.Strings(left)
		if want := "[fifo file hard ln published real sock]"; fmt.Sprint(left) != want {
			t.Fatalf("entries: %v, want %s", left, want)
		}
	})
}
