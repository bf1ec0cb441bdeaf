// SPDX-License-Identifier: MIT
// Calls on the last component of a path: they resolve the parent and hand the kernel
// one name relative to it. The kernel never follows the last component in mkdirat,
// unlinkat, renameat2, symlinkat and linkat (without AT_SYMLINK_FOLLOW), even when the
// name keeps its trailing slash, so the name is passed with it and the kernel's own
// answers for "dir/" and "file/" hold.
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "core/error.h"
#include "fd/fd.h"
#include "fs/fs.h"

namespace fdk {

namespace {

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

// Opens path beneath b (confined or not) without a detail.
int resolve_confined_or_plain(const DirBase &b, const char *path, int oflags) {
  if (b.confined) return resolve_confined(b.raw, path, oflags, 0);
  int fd = ::openat(b.raw, *path ? path : ".", oflags);
  return fd >= 0 ? fd : neg_errno();
}

// 0 when path resolves, confined, to a directory beneath base; else the error.
int check_directory(int base, const char *path, const char *what) {
  int fd = resolve_open(base, true, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, what);
  if (fd < 0) return fd;
  close(fd);
  return 0;
}

// chmod of what the O_PATH descriptor fd names (resolved from path beneath b), which
// fchmod refuses. fchmodat2 takes it directly; before fchmodat2 (Linux 6.6), its /proc
// link names exactly the file; without /proc, the file is opened again by the same
// resolution with O_RDONLY or O_WRONLY and fchmod'ed.
// Only regular files and directories are opened so (a device's open has side effects):
// anything else, or a file this caller may neither read nor write, is -EOPNOTSUPP there.
int chmod_path_fd(int fd, const DirBase &b, const char *path, mode_t mode, bool follow) {
  struct stat st;
  if (::fstatat(fd, "", &st, AT_EMPTY_PATH) < 0) return path_fail(neg_errno(), "chmodat", path);
  if (S_ISLNK(st.st_mode)) return path_fail(-EOPNOTSUPP, "chmodat", path);
  if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0) return 0;
  if (errno != ENOSYS) return path_fail(neg_errno(), "chmodat", path);
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (::chmod(proc, mode) == 0) return 0;
  if (errno != ENOENT) return path_fail(neg_errno(), "chmodat", path);
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    return fail(-EOPNOTSUPP, "chmodat: without fchmodat2 nor /proc a special file cannot be changed: '%s'", path);
  int flags = O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (follow ? 0 : O_NOFOLLOW) | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
  int file = resolve_confined_or_plain(b, path, flags | O_RDONLY);
  if (file == -EACCES && S_ISREG(st.st_mode)) file = resolve_confined_or_plain(b, path, flags | O_WRONLY);
  if (file < 0)
    return fail(-EOPNOTSUPP, "chmodat: without fchmodat2 nor /proc the file must be opened, and opening it failed (%s): '%s'",
                errno_text(file), path);
  int r = ::fchmod(file, mode) == 0 ? 0 : neg_errno();
  close(file);
  return r == 0 ? 0 : path_fail(r, "chmodat", path);
}

// A resolved parent for one path of a call.
struct Target {
  DirBase base;
  Parent parent;

  // "." and ".." are never looked up by these calls, but ".." may name the base's
  // parent: confinement is checked on the whole path first, then the kernel gives its
  // own answer for the name (EEXIST, EBUSY, EISDIR, ENOTEMPTY...).
  int open(fdk_dir *dir, const char *path, const char *what) {
    if (int r = base.acquire(dir, what)) return r;
    if (int r = parent.open(base.raw, base.confined, path, what)) return r;
    return parent.dots ? check_directory(base.raw, path, what) : 0;
  }

  // The last component must be looked up as a directory (it ends in '/' or is a dot
  // name) and the kernel would follow a symlink there unconfined: resolve it whole,
  // confined; a directory gets the call's answer for one, err.
  int answer_for_directory(const char *path, int err, const char *what) {
    if (int r = check_directory(base.raw, path, what)) return r;
    return path_fail(err, what, path);
  }

  bool names_directory() const { return base.confined && (parent.trailing_slash || parent.dots); }
};

int result(int r, const char *what, const char *path) { return r < 0 ? path_fail(neg_errno(), what, path) : r; }

// Runs fn(fd) on an O_PATH descriptor of what path names (following a last symlink,
// confined, when follow is set).
template <class Fn>
int on_path_fd(fdk_dir *dir, const char *path, bool follow, const char *what, Fn &&fn) {
  DirBase b;
  if (int r = b.acquire(dir, what)) return r;
  int fd = resolve_path_fd(b.raw, b.confined, path, follow, what);
  if (fd < 0) return fd;
  int r = fn(fd);
  close(fd);
  return r;
}

}  // namespace

