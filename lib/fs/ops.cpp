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
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

// Opens path beneath b (confined or not) without a detail.
int resolve_confined_or_plain(const DirBase &b, const char *path, int oflags) {
  if (b.confined) return resolve_confined(b.raw, path, oflags, 0, b.scope);
  int fd = ::openat(b.raw, *path ? path : ".", oflags);
  return fd >= 0 ? fd : neg_errno();
}

// 0 when path resolves, confined, to a directory beneath base; else the error.
int check_directory(const DirBase &b, const char *path, const char *what) {
  int fd = resolve_open(b.raw, true, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, what, b.scope);
  if (fd < 0) return fd;
  close(fd);
  return 0;
}

}  // namespace

int reopen_file(const DirBase &b, const char *path, bool follow, const struct stat &st) {
  int flags = O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (follow ? 0 : O_NOFOLLOW) | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
  int file = resolve_confined_or_plain(b, path, flags | O_RDONLY);
  if (file == -EACCES && S_ISREG(st.st_mode)) file = resolve_confined_or_plain(b, path, flags | O_WRONLY);
  return file;
}

namespace {

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
  int file = reopen_file(b, path, follow, st);
  if (file < 0)
    return fail(-EOPNOTSUPP, "chmodat: without fchmodat2 nor /proc the file must be opened, and opening it failed (%s): '%s'",
                errno_text(file), path);
  int r = ::fchmod(file, mode) == 0 ? 0 : neg_errno();
  close(file);
  return r == 0 ? 0 : path_fail(r, "chmodat", path);
}

// access(2)'s answer from a file's mode bits for uid and gid: root may read and write
// anything and execute what has an execute bit (or is a directory).
int access_by_mode(const struct stat &st, int mode, uid_t uid, gid_t gid) {
  if (mode == F_OK) return 0;
  if (uid == 0) return !(mode & X_OK) || S_ISDIR(st.st_mode) || (st.st_mode & 0111) ? 0 : -EACCES;
  unsigned granted;
  if (uid == st.st_uid)
    granted = (st.st_mode >> 6) & 7;
  else if (gid == st.st_gid || group_member(st.st_gid))
    granted = (st.st_mode >> 3) & 7;
  else
    granted = st.st_mode & 7;
  return (static_cast<unsigned>(mode) & ~granted) == 0 ? 0 : -EACCES;
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
    if (int r = parent.open(base.raw, base.confined, path, what, base.scope)) return r;
    return parent.dots ? check_directory(base, path, what) : 0;
  }

  // The last component must be looked up as a directory (it ends in '/' or is a dot
  // name) and the kernel would follow a symlink there unconfined: resolve it whole,
  // confined; a directory gets the call's answer for one, err.
  int answer_for_directory(const char *path, int err, const char *what) {
    if (int r = check_directory(base, path, what)) return r;
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
  int fd = resolve_path_fd(b.raw, b.confined, path, follow, what, b.scope);
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
  unsigned os = (flags & FDK_RENAME_NOREPLACE ? RENAME_NOREPLACE : 0) | (flags & FDK_RENAME_EXCHANGE ? RENAME_EXCHANGE : 0) |
                (flags & FDK_RENAME_WHITEOUT ? RENAME_WHITEOUT : 0);
  int r = ::renameat2(from.parent.fd, from.parent.name, to.parent.fd, to.parent.name, os);
  if (r < 0) return fail(neg_errno(), "renameat: %s: '%s' -> '%s'", errno_text(errno), old_path, new_path);
  return 0;
}

int symlinkat(const char *target, fdk_dir *dir, const char *path) {
  Target t;
  if (int r = t.open(dir, path, "symlinkat")) return r;
  return result(::symlinkat(target, t.parent.fd, t.parent.name), "symlinkat", path);
}

namespace {

// Links the file the descriptor fd names to the target's name: AT_EMPTY_PATH, which the
// kernel refuses with ENOENT to a caller without CAP_DAC_READ_SEARCH (before Linux 6.10,
// and since then unless the caller opened fd itself); then the descriptor's /proc link,
// which linkat follows to the file with AT_SYMLINK_FOLLOW. Without /proc that ENOENT
// stays, and the detail says why.
int link_descriptor(int fd, const Target &to, const char *what, const char *path) {
  if (::linkat(fd, "", to.parent.fd, to.parent.name, AT_EMPTY_PATH) == 0) return 0;
  if (errno != ENOENT) return path_fail(neg_errno(), what, path);
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (::linkat(AT_FDCWD, proc, to.parent.fd, to.parent.name, AT_SYMLINK_FOLLOW) == 0) return 0;
  int err = neg_errno();
  if (err == -ENOENT && ::access("/proc/self/fd", F_OK) != 0)
    return fail(err, "%s: %s (without /proc only the opener's credentials or CAP_DAC_READ_SEARCH link a descriptor): '%s'",
                what, errno_text(err), path);
  return path_fail(err, what, path);
}

}  // namespace

