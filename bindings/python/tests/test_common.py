# SPDX-License-Identifier: MIT
"""common.h: versions and errors."""
import errno
import os

import fdkit
from support import TestCase


class CommonTest(TestCase):
    def test_version_string_matches_number(self):
        v = fdkit.version()
        self.assertEqual(fdkit.version_string(), f"{v // 10000}.{v // 100 % 100}.{v % 100}")

    def test_error_carries_errno_name_and_detail(self):
        r, w = fdkit.pipe()
        r.close()
        with self.assertRaises(fdkit.Error) as caught:
            r.read(4)
        e = caught.exception
        self.assertIsInstance(e, OSError)
        self.assertEqual(e.errno, errno.EBADF)
        self.assertEqual(e.name, "EBADF")
        self.assertTrue(e.detail)
        self.assertIn("EBADF", str(e))
        w.close()

    def test_errors_are_the_oserror_subclass_of_their_errno(self):
        # As OSError(errno, ...) and the os module give them, so `except FileNotFoundError`
        # catches fdkit's failures too.
        with fdkit.Dir.at(".") as here:
            with self.assertRaises(FileNotFoundError) as caught:
                here.open("no such file here")
        e = caught.exception
        self.assertIsInstance(e, fdkit.Error)
        self.assertEqual((e.errno, e.strerror, e.name), (errno.ENOENT, os.strerror(errno.ENOENT), "ENOENT"))
        self.assertEqual((e.filename, e.filename2), ("no such file here", None))
        self.assertTrue(e.detail)
        for code, builtin in ((errno.EACCES, PermissionError), (errno.EEXIST, FileExistsError),
                              (errno.ETIMEDOUT, TimeoutError), (errno.EAGAIN, BlockingIOError),
                              (errno.ECHILD, ChildProcessError)):
            err = fdkit.Error(-code, "detail")
            self.assertIsInstance(err, builtin)
            self.assertIsInstance(err, fdkit.Error)
            self.assertEqual((err.errno, err.detail), (code, "detail"))
        self.assertIs(type(fdkit.Error(errno.EXDEV)), fdkit.Error)
        with fdkit.Dir.at(".") as here:
            with self.assertRaises(FileNotFoundError) as caught:
                here.rename("no such file here", here, "nor here")
        self.assertEqual((caught.exception.filename, caught.exception.filename2), ("no such file here", "nor here"))
