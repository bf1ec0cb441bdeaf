# SPDX-License-Identifier: MIT
"""The examples of doc/bindings/python.md, run as a user would run them: each ```python
block is a script, run in a directory holding site/index.html. A comment on a print line,
or the text after "prints:" in a comment, is output the script must print (<...> stands for
any text)."""
import os
import re
import subprocess
import sys
import tempfile
import unittest

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "doc", "bindings", "python.md")


def blocks():
    with open(PAGE, encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def expected_lines(code):
    for line in code.splitlines():
        code_part, sep, comment = line.partition("  # ")
        if not sep:
            continue
        comment = comment.strip()
        if "prints:" in comment:
            yield comment.split("prints:", 1)[1].strip()
        elif code_part.lstrip().startswith("print("):
            yield comment


def pattern(expected):
    parts = re.split(r"<[^>]*>", expected)
    return re.compile("^" + ".*".join(re.escape(p) for p in parts) + "$")


class DocExamplesTest(unittest.TestCase):
    def test_every_block_runs_and_prints_what_its_comments_say(self):
        found = blocks()
        self.assertGreaterEqual(len(found), 2, f"no python blocks in {PAGE}")
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = {**os.environ, "PYTHONPATH": package + os.pathsep + os.environ.get("PYTHONPATH", "")}
        for i, code in enumerate(found, 1):
            with self.subTest(block=i), tempfile.TemporaryDirectory() as cwd:
                os.mkdir(os.path.join(cwd, "site"))
                with open(os.path.join(cwd, "site", "index.html"), "w") as f:
                    f.write("<h1>hello</h1>\n")
                proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, timeout=60)
                self.assertEqual(proc.returncode, 0, f"block {i} failed:\n{proc.stderr}")
                printed = proc.stdout.splitlines()
                for want in expected_lines(code):
                    self.assertTrue(any(pattern(want).match(line) for line in printed),
                                    f"block {i} should print {want!r}; it printed:\n{proc.stdout}")


if __name__ == "__main__":
    unittest.main()
