# SPDX-License-Identifier: MIT
"""fdkit's own constants are copied by hand into fdkit/_native.py (convention 8 makes their
values part of the ABI): each must equal its #define in include/fdkit/*.h."""
import glob
import os
import re
import unittest

from fdkit import _native as n

HEADERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "include", "fdkit")


def header_constants():
    found = {}
    for path in glob.glob(os.path.join(HEADERS, "*.h")):
        with open(path) as f:
            text = f.read()
        for name, value in re.findall(r"^#define (FDK_\w+)\s+(-?(?:0x[0-9a-fA-F]+|\d+))[uU]?\b", text, flags=re.M):
            found[name] = int(value, 0)
    return found


class ConstantsTest(unittest.TestCase):
    def test_every_copied_constant_equals_the_header(self):
        headers = header_constants()
        copied = {name: getattr(n, name) for name in dir(n) if name.startswith("FDK_") and isinstance(getattr(n, name), int)}
        self.assertGreater(len(copied), 20)
        self.assertEqual({k: v for k, v in copied.items() if headers.get(k) != v}, {},
                         "constants that differ from include/fdkit (or are missing there)")
