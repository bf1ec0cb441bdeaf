// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"fdkit"
)

// tmpDir is a confined Dir on a fresh temporary directory (closed by the caller) and its path.
func tmpDir(t *testing.T) (*fdkit.Dir, string) {
	t.Helper()
	tmp := t.TempDir()
	d, err := fdkit.FS().OpenDir(tmp)
	must(t, err)
	return d, tmp
}

func TestLinkChmodChownChtimes(t *testing.T) {
	noLeaks(t, func() {
		d, tmp := tmpDir(t)
		defer d.Close()
		must(t, os.WriteFile(filepath.Join(tmp, "a"), []byte("data"), 0o644))
		must(t, d.Link("a", d, "b"))
		a, err := d.Stat("a", false)
		must(t, err)
		b, err := d.Stat("b", false)
		must(t, err)
		if a.Ino != b.Ino || b.Nlink != 2 {
			t.Fatalf("link: %+v %+v", a, b)
		}
		if err := d.Link("a", d, "b"); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("link onto an existing name: %v", err)
		}
		must(t, d.Chmod("a", 0o640|fs.ModeSetgid, false))
		gid := otherGid()
		must(t, d.Chown("a", -1, gid, false))
		atime := time.Unix(1_000_000_000, 123_456_789)
		must(t, d.Chtimes("a", atime, time.Time{}, false)) // zero: mtime unchanged
		st, err := d.Stat("a", false)
		must(t, err)
		if st.Mode != 0o640|fs.ModeSetgid || st.Perm != 0o640 || st.Gid != uint32(gid) || st.Uid != a.Uid {
			t.Fatalf("after chmod and chown: mode %v perm %v uid %d gid %d", st.Mode, st.Perm, st.Uid, st.Gid)
		}
		if !st.Atime.Equal(atime) || !st.Mtime.Equal(a.Mtime) {
			t.Fatalf("after chtimes: atime %v mtime %v (was %v)", st.Atime, st.Mtime, a.Mtime)
		}
		must(t, d.Symlink("a", "link"))
		if err := d.Chmod("link", 0o600, false); !errors.Is(err, syscall.EOPNOTSUPP) {
			t.Fatalf("chmod of a symlink itself: %v", err)
		}
		must(t, d.Chmod("link", 0o600, true)) // follows to a
		if st, err := d.Stat("a", false); err != nil || st.Mode != 0o600 {
			t.Fatalf("chmod through the link: %v %v", st.Mode, err)
		}
		if err := d.Chtimes("missing", time.Now(), time.Now(), false); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("chtimes of a missing file: %v", err)
		}
	})
}

func TestRename2AndRealpath(t *testing.T) {
	noLeaks(t, func() {
		d, tmp := tmpDir(t)
		defer d.Close()
		must(t, os.WriteFile(filepath.Join(tmp, "x"), []byte("x"), 0o644))
		must(t, os.WriteFile(filepath.Join(tmp, "y"), []byte("y"), 0o644))
		if err := d.Rename2("x", d, "y", fdkit.RenameNoReplace); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("rename without replace onto y: %v", err)
		}
		if err := d.Rename2("x", d, "y", fdkit.RenameExchange); err != nil && !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("exchange: %v", err)
		} else if err == nil {
			if data, _ := os.ReadFile(filepath.Join(tmp, "x")); string(data) != "y" {
				t.Fatalf("after the exchange x holds %q", data)
			}
		}
		must(t, os.Mkdir(filepath.Join(tmp, "sub"), 0o755))
		must(t, d.Symlink("sub/../y", "ly"))
		if p, err := d.Realpath("ly"); err != nil || p != "y" {
			t.Fatalf("realpath of a link: %q %v", p, err)
		}
		if p, err := d.Realpath(""); err != nil || p != "." {
			t.Fatalf("realpath of the dir itself: %q %v", p, err)
		}
		if p, err := fdkit.FS().Realpath(filepath.Join(tmp, "ly")); err != nil || p != filepath.Join(realTmp(t, tmp), "y") {
			t.Fatalf("unconfined realpath: %q %v", p, err)
		}
		if _, err := d.Realpath("../.."); !errors.Is(err, fdkit.ErrEscape) {
			t.Fatalf("realpath past the dir: %v", err)
		}
	})
}

// otherGid is a group the test may give its files: any as root, else its own.
func otherGid() int {
	if os.Geteuid() == 0 {
		return 4321
	}
	return os.Getgid()
}

