# SPDX-License-Identifier: MIT
"""Runs unittest cases and reports them as TAP, so meson and scripts/summarize count each."""
import sys
import unittest


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0
        self._subtest_failed = None

    def _line(self, ok, test, why=""):
        self.n += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} - {test.id().split('.', 1)[-1]}{why}", flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(False, test)
        print("# " + self._exc_info_to_string(err, test).replace("\n", "\n# "))

    def addError(self, test, err):
        super().addError(test, err)
        self._line(False, test)
        print("# " + self._exc_info_to_string(err, test).replace("\n", "\n# "))

    def addSubTest(self, test, subtest, err):
        # A failed subtest fails its test, which then gets no addFailure of its own: report
        # it here, once, so that the test still has its line.
        super().addSubTest(test, subtest, err)
        if err is not None:
            if self._subtest_failed != test:
                self._line(False, test)
                self._subtest_failed = test
            print("# " + f"{subtest}: " + self._exc_info_to_string(err, subtest).replace("\n", "\n# "))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(True, test, f" # SKIP {reason}")


def main(module):
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    print(f"1..{suite.countTestCases()}", flush=True)
    result = TapResult()
    suite.run(result)
    sys.exit(0 if result.wasSuccessful() else 1)