int linkat(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path, bool follow) {
  if (follow) {
    // The source is resolved whole, following a last symlink confined; the file it names
    // is then linked by descriptor.
    DirBase b;
    if (int r = b.acquire(old_dir, "linkat")) return r;
    int fd = resolve_path_fd(b.raw, b.confined, old_path, true, "linkat", b.scope);
    if (fd < 0) return fd;
    Target to;
    int r = to.open(new_dir, new_path, "linkat");
    if (r == 0) r = link_descriptor(fd, to, "linkat", new_path);
    close(fd);
    return r;
  }
  Target from, to;
  if (int r = from.open(old_dir, old_path, "linkat")) return r;
  if (from.names_directory()) {
    // The source names a directory (or fails to): the kernel gives the source's error,
    // then the target's, and only then refuses to link a directory.
    if (int r = check_directory(from.base, old_path, "linkat")) return r;
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

int linkat_fd(fdk_fd *fd, fdk_dir *dir, const char *path) {
  int raw;
  if (fd_use(fd, &raw) < 0) return fail(-EBADF, "linkat_fd: the handle is closed");
  Target to;
  int r = to.open(dir, path, "linkat_fd");
  if (r == 0) r = link_descriptor(raw, to, "linkat_fd", path);
  fd_unuse(fd);
  return r;
}

int mknodat(fdk_dir *dir, const char *path, mode_t mode, dev_t dev) {
  Target t;
  if (int r = t.open(dir, path, "mknodat")) return r;
  return result(::mknodat(t.parent.fd, t.parent.name, mode, dev), "mknodat", path);
}

int truncateat(fdk_dir *dir, const char *path, int64_t length) {
  DirBase b;
  if (int r = b.acquire(dir, "truncateat")) return r;
  // The kind first, on an O_PATH descriptor: opening a device or a FIFO for writing has
  // effects truncate(2) never has. A regular file is then opened for writing, as
  // truncate(2) requires write permission.
  int fd = resolve_path_fd(b.raw, b.confined, path, true, "truncateat", b.scope);
  if (fd < 0) return fd;
  struct stat st;
  int r = ::fstat(fd, &st) < 0 ? neg_errno() : 0;
  close(fd);
  if (r == 0 && S_ISDIR(st.st_mode)) r = -EISDIR;
  if (r == 0 && !S_ISREG(st.st_mode)) r = -EINVAL;
  if (r < 0) return path_fail(r, "truncateat", path);
  int file = resolve_open(b.raw, b.confined, path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0, "truncateat",
                          b.scope);
  if (file < 0) return file;
  r = ::ftruncate(file, static_cast<off_t>(length));
  int err = neg_errno();
  close(file);
  return r < 0 ? path_fail(err, "truncateat", path) : 0;
}

int faccessat(fdk_dir *dir, const char *path, int mode, bool follow, bool effective) {
  return on_path_fd(dir, path, follow, "faccessat", [&](int fd) {
    int flags = effective ? AT_EACCESS : 0;
    if (syscall(SYS_faccessat2, fd, "", mode, flags | AT_EMPTY_PATH) == 0) return 0;
    if (errno != ENOSYS) return path_fail(neg_errno(), "faccessat", path);
    // Before faccessat2 (Linux 5.8) the kernel checks the real ids only: on the
    // descriptor's /proc link, which access follows to the file, when those are the ids
    // to check; else (or without /proc) from the file's mode bits, as glibc does.
    bool real_ids = !effective || (geteuid() == getuid() && getegid() == getgid());
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (real_ids && syscall(SYS_faccessat, AT_FDCWD, proc, mode) == 0) return 0;
    if (real_ids && (errno != ENOENT || ::access("/proc/self/fd", F_OK) == 0))
      return path_fail(neg_errno(), "faccessat", path);
    struct stat st;
    if (::fstat(fd, &st) < 0) return path_fail(neg_errno(), "faccessat", path);
    int r = access_by_mode(st, mode, effective ? geteuid() : getuid(), effective ? getegid() : getgid());
    return r < 0 ? path_fail(r, "faccessat", path) : 0;
  });
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
  int fd = resolve_path_fd(b.raw, b.confined, path, follow, "chmodat", b.scope);
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