// realTmp is tmp with its symlinks resolved (a temporary directory may sit behind one).
func realTmp(t *testing.T, tmp string) string {
	p, err := filepath.EvalSymlinks(tmp)
	must(t, err)
	return p
}

// ErrEscape tells a confined path's refusal from a genuine cross-device EXDEV: both have
// errno EXDEV.
func TestEscapeIsToldFromCrossDevice(t *testing.T) {
	noLeaks(t, func() {
		d, tmp := tmpDir(t)
		defer d.Close()
		_, err := d.Open("../outside", fdkit.O_RDONLY, 0)
		var fe *fdkit.Error
		if !errors.Is(err, fdkit.ErrEscape) || !errors.Is(err, syscall.EXDEV) || !errors.As(err, &fe) || !fe.Escape {
			t.Fatalf("escape: %#v", err)
		}
		var pe *fs.PathError
		if _, err := d.Stat("../outside", false); !errors.Is(err, fdkit.ErrEscape) || !errors.As(err, &pe) || pe.Op != "stat" {
			t.Fatalf("stat of an escape: %#v", err)
		}
		_, err = d.Open("missing", fdkit.O_RDONLY, 0)
		if errors.Is(err, fdkit.ErrEscape) {
			t.Fatalf("ENOENT taken for an escape: %v", err)
		}
		shm, err := fdkit.FS().Stat("/dev/shm", true)
		if err != nil {
			t.Logf("no /dev/shm: the cross-device half is not tested (%v)", err)
			return
		}
		here, err := d.Stat("", true)
		must(t, err)
		if shm.Dev == here.Dev {
			t.Logf("/dev/shm is on the temporary directory's file system: the cross-device half is not tested")
			return
		}
		must(t, os.WriteFile(filepath.Join(tmp, "f"), nil, 0o644))
		err = d.Rename("f", fdkit.FS(), "/dev/shm/fdkit-go-xdev")
		if !errors.Is(err, syscall.EXDEV) || errors.Is(err, fdkit.ErrEscape) {
			t.Fatalf("cross-device rename: %v", err)
		}
	})
}

func TestDirIterStreamsEntries(t *testing.T) {
	noLeaks(t, func() {
		d, tmp := tmpDir(t)
		defer d.Close()
		for _, name := range []string{"c", "a", "b"} {
			must(t, os.WriteFile(filepath.Join(tmp, name), nil, 0o644))
		}
		must(t, os.Mkdir(filepath.Join(tmp, "dir"), 0o755))
		it, err := d.OpenIter("")
		must(t, err)
		var got []fdkit.DirEntry
		for {
			e, err := it.Next()
			if err == io.EOF {
				break
			}
			must(t, err)
			got = append(got, e)
		}
		if _, err := it.Next(); err != io.EOF {
			t.Fatalf("next after the end: %v", err)
		}
		must(t, it.Close())
		must(t, it.Close())
		if _, err := it.Next(); !errors.Is(err, fdkit.ErrClosed) || !errors.Is(err, fs.ErrClosed) {
			t.Fatalf("next after close: %v", err)
		}
		sort.Slice(got, func(i, j int) bool { return got[i].Name < got[j].Name })
		want := []fdkit.DirEntry{{"a", fdkit.KindRegular}, {"b", fdkit.KindRegular}, {"c", fdkit.KindRegular}, {"dir", fdkit.KindDir}}
		if len(got) != len(want) {
			t.Fatalf("entries: %+v", got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("entries: %+v", got)
			}
		}
		if _, err := d.OpenIter("a"); !errors.Is(err, syscall.ENOTDIR) {
			t.Fatalf("iterating a file: %v", err)
		}
	})
}

