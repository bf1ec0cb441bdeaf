# SPDX-License-Identifier: MIT
"""fs.h: confined directories, the calls made beneath them, and an escape refused."""
import errno
import os
import shutil
import tempfile

import fdkit
from support import TestCase


class FsTest(TestCase):
    def setUp(self):
        super().setUp()
        self.top = tempfile.mkdtemp()
        os.mkdir(os.path.join(self.top, "root"))
        with open(os.path.join(self.top, "secret"), "w") as f:
            f.write("outside")
        self.root = fdkit.Dir.at(os.path.join(self.top, "root"))

    def tearDown(self):
        self.root.dispose()
        shutil.rmtree(self.top)
        super().tearDown()

    def test_nul_in_a_path_is_value_error_as_in_os_open(self):
        # "secret\0.png" must not silently name "secret".
        with self.root.open("secret", fdkit.O_WRONLY | fdkit.O_CREAT, 0o600):
            pass
        for call in (lambda: self.root.open("secret\0.png"), lambda: self.root.stat("secret\0.png"),
                     lambda: self.root.unlink("secret\0x"), lambda: self.root.mkdir("d\0x"),
                     lambda: fdkit.Dir.at(self.top + "\0/root")):
            with self.assertRaisesRegex(ValueError, "embedded null byte"):
                call()
        self.assertEqual(os.listdir(os.path.join(self.top, "root")), ["secret"])

    def test_files_directories_links_and_stat(self):
        with self.root.open("a.txt", fdkit.O_WRONLY | fdkit.O_CREAT, 0o640) as f:
            self.assertEqual(f.write(b"hello"), 5)
        self.root.mkdir("sub")
        self.root.symlink("../a.txt", "sub/link")
        self.assertEqual(self.root.readlink("sub/link"), b"../a.txt")
        with self.root.open("sub/link") as f:
            self.assertEqual(f.read(16), b"hello")
        st = self.root.stat("a.txt")
        self.assertEqual((st.kind, st.size, st.perm), ("regular", 5, 0o640))
        self.assertEqual(self.root.stat("sub/link", follow=False).kind, "symlink")
        self.assertEqual(self.root.listdir(), [(b"a.txt", "regular"), (b"sub", "dir")])
        self.root.rename("a.txt", self.root, "b.txt")
        with self.assertRaises(fdkit.Error) as caught:
            self.root.stat("a.txt")
        self.assertEqual(caught.exception.errno, errno.ENOENT)
        self.root.unlink("sub/link")
        self.root.rmdir("sub")
        self.root.unlink("b.txt")
        self.assertEqual(self.root.listdir(), [])

    def test_escapes_are_refused(self):
        self.root.symlink("../secret", "out")
        self.root.symlink("/etc", "abs")
        for path in ("../secret", "out", "abs/passwd", "/etc/passwd"):
            with self.assertRaises(fdkit.Error) as caught:
                self.root.open(path)
            self.assertEqual(caught.exception.errno, errno.EXDEV, path)
            self.assertIn("escapes", caught.exception.detail)
        with self.assertRaises(fdkit.Error) as caught:
            self.root.subdir("..")
        self.assertEqual(caught.exception.errno, errno.EXDEV)

    def test_async_open_and_readlink_on_the_loop(self):
        with self.root.open("f", fdkit.O_WRONLY | fdkit.O_CREAT) as f:
            f.write(b"data")
        self.root.symlink("f", "l")
        got = []
        with fdkit.Loop() as lp:
            lp.open_async(self.root, "l", got.append)
            lp.readlink_async(self.root, "l", got.append)
            lp.open_async(self.root, "../secret", got.append)
            self.assertEqual(got, [])
            lp.run()
        opened = [g for g in got if isinstance(g, fdkit.Fd)]
        self.assertEqual(len(opened), 1)
        self.assertEqual(opened[0].read(8), b"data")
        opened[0].dispose()
        self.assertIn(b"f", got)
        self.assertEqual([g.errno for g in got if isinstance(g, fdkit.Error)], [errno.EXDEV])


