"""common.h: versions and errors."""
import errno

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