int mkdirat(fdk_dir *dir, const char *path, mode_t mode) {
  Target t;
  if (int r = t.open(dir, path, "mkdirat")) return r;
  return result(::mkdirat(t.parent.fd, t.parent.name, mode), "mkdirat", path);
}

int unlinkat(fdk_dir *dir, const char *path) {
  Target t;
  if (int r = t.open(dir, path, "unlinkat")) return r;
  return result(::unlinkat(t.parent.fd, t.parent.name, 0), "unlinkat", path);
}

int rmdirat(fdk_dir *dir, const char *path) {
  Target t;
  if (int r = t.open(dir, path, "rmdirat")) return r;
  return result(::unlinkat(t.parent.fd, t.parent.name, AT_REMOVEDIR), "rmdirat", path);
}

int renameat2(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path, unsigned flags) {
  Target from, to;
  if (int r = from.open(old_dir, old_path, "renameat")) return r;
  if (int r = to.open(new_dir, new_path, "renameat")) return r;
  unsigned os = (flags & FDK_RENAME_NOREPLACE ? RENAME_NOREPLACE : 0) | (flags & FDK_RENAME_EXCHANGE ? RENAME_EXCHANGE : 0);
  int r = ::renameat2(from.parent.fd, from.parent.name, to.parent.fd, to.parent.name, os);
  if (r < 0) return fail(neg_errno(), "renameat: %s: '%s' -> '%s'", errno_text(errno), old_path, new_path);
  return 0;
}

int symlinkat(const char *target, fdk_dir *dir, const char *path) {
  Target t;
  if (int r = t.open(dir, path, "symlinkat")) return r;
  return result(::symlinkat(target, t.parent.fd, t.parent.name), "symlinkat", path);
}

int linkat(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path) {
  Target from, to;
  if (int r = from.open(old_dir, old_path, "linkat")) return r;
  if (from.names_directory()) {
    // The source names a directory (or fails to): the kernel gives the source's error,
    // then the target's, and only then refuses to link a directory.
    if (int r = check_directory(from.base.raw, old_path, "linkat")) return r;
    if (int r = to.open(new_dir, new_path, "linkat")) return r;
    struct stat st;
    if (::fstatat(to.parent.fd, to.parent.bare_name(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      return path_fail(-EEXIST, "linkat", new_path);
    if (errno != ENOENT || to.parent.trailing_slash) return path_fail(neg_errno(), "linkat", new_path);
    return path_fail(-EPERM, "linkat", old_path);
  }
  if (int r = to.open(new_dir, new_path, "linkat")) return r;
  int r = ::linkat(from.parent.fd, from.parent.name, to.parent.fd, to.parent.name, 0);
  if (r < 0) return fail(neg_errno(), "linkat: %s: '%s' -> '%s'", errno_text(errno), old_path, new_path);
  return 0;
}

ssize_t readlinkat(char **out, fdk_dir *dir, const char *path) {
  Target t;
  if (int r = t.open(dir, path, "readlinkat")) return r;
  if (t.names_directory()) return t.answer_for_directory(path, -EINVAL, "readlinkat");
  for (size_t size = 256;; size *= 2) {
    char *buf = static_cast<char *>(malloc(size));
    if (!buf) return fail(-ENOMEM, "readlinkat: out of memory");
    ssize_t n = ::readlinkat(t.parent.fd, t.parent.bare_name(), buf, size);
    if (n >= 0 && static_cast<size_t>(n) < size) {
      buf[n] = '\0';
      *out = buf;
      return n;
    }
    free(buf);
    if (n < 0) return path_fail(neg_errno(), "readlinkat", path);
  }
}

int chmodat(fdk_dir *dir, const char *path, mode_t mode, bool follow) {
  DirBase b;
  if (int r = b.acquire(dir, "chmodat")) return r;
  int fd = resolve_path_fd(b.raw, b.confined, path, follow, "chmodat");
  if (fd < 0) return fd;
  int r = chmod_path_fd(fd, b, path, mode, follow);
  close(fd);
  return r;
}

int chownat(fdk_dir *dir, const char *path, int64_t uid, int64_t gid, bool follow) {
  return on_path_fd(dir, path, follow, "chownat", [&](int fd) {
    int r = ::fchownat(fd, "", static_cast<uid_t>(uid), static_cast<gid_t>(gid), AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    return result(r, "chownat", path);
  });
}

int utimensat(fdk_dir *dir, const char *path, const struct timespec times[2], bool follow) {
  return on_path_fd(dir, path, follow, "utimensat", [&](int fd) {
    return result(::utimensat(fd, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), "utimensat", path);
  });
}

}  // namespace fdk