func TestStatDescribesEveryField(t *testing.T) {
	noLeaks(t, func() {
		null, err := fdkit.FS().Stat("/dev/null", true)
		must(t, err)
		if null.Kind != fdkit.KindChar || null.Rdev != 1<<8|3 || null.Mode&fs.ModeCharDevice == 0 {
			t.Fatalf("/dev/null: %+v", null)
		}
		d, tmp := tmpDir(t)
		defer d.Close()
		must(t, os.WriteFile(filepath.Join(tmp, "f"), make([]byte, 10000), 0o600))
		st, err := d.Stat("f", false)
		must(t, err)
		var sys syscall.Stat_t
		must(t, syscall.Stat(filepath.Join(tmp, "f"), &sys))
		if st.Blocks != sys.Blocks || st.Blksize != sys.Blksize || st.Mode != 0o600 || st.Size != 10000 {
			t.Fatalf("stat %+v, kernel %+v", st, sys)
		}
		if !st.Ctime.Equal(time.Unix(sys.Ctim.Unix())) || !st.Atime.Equal(time.Unix(sys.Atim.Unix())) {
			t.Fatalf("times %v %v, kernel %v %v", st.Ctime, st.Atime, sys.Ctim, sys.Atim)
		}
		if !st.Btime.IsZero() && st.Btime.After(st.Ctime) {
			t.Fatalf("born %v after its last change %v", st.Btime, st.Ctime)
		}
		dir, err := d.Stat("", false)
		must(t, err)
		if !dir.Mode.IsDir() || dir.Kind != fdkit.KindDir {
			t.Fatalf("dir mode %v", dir.Mode)
		}
	})
}

func TestDirRefHandleAndCallsAfterClose(t *testing.T) {
	noLeaks(t, func() {
		d, tmp := tmpDir(t)
		must(t, os.WriteFile(filepath.Join(tmp, "f"), nil, 0o644))
		ref, err := d.Ref()
		must(t, err)
		must(t, d.Close())
		must(t, d.Close())
		if _, err := d.Open("f", fdkit.O_RDONLY, 0); !errors.Is(err, fdkit.ErrClosed) || !errors.Is(err, fs.ErrClosed) {
			t.Fatalf("open after close: %v", err)
		}
		if _, err := d.Ref(); !errors.Is(err, fdkit.ErrClosed) {
			t.Fatalf("ref after close: %v", err)
		}
		if _, err := ref.Stat("f", false); err != nil {
			t.Fatalf("the other reference was closed too: %v", err)
		}
		h, err := ref.Handle()
		must(t, err)
		st, err := h.Stat()
		must(t, err)
		if st.Kind != fdkit.KindDir {
			t.Fatalf("handle: %+v", st)
		}
		must(t, h.Close()) // one handle: the directory closes with it
		if _, err := ref.Stat("f", false); !errors.Is(err, syscall.EBADF) {
			t.Fatalf("stat after closing the handle: %v", err)
		}
		must(t, ref.Close())
		for _, d := range []*fdkit.Dir{fdkit.FS(), fdkit.Cwd()} {
			if h, err := d.Handle(); h != nil || err != nil {
				t.Fatalf("FS and Cwd have no handle: %v %v", h, err)
			}
			if r, err := d.Ref(); err != nil || r != d {
				t.Fatalf("ref of a singleton: %v %v", r, err)
			}
		}
	})
}

func TestOpenFlagsAndResolveBackend(t *testing.T) {
	for flags, ok := range map[uint]bool{
		fdkit.O_RDONLY: true, fdkit.O_RDWR | fdkit.O_CREAT | fdkit.O_SYNC: true, fdkit.O_PATH | fdkit.O_NOFOLLOW: true,
		fdkit.O_WRONLY | fdkit.O_RDWR: false, fdkit.O_PATH | fdkit.O_CREAT: false, 1 << 30: false,
	} {
		if fdkit.OpenFlagsSupported(flags) != ok {
			t.Errorf("OpenFlagsSupported(%#x) = %v", flags, !ok)
		}
	}
	noLeaks(t, func() {
		defer fdkit.SetResolveBackend(fdkit.ResolveAuto)
		must(t, fdkit.SetResolveBackend(fdkit.ResolveFallback))
		if b := fdkit.ResolveBackend(); b != fdkit.ResolveFallback {
			t.Fatalf("backend %d after forcing the fallback", b)
		}
		d, _ := tmpDir(t)
		defer d.Close()
		if _, err := d.Open("../x", fdkit.O_RDONLY, 0); !errors.Is(err, fdkit.ErrEscape) {
			t.Fatalf("escape under the fallback: %v", err)
		}
		if err := fdkit.SetResolveBackend(99); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("unknown backend: %v", err)
		}
		must(t, fdkit.SetResolveBackend(fdkit.ResolveAuto))
		if b := fdkit.ResolveBackend(); b != fdkit.ResolveOpenat2 && b != fdkit.ResolveFallback {
			t.Fatalf("backend %d", b)
		}
	})
}
