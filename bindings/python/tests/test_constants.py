# SPDX-License-Identifier: MIT
"""fdkit's own constants are copied by hand into fdkit/_native.py (convention 8 makes their
values part of the ABI): each must equal its #define in include/fdkit/*.h, and every
constant a header defines must be copied, but the few the binding has no use for."""
import glob
import os
import re
import unittest

from fdkit import _native as n

HEADERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "include", "fdkit")

# Header constants the binding does not copy, and why.
NOT_COPIED = {
    "FDK_VERSION_MAJOR", "FDK_VERSION_MINOR", "FDK_VERSION_PATCH",  # fdkit.version() reads the loaded library's
    "FDK_EESCAPE",  # Error.escape tells an escape from a cross-device EXDEV
}

# Non-numeric values a header uses.
SYMBOLS = {"UINT64_MAX": (1 << 64) - 1}


def header_constants():
    found = {}
    for path in glob.glob(os.path.join(HEADERS, "*.h")):
        with open(path) as f:
            text = f.read()
        for name, value in re.findall(r"^#define (FDK_\w+)\s+\(?(-?(?:0x[0-9a-fA-F]+|\d+)[uU]?|UINT64_MAX)\)?(?:\s|$)",
                                      text, flags=re.M):
            found[name] = SYMBOLS[value] if value in SYMBOLS else int(value.rstrip("uU"), 0)
    return found


class ConstantsTest(unittest.TestCase):
    def test_every_copied_constant_equals_the_header(self):
        headers = header_constants()
        copied = {name: getattr(n, name) for name in dir(n) if name.startswith("FDK_") and isinstance(getattr(n, name), int)}
        self.assertGreater(len(copied), 70)
        self.assertEqual({k: v for k, v in copied.items() if headers.get(k) != v}, {},
                         "constants that differ from include/fdkit (or are missing there)")

    def test_every_header_constant_is_copied(self):
        headers = header_constants()
        self.assertIn("FDK_O_PATH", headers)
        missing = sorted(set(headers) - NOT_COPIED - {k for k in dir(n) if k.startswith("FDK_")})
        self.assertEqual(missing, [], "constants of include/fdkit the binding lacks")

    def test_the_parser_reads_every_form_the_headers_use(self):
        # Hex with a suffix, a parenthesized negative, and UINT64_MAX: a parser that
        # skipped one would let a wrong copy pass.
        headers = header_constants()
        self.assertEqual((headers["FDK_O_PATH"], headers["FDK_UTIME_OMIT"], headers["FDK_RLIM_INFINITY"]),
                         (0x1000, -2, (1 << 64) - 1))

    def test_the_confined_fs_constants_and_their_python_names(self):
        # The scoped-dir, tmpfile, whiteout, access and xattr flags: copied, and exposed by
        # fdkit.fs under os's names with fdkit's values (os.XATTR_CREATE differs from ours).
        from fdkit import fs
        headers = header_constants()
        for name in ("FDK_DIR_NOFOLLOW", "FDK_DIR_NO_XDEV", "FDK_DIR_NO_SYMLINKS", "FDK_DIR_IN_ROOT", "FDK_O_TMPFILE",
                     "FDK_RENAME_WHITEOUT", "FDK_ACCESS_EXISTS", "FDK_ACCESS_READ", "FDK_ACCESS_WRITE",
                     "FDK_ACCESS_EXEC", "FDK_ACCESS_EFFECTIVE", "FDK_XATTR_CREATE", "FDK_XATTR_REPLACE"):
            self.assertEqual(getattr(n, name), headers[name], name)
        self.assertEqual((fs.F_OK, fs.R_OK, fs.W_OK, fs.X_OK),
                         (headers["FDK_ACCESS_EXISTS"], headers["FDK_ACCESS_READ"], headers["FDK_ACCESS_WRITE"],
                          headers["FDK_ACCESS_EXEC"]))
        self.assertEqual((fs.XATTR_CREATE, fs.XATTR_REPLACE, fs.O_TMPFILE),
                         (headers["FDK_XATTR_CREATE"], headers["FDK_XATTR_REPLACE"], headers["FDK_O_TMPFILE"]))
