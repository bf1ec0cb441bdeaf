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