class TempRootTest(TestCase):
    """A fresh directory as self.root (self.top its path) holding f, 0600, of 5 bytes."""

    def setUp(self):
        super().setUp()
        self.top = tempfile.mkdtemp()
        self.root = fdkit.Dir.at(self.top)
        with self.root.open("f", fdkit.O_WRONLY | fdkit.O_CREAT, 0o600) as f:
            f.write(b"12345")

    def tearDown(self):
        self.root.dispose()
        shutil.rmtree(self.top)
        super().tearDown()


class FsMoreTest(TempRootTest):
    """Links, modes, owners, times, renameat2, realpath, streaming reads, full stat, the
    backends, and every async form."""

    def test_link_chmod_chown_utime_match_os(self):
        self.root.link("f", self.root, "hard")
        self.assertEqual(os.stat(os.path.join(self.top, "hard")).st_ino, os.stat(os.path.join(self.top, "f")).st_ino)
        self.root.chmod("f", 0o640)
        self.assertEqual(os.stat(os.path.join(self.top, "f")).st_mode & 0o7777, 0o640)
        me = os.getuid(), os.getgid()
        self.root.chown("f", *me)
        self.root.chown("f")  # None, None: both unchanged
        self.root.utime("f", 1_000_000_000_123_456_789, 2_000_000_000_000_000_001)
        st = os.stat(os.path.join(self.top, "f"))
        self.assertEqual((st.st_atime_ns, st.st_mtime_ns), (1_000_000_000_123_456_789, 2_000_000_000_000_000_001))
        self.root.utime("f", fdkit.UTIME_OMIT, fdkit.UTIME_NOW)
        st2 = os.stat(os.path.join(self.top, "f"))
        self.assertEqual(st2.st_atime_ns, 1_000_000_000_123_456_789)
        self.assertGreater(st2.st_mtime_ns, 2_000_000_000_000_000_001 - 10**18)
        self.root.symlink("f", "l")
        with self.assertRaises(OSError) as caught:
            self.root.chmod("l", 0o600, follow=False)
        self.assertEqual(caught.exception.errno, errno.EOPNOTSUPP)
        with self.assertRaises(FileNotFoundError) as caught:
            self.root.link("missing", self.root, "x")
        self.assertEqual(caught.exception.filename2, "x")

    def test_full_stat_agrees_with_os_stat(self):
        ours = self.root.stat("f")
        theirs = os.stat(os.path.join(self.top, "f"))
        for name in ("st_size", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid", "st_mode", "st_blocks",
                     "st_blksize", "st_rdev", "st_atime_ns", "st_mtime_ns", "st_ctime_ns"):
            self.assertEqual(getattr(ours, name), getattr(theirs, name), name)
        self.assertAlmostEqual(ours.st_mtime, theirs.st_mtime, places=5)
        self.assertEqual((ours.kind, ours.perm), ("regular", 0o600))
        self.assertTrue(ours.birthtime_ns is None or ours.birthtime_ns > 0)
        with self.root.open("f") as fd:
            self.assertEqual(fd.stat().ino, ours.ino)
        with self.assertRaises(AttributeError):
            ours.st_nothing

    def test_rename_noreplace_and_exchange(self):
        with self.root.open("g", fdkit.O_WRONLY | fdkit.O_CREAT) as f:
            f.write(b"g")
        with self.assertRaises(FileExistsError) as caught:
            self.root.rename("f", self.root, "g", noreplace=True)
        self.assertEqual((caught.exception.filename, caught.exception.filename2), ("f", "g"))
        self.root.rename("f", self.root, "g", exchange=True)
        self.assertEqual(self.root.open("g").read(9), b"12345")
        self.assertEqual(self.root.open("f").read(9), b"g")
        with self.assertRaises(OSError) as caught:
            self.root.rename("f", self.root, "g", noreplace=True, exchange=True)
        self.assertEqual(caught.exception.errno, errno.EINVAL)

    def test_realpath_scandir_and_dirs_from_descriptors(self):
        self.root.mkdir("d")
        self.root.symlink("d", "ld")
        self.assertEqual(self.root.realpath("ld/../ld"), b"d")
        self.assertEqual(self.root.realpath(), b".")
        self.assertEqual(fdkit.Dir.fs().realpath(self.top + "/ld"), os.path.realpath(self.top + "/d").encode())
        with self.assertRaises(fdkit.Error) as caught:
            self.root.realpath("..")
        self.assertTrue(caught.exception.escape)
        for i in range(300):
            with self.root.open(f"d/{i}", fdkit.O_WRONLY | fdkit.O_CREAT):
                pass
        with self.root.scandir("d") as it:
            names = sorted(int(name) for name, kind in it if kind == "regular")
        self.assertEqual(names, list(range(300)))
        it = self.root.scandir("d")
        next(it)
        it.dispose()  # closed part-way: no descriptor left (tearDown checks)
        self.assertEqual(list(it), [])
        fd = self.root.open("d", fdkit.O_DIRECTORY)
        sub = fdkit.Dir.from_fd(fd)
        self.assertEqual(sorted(sub.listdir())[:2], [(b"0", "regular"), (b"1", "regular")])
        with self.assertRaises(fdkit.Error) as caught:
            sub.open("../f")
        self.assertEqual(caught.exception.errno, errno.EXDEV)
        other = sub.ref()
        sub.dispose()
        self.assertEqual(other.stat("0").kind, "regular")
        handle = other.fd()
        self.assertEqual(os.path.realpath(f"/proc/self/fd/{handle.fileno()}"), os.path.realpath(self.top + "/d"))
        fd.close()  # shared with the dir: its calls now fail with EBADF
        with self.assertRaises(fdkit.Error) as caught:
            other.stat("0")
        self.assertEqual(caught.exception.errno, errno.EBADF)
        self.assertIsNone(fdkit.Dir.fs().fd())
        with self.assertRaises(NotADirectoryError):
            fdkit.Dir.from_fd(self.root.open("f"))

    def test_escape_is_told_from_a_cross_device_exdev(self):
        with self.assertRaises(fdkit.Error) as caught:
            self.root.open("../x")
        self.assertEqual((caught.exception.errno, caught.exception.escape), (errno.EXDEV, True))
        cross = fdkit.Error(-errno.EXDEV, "rename: different file systems")
        self.assertFalse(cross.escape)
        with self.assertRaises(FileNotFoundError) as caught:
            self.root.open("nothing")
        self.assertFalse(caught.exception.escape)

    def test_backends_and_flag_support(self):
        from fdkit import fs
        before = fs.resolve_backend()
        self.assertIn(before, (fs.RESOLVE_OPENAT2, fs.RESOLVE_FALLBACK))
        try:
            fs.set_resolve_backend(fs.RESOLVE_FALLBACK)
            self.assertEqual(fs.resolve_backend(), fs.RESOLVE_FALLBACK)
            with self.assertRaises(fdkit.Error) as caught:
                self.root.open("../x")
            self.assertTrue(caught.exception.escape)
            with self.assertRaises(OSError) as caught:
                fs.set_resolve_backend(99)
            self.assertEqual(caught.exception.errno, errno.EINVAL)
        finally:
            fs.set_resolve_backend(fs.RESOLVE_AUTO)
        self.assertTrue(fs.open_flags_supported(fdkit.O_RDWR | fdkit.O_CREAT))
        self.assertFalse(fs.open_flags_supported(fdkit.O_CREAT | fdkit.O_DIRECTORY))
        self.assertFalse(fs.open_flags_supported(1 << 30))

    def test_every_async_path_call(self):
        got = []
        with fdkit.Loop() as lp:
            steps = [
                lambda: lp.mkdir_async(self.root, "d", got.append, mode=0o700),
                lambda: lp.symlink_async("d", self.root, "ld", got.append),
                lambda: lp.link_async(self.root, "f", self.root, "hard", got.append),
                lambda: lp.chmod_async(self.root, "f", 0o604, got.append),
                lambda: lp.chown_async(self.root, "f", got.append, uid=os.getuid()),
                lambda: lp.utime_async(self.root, "f", got.append, atime_ns=5_000_000_000, mtime_ns=7_000_000_000),
                lambda: lp.stat_async(self.root, "f", got.append),
                lambda: lp.listdir_async(self.root, "", got.append),
                lambda: lp.realpath_async(self.root, "ld", got.append),
                lambda: lp.rename_async(self.root, "hard", self.root, "f", got.append, noreplace=True),
                lambda: lp.rename_async(self.root, "hard", self.root, "moved", got.append),
                lambda: lp.unlink_async(self.root, "moved", got.append),
                lambda: lp.rmdir_async(self.root, "d", got.append),
                lambda: lp.dir_open_async(self.root, "..", got.append),
                lambda: lp.dir_open_async(fdkit.Dir.fs(), self.top, got.append),
            ]
            for step in steps:
                step()
                self.assertEqual(len(got), steps.index(step), "a callback ran inside its call")
                lp.run()
            with self.root.open("f") as fd:
                lp.fstat_async(fd, got.append)
                lp.run()
        self.assertEqual(got[:6], [None] * 6)
        st = got[6]
        self.assertEqual((st.kind, st.perm, st.nlink, st.atime_ns, st.mtime_ns), ("regular", 0o604, 2, 5 * 10**9, 7 * 10**9))
        self.assertEqual(got[7], [(b"d", "dir"), (b"f", "regular"), (b"hard", "regular"), (b"ld", "symlink")])
        self.assertEqual(got[8], b"d")
        self.assertIsInstance(got[9], FileExistsError)
        self.assertEqual((got[9].filename, got[9].filename2), ("hard", "f"))
        self.assertEqual(got[10:13], [None] * 3)
        self.assertEqual((got[13].escape, got[13].filename), (True, ".."))
        self.assertEqual(got[14].listdir(), [(b"f", "regular"), (b"ld", "symlink")])
        got[14].dispose()
        self.assertEqual(got[15].size, 5)
        self.assertEqual(sorted(os.listdir(self.top)), ["f", "ld"])


