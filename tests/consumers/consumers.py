# SPDX-License-Identifier: MIT
"""Builds and runs tests/consumers/consumer.c the way fdkit's users do, and reports each
step as TAP:

  consumers.py pkg-config BUILD_DIR CC SANITIZE   install with `meson install --destdir`
      into a temporary prefix, then `cc consumer.c $(pkg-config --cflags --libs fdkit)`
      outside the build tree, against that prefix only;
  consumers.py subproject SOURCE_DIR CC SANITIZE  a tiny meson project that uses fdkit as a
      subproject (dependency('fdkit') with its fallback forced).

SANITIZE is the build's b_sanitize ('none' or e.g. 'address,undefined'): a sanitized
libfdkit can only be loaded by a program built with the same sanitizers."""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


class Steps:
    def __init__(self):
        self.n = 0

    def run(self, name, cmd, **kw):
        """Runs cmd; a failure is reported with its output and ends the test."""
        self.n += 1
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900, **kw)
        if proc.returncode != 0:
            self.fail(name, f"{shlex.join(cmd)} exited with {proc.returncode}:\n{proc.stdout}")
        print(f"ok {self.n} - {name}", flush=True)
        return proc.stdout

    def check(self, name, cond, why):
        self.n += 1
        if not cond:
            self.fail(name, why)
        print(f"ok {self.n} - {name}", flush=True)

    def fail(self, name, why):
        print(f"not ok {self.n} - {name}")
        print("# " + why.rstrip().replace("\n", "\n# "))
        print(f"1..{self.n}")
        sys.exit(1)

    def done(self):
        print(f"1..{self.n}")


def sanitizer_flags(sanitize):
    return [] if sanitize == "none" else [f"-fsanitize={sanitize}"]


def loaded_from(output):
    """The library path the consumer printed."""
    for line in output.splitlines():
        if line.startswith("library "):
            return os.path.realpath(line[len("library "):])
    return ""


def tool(name):
    path = shutil.which(name)
    if not path:
        print(f"Bail out! {name} not found in PATH")
        sys.exit(1)
    return path


def pkg_config(build, cc, sanitize, tmp):
    steps = Steps()
    prefix = os.path.join(tmp, "root")
    steps.run("meson install --destdir into a temporary prefix",
              [tool("meson"), "install", "-C", build, "--no-rebuild", "--quiet", "--destdir", prefix])
    pc_dirs = [d for d, _, files in os.walk(prefix) if "fdkit.pc" in files]
    steps.check("the prefix has fdkit.pc", len(pc_dirs) == 1, f"fdkit.pc found in {pc_dirs}")
    # The installed fdkit.pc names the real prefix; the sysroot maps it into the destdir.
    env = {**os.environ, "PKG_CONFIG_PATH": pc_dirs[0], "PKG_CONFIG_SYSROOT_DIR": prefix}
    flags = steps.run("pkg-config --cflags --libs fdkit", [tool("pkg-config"), "--cflags", "--libs", "fdkit"],
                      env=env).split()
    libdirs = [f[2:] for f in flags if f.startswith("-L")]
    steps.check("its paths lead into the prefix",
                libdirs and all(f[2:].startswith(prefix) for f in flags if f[:2] in ("-I", "-L")),
                f"flags: {flags}")
    work = os.path.join(tmp, "app")
    os.makedirs(work)
    shutil.copy(os.path.join(HERE, "consumer.c"), work)
    steps.run("cc builds the program outside the build tree",
              [cc, "consumer.c", "-o", "consumer", *flags, *sanitizer_flags(sanitize)], cwd=work)
    out = steps.run("the program runs", [os.path.join(work, "consumer")], cwd=work,
                    env={**os.environ, "LD_LIBRARY_PATH": ":".join(libdirs)})
    lib = loaded_from(out)
    steps.check("it loaded the installed library", lib.startswith(os.path.realpath(prefix)), f"loaded {lib!r}")
    steps.done()


def subproject(source, cc, sanitize, tmp):
    steps = Steps()
    project = os.path.join(tmp, "project")
    os.makedirs(os.path.join(project, "subprojects"))
    shutil.copy(os.path.join(HERE, "project", "meson.build"), project)
    shutil.copy(os.path.join(HERE, "consumer.c"), project)
    os.symlink(source, os.path.join(project, "subprojects", "fdkit"))
    build = os.path.join(tmp, "build")
    options = ["--force-fallback-for=fdkit", "--buildtype=plain", f"-Db_sanitize={sanitize}"]
    if sanitize != "none":
        options.append("-Db_lundef=false")
    steps.run("meson setup with fdkit as a subproject", [tool("meson"), "setup", *options, build, project],
              env={**os.environ, "CC": cc})
    steps.run("the project builds", [tool("ninja"), "-C", build, "-j2"])
    out = steps.run("the program runs", [os.path.join(build, "consumer")])
    lib = loaded_from(out)
    steps.check("it loaded the subproject's library", lib.startswith(os.path.realpath(build)), f"loaded {lib!r}")
    steps.done()


def main():
    mode, where, cc, sanitize = sys.argv[1:5]
    with tempfile.TemporaryDirectory(prefix="fdkit-consumer-") as tmp:
        (pkg_config if mode == "pkg-config" else subproject)(os.path.abspath(where), cc, sanitize, tmp)


if __name__ == "__main__":
    main()
