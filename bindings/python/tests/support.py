# SPDX-License-Identifier: MIT
"""Base class of the binding's tests: each test must leave as many descriptors open as it
found. libuv keeps two global descriptors after its first loop, so the baseline is taken
after one loop was created."""
import gc
import os
import unittest

import fdkit


def open_fds():
    return len(os.listdir("/proc/self/fd"))


class TestCase(unittest.TestCase):
    def setUp(self):
        fdkit.Loop().close()
        self._fds = open_fds()

    def tearDown(self):
        gc.collect()  # drops the Fd objects a test left to the collector
        self.assertEqual(open_fds(), self._fds, "the test leaked descriptors")