class ScopedAndSpecialTest(TempRootTest):
    """Scoped dirs, O_TMPFILE publishing, linking through a symlink, special files,
    truncate and access by path, whiteouts and extended attributes: each effect checked
    with the os module, and the async forms."""

    def setUp(self):
        super().setUp()
        self.root.mkdir("d")
        self.root.symlink("d", "ld")
        self.root.symlink("f", "lf")

    def at(self, *names):
        return os.path.join(self.top, *names)

    def test_scoped_dirs_refuse_what_their_options_name(self):
        with self.assertRaises(NotADirectoryError) as caught:
            fdkit.Dir.at(self.at("ld"), nofollow=True)
        self.assertEqual(caught.exception.filename, self.at("ld"))
        with fdkit.Dir.at(self.at("d"), nofollow=True) as d:
            self.assertEqual(d.listdir(), [])
        with self.root.subdir("", no_symlinks=True) as strict:
            with self.assertRaises(OSError) as caught:
                strict.open("lf")
            self.assertEqual(caught.exception.errno, errno.ELOOP)
            self.assertEqual(strict.stat("lf", follow=False).kind, "symlink")  # not followed: allowed
            with strict.subdir("d") as inner:  # a dir opened beneath keeps the scoping
                os.symlink("../f", self.at("d", "up"))
                with self.assertRaises(OSError) as caught:
                    inner.stat("up")
                self.assertEqual(caught.exception.errno, errno.ELOOP)
        with self.root.subdir("d", in_root=True) as jail:
            with open(self.at("d", "inner"), "w") as f:
                f.write("in")
            self.assertEqual(jail.open("../inner").read(9), b"in")  # ".." stays at the root
            self.assertEqual(jail.open("/inner").read(9), b"in")   # absolute starts there
        with self.root.subdir("d") as plain:
            with self.assertRaises(fdkit.Error) as caught:
                plain.open("/inner")
            self.assertTrue(caught.exception.escape)
        with fdkit.Dir.at("/", no_xdev=True) as one_fs:
            if os.path.ismount("/proc") and os.stat("/proc").st_dev != os.stat("/").st_dev:
                with self.assertRaises(OSError) as caught:
                    one_fs.subdir("proc")
                self.assertEqual(caught.exception.errno, errno.EXDEV)
        with self.assertRaises(OSError) as caught:
            self.root.subdir("ld", no_symlinks=True)
        self.assertEqual(caught.exception.errno, errno.ELOOP)

    def test_tmpfile_published_and_link_following_a_symlink(self):
        from fdkit import fs
        if not fs.open_flags_supported(fs.O_TMPFILE | fdkit.O_RDWR):
            self.skipTest("no O_TMPFILE here")
        with self.root.open("d", fs.O_TMPFILE | fdkit.O_RDWR, 0o640) as tmp:
            self.assertEqual(os.listdir(self.at("d")), [])
            tmp.write(b"made whole")
            self.root.link_fd(tmp, "d/done")
            self.assertEqual(os.stat(self.at("d", "done")).st_ino, os.fstat(tmp.fileno()).st_ino)
            with self.assertRaises(FileExistsError) as caught:
                self.root.link_fd(tmp, "d/done")
            self.assertEqual(caught.exception.filename, "d/done")
        with open(self.at("d", "done"), "rb") as f:
            self.assertEqual(f.read(), b"made whole")
        with self.root.open("d", fs.O_TMPFILE | fdkit.O_RDWR | fdkit.O_EXCL) as sealed:
            with self.assertRaises(FileNotFoundError):
                self.root.link_fd(sealed, "d/never")
        self.root.link("lf", self.root, "hard_link")
        self.assertTrue(os.path.islink(self.at("hard_link")))
        self.root.link("lf", self.root, "hard_file", follow_symlinks=True)
        self.assertEqual(os.lstat(self.at("hard_file")).st_ino, os.stat(self.at("f")).st_ino)
        self.root.symlink("../../x", "d/out")
        with self.assertRaises(fdkit.Error) as caught:
            self.root.link("d/out", self.root, "x2", follow_symlinks=True)
        self.assertTrue(caught.exception.escape)

    def test_mknod_mkfifo_truncate_and_access_match_os(self):
        import stat
        old = os.umask(0)
        try:
            self.root.mkfifo("fifo", 0o640)
            self.root.mknod("plain")
            self.root.mknod("sock", 0o600 | stat.S_IFSOCK)
        finally:
            os.umask(old)
        st = os.lstat(self.at("fifo"))
        self.assertTrue(stat.S_ISFIFO(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        self.assertTrue(stat.S_ISREG(os.lstat(self.at("plain")).st_mode))
        self.assertEqual(stat.S_IMODE(os.lstat(self.at("plain")).st_mode), 0o600)
        self.assertTrue(stat.S_ISSOCK(os.lstat(self.at("sock")).st_mode))
        with self.assertRaises(FileExistsError) as caught:
            self.root.mkfifo("fifo")
        self.assertEqual(caught.exception.filename, "fifo")
        with self.assertRaises(OSError) as caught:
            self.root.mknod("dir", stat.S_IFDIR | 0o700)
        self.assertEqual(caught.exception.errno, errno.EINVAL)
        try:
            self.root.mknod("null", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pass  # no CAP_MKNOD
        else:
            self.assertEqual(os.lstat(self.at("null")).st_rdev, os.makedev(1, 3))
        self.root.truncate("lf", 2)  # follows the symlink, as os.truncate
        self.assertEqual(os.stat(self.at("f")).st_size, 2)
        self.root.truncate("f", 4096)
        self.assertEqual(os.stat(self.at("f")).st_size, 4096)
        with self.assertRaises(IsADirectoryError):
            self.root.truncate("d", 0)
        os.chmod(self.at("f"), 0o400)
        for mode in (fdkit.fs.F_OK, fdkit.fs.R_OK, fdkit.fs.W_OK, fdkit.fs.X_OK,
                     fdkit.fs.R_OK | fdkit.fs.W_OK):
            for name in ("f", "d", "lf", "missing"):
                for effective in (False, True):
                    self.assertEqual(self.root.access(name, mode, effective_ids=effective),
                                     os.access(self.at(name), mode, effective_ids=effective), (name, mode))
        self.assertTrue(self.root.access("ld", fdkit.fs.F_OK, follow_symlinks=False))
        self.root.symlink("nowhere", "dangling")
        self.assertEqual(self.root.access("dangling", fdkit.fs.F_OK), False)
        self.assertTrue(self.root.access("dangling", fdkit.fs.F_OK, follow_symlinks=False))
        with self.assertRaises(fdkit.Error) as caught:
            self.root.access("../x", fdkit.fs.F_OK)  # an escape is no "no"
        self.assertTrue(caught.exception.escape)
        for bad in (lambda: self.root.mknod("x\0y"), lambda: self.root.truncate("f\0", 0)):
            with self.assertRaises(ValueError):
                bad()

    def test_rename_whiteout_leaves_a_whiteout_or_is_refused(self):
        import stat
        try:
            self.root.rename("f", self.root, "g", whiteout=True)
        except OSError as e:
            self.assertIn(e.errno, (errno.EPERM, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP))
            self.assertTrue(os.path.exists(self.at("f")))
        else:
            st = os.lstat(self.at("f"))
            self.assertEqual((stat.S_ISCHR(st.st_mode), st.st_rdev), (True, 0))
            self.assertEqual(os.path.getsize(self.at("g")), 5)
        with self.assertRaises(OSError) as caught:
            self.root.rename("g", self.root, "f", exchange=True, whiteout=True)
        self.assertEqual(caught.exception.errno, errno.EINVAL)

    def xattrs_or_skip(self):
        try:
            os.setxattr(self.at("f"), "user.probe", b"")
        except OSError as e:
            self.skipTest(f"no user extended attributes here: {e}")
        os.removexattr(self.at("f"), "user.probe")

    def test_extended_attributes_match_os(self):
        from fdkit import fs
        self.xattrs_or_skip()
        self.assertEqual(self.root.listxattr("f"), os.listxattr(self.at("f")))
        self.root.setxattr("f", "user.color", b"blue")
        self.root.setxattr("lf", b"user.size", b"")  # follows, as os.setxattr
        self.assertEqual(os.getxattr(self.at("f"), "user.color"), b"blue")
        self.assertEqual(self.root.getxattr("f", "user.color"), b"blue")
        self.assertEqual(self.root.getxattr("f", "user.size"), b"")
        self.assertEqual(sorted(self.root.listxattr("lf")), sorted(os.listxattr(self.at("f"))))
        self.assertEqual(self.root.listxattr("lf", follow_symlinks=False),
                         os.listxattr(self.at("lf"), follow_symlinks=False))
        with self.assertRaises(FileExistsError):
            self.root.setxattr("f", "user.color", b"red", fs.XATTR_CREATE)
        with self.assertRaises(OSError) as caught:
            self.root.setxattr("f", "user.shape", b"round", fs.XATTR_REPLACE)
        self.assertEqual((caught.exception.errno, caught.exception.filename), (errno.ENODATA, "f"))
        self.root.setxattr("f", "user.color", bytearray(b"red"), fs.XATTR_REPLACE)
        self.assertEqual(os.getxattr(self.at("f"), "user.color"), b"red")
        with self.assertRaises(OSError) as caught:
            self.root.setxattr("lf", "user.x", b"1", follow_symlinks=False)  # no user xattrs on a symlink
        self.assertEqual(caught.exception.errno, errno.EPERM)
        self.root.removexattr("f", "user.color")
        self.assertNotIn("user.color", os.listxattr(self.at("f")))
        with self.assertRaises(OSError) as caught:
            self.root.getxattr("f", "user.color")
        self.assertEqual(caught.exception.errno, errno.ENODATA)
        with self.assertRaises(fdkit.Error) as caught:
            self.root.getxattr("../x", "user.color")
        self.assertTrue(caught.exception.escape)
        with self.assertRaises(ValueError):
            self.root.getxattr("f", "user.a\0b")

    def test_every_new_async_call(self):
        import stat
        from fdkit import fs
        self.xattrs_or_skip()
        got = []
        with fdkit.Loop() as lp:
            steps = [
                lambda: lp.dir_open_async(self.root, "ld", got.append, nofollow=True),
                lambda: lp.dir_open_async(self.root, "d", got.append, in_root=True),
                lambda: lp.link_async(self.root, "lf", self.root, "hard", got.append, follow_symlinks=True),
                lambda: lp.mknod_async(self.root, "sock", got.append, mode=0o600 | stat.S_IFSOCK),
                lambda: lp.mkfifo_async(self.root, "fifo", got.append),
                lambda: lp.truncate_path_async(self.root, "lf", 3, got.append),
                lambda: lp.access_async(self.root, "f", fs.W_OK, got.append, effective_ids=True),
                lambda: lp.access_async(self.root, "missing", fs.F_OK, got.append),
                lambda: lp.access_async(self.root, "../x", fs.F_OK, got.append),
                lambda: lp.setxattr_async(self.root, "f", "user.k", b"v", got.append, fs.XATTR_CREATE),
                lambda: lp.getxattr_async(self.root, "lf", "user.k", got.append),
                lambda: lp.listxattr_async(self.root, "f", got.append),
                lambda: lp.removexattr_async(self.root, "f", "user.k", got.append),
                lambda: lp.getxattr_async(self.root, "f", "user.k", got.append),
                lambda: lp.rename_async(self.root, "fifo", self.root, "fifo2", got.append, whiteout=True),
            ]
            for step in steps:
                step()
                self.assertEqual(len(got), steps.index(step), "a callback ran inside its call")
                lp.run()
            if fs.open_flags_supported(fs.O_TMPFILE | fdkit.O_RDWR):
                with self.root.open("d", fs.O_TMPFILE | fdkit.O_RDWR) as tmp:
                    lp.link_fd_async(tmp, self.root, "published", got.append)
                    lp.link_fd_async(tmp, self.root, "published", got.append)
                    lp.run()
                self.assertIsNone(got[-2])
                self.assertIsInstance(got[-1], FileExistsError)
                self.assertTrue(os.path.isfile(self.at("published")))
        self.assertIsInstance(got[0], NotADirectoryError)
        self.assertEqual(got[0].filename, "ld")
        with got[1] as jail:
            self.assertEqual(jail.stat("/..").ino, os.stat(self.at("d")).st_ino)
        self.assertEqual(got[2:6], [None] * 4)
        self.assertEqual(os.stat(self.at("hard")).st_ino, os.stat(self.at("f")).st_ino)
        self.assertTrue(stat.S_ISSOCK(os.lstat(self.at("sock")).st_mode))
        self.assertEqual(os.path.getsize(self.at("f")), 3)
        self.assertEqual(got[6:8], [os.access(self.at("f"), os.W_OK, effective_ids=True), False])
        self.assertTrue(got[8].escape)
        self.assertEqual(got[9:11], [None, b"v"])
        self.assertIn("user.k", got[11])
        self.assertIsNone(got[12])
        self.assertEqual(got[13].errno, errno.ENODATA)
        if got[14] is None:
            st = os.lstat(self.at("fifo"))
            self.assertEqual((stat.S_ISCHR(st.st_mode), st.st_rdev), (True, 0))
            self.assertTrue(stat.S_ISFIFO(os.lstat(self.at("fifo2")).st_mode))
        else:
            self.assertTrue(stat.S_ISFIFO(os.lstat(self.at("fifo")).st_mode))
            self.assertIn(got[14].errno, (errno.EPERM, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP))
            self.assertEqual((got[14].filename, got[14].filename2), ("fifo", "fifo2"))
        with fdkit.Loop() as lp, self.assertRaises(OSError) as caught:
            lp.rename_async(self.root, "f", self.root, "g", got.append, exchange=True, whiteout=True)
        self.assertEqual(caught.exception.errno, errno.EINVAL)  # refused by the starting call
