// SPDX-License-Identifier: MIT
// Extended attributes beneath a confined dir. The f*xattr calls refuse the O_PATH
// descriptors resolution gives (EBADF), and so do the *xattrat calls on an empty path. So
// the call reaches the file by the first route the kernel offers: the getxattrat family
// (Linux 6.13) on a confined parent and one name never followed (a symlink to follow is
// first resolved, confined, to its symlink-free path); else the path calls on the O_PATH
// descriptor's /proc/self/fd link (which they follow to the file); else, without /proc,
// a regular file or directory opened again for reading and f*xattr. Unconfined, the
// path calls take the path as it is.
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "core/error.h"
#include "fs/fs.h"

namespace fdk {

namespace {

#ifndef SYS_setxattrat
#define SYS_setxattrat 463
#define SYS_getxattrat 464
#define SYS_listxattrat 465
#define SYS_removexattrat 466
#endif

// The kernel's struct xattr_args of the *xattrat calls.
struct XattrArgs {
  uint64_t value;
  uint32_t size;
  uint32_t flags;
};

// Set once the kernel (or a seccomp filter) answered ENOSYS to an *xattrat call.
std::atomic<bool> g_no_at_calls{false};

// How a call reaches the file.
struct XattrFile {
  enum class Route { at, path, opened } route;
  int fd;            // at: the parent; opened: the file opened again
  const char *name;  // at: the name in the parent; path: the path (a /proc link, or
                     // the caller's when unconfined)
  bool follow;       // path: follow a last symlink (getxattr rather than lgetxattr)
};

ssize_t get_value(const XattrFile &f, const char *name, void *buf, size_t size) {
  switch (f.route) {
    case XattrFile::Route::at: {
      XattrArgs args{reinterpret_cast<uintptr_t>(buf), static_cast<uint32_t>(size), 0};
      return syscall(SYS_getxattrat, f.fd, f.name, AT_SYMLINK_NOFOLLOW, name, &args, sizeof args);
    }
    case XattrFile::Route::path:
      return f.follow ? ::getxattr(f.name, name, buf, size) : ::lgetxattr(f.name, name, buf, size);
    case XattrFile::Route::opened: break;
  }
  return ::fgetxattr(f.fd, name, buf, size);
}

ssize_t list_names(const XattrFile &f, char *buf, size_t size) {
  switch (f.route) {
    case XattrFile::Route::at: return syscall(SYS_listxattrat, f.fd, f.name, AT_SYMLINK_NOFOLLOW, buf, size);
    case XattrFile::Route::path: return f.follow ? ::listxattr(f.name, buf, size) : ::llistxattr(f.name, buf, size);
    case XattrFile::Route::opened: break;
  }
  return ::flistxattr(f.fd, buf, size);
}

ssize_t set_value(const XattrFile &f, const char *name, const void *value, size_t size, int xflags) {
  switch (f.route) {
    case XattrFile::Route::at: {
      XattrArgs args{reinterpret_cast<uintptr_t>(value), static_cast<uint32_t>(size), static_cast<uint32_t>(xflags)};
      return syscall(SYS_setxattrat, f.fd, f.name, AT_SYMLINK_NOFOLLOW, name, &args, sizeof args);
    }
    case XattrFile::Route::path:
      return f.follow ? ::setxattr(f.name, name, value, size, xflags) : ::lsetxattr(f.name, name, value, size, xflags);
    case XattrFile::Route::opened: break;
  }
  return ::fsetxattr(f.fd, name, value, size, xflags);
}

ssize_t remove_name(const XattrFile &f, const char *name) {
  switch (f.route) {
    case XattrFile::Route::at: return syscall(SYS_removexattrat, f.fd, f.name, AT_SYMLINK_NOFOLLOW, name);
    case XattrFile::Route::path: return f.follow ? ::removexattr(f.name, name) : ::lremovexattr(f.name, name);
    case XattrFile::Route::opened: break;
  }
  return ::fremovexattr(f.fd, name);
}

// The parent and name of what path names beneath b, for the at route: the name itself
// (in direct) when it needs no following (one fstatat says so), else the symlink-free
// path the walk finds (in resolved). The one to use, or null with *err set and a detail.
Parent *name_in_parent(Parent *direct, Parent *resolved, const DirBase &b, const char *path, bool follow,
                       const char *what, int *err) {
  if ((*err = direct->open(b.raw, true, path, what, b.scope))) return nullptr;
  if (!direct->trailing_slash && !direct->dots) {
    struct stat st;
    if (::fstatat(direct->fd, direct->bare_name(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      *err = path_fail(neg_errno(), what, path);
      return nullptr;
    }
    if (!follow || !S_ISLNK(st.st_mode)) return direct;
  }
  std::string canonical;
  int fd = resolve_open_with(resolve_backend(), false, b.raw, path, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW), 0,
                             &canonical, b.scope);
  if (fd < 0) {
    *err = path_fail(fd, what, path);
    return nullptr;
  }
  close(fd);
  *err = resolved->open(b.raw, true, canonical.empty() ? "." : canonical.c_str(), what, b.scope);
  return *err ? nullptr : resolved;
}

// The routes after the at route: the /proc link of an O_PATH descriptor, or the file
// opened again when there is no /proc.
template <class Call>
ssize_t by_descriptor(const DirBase &b, const char *path, bool follow, const char *what, Call &&call) {
  int fd = resolve_path_fd(b.raw, b.confined, path, follow, what, b.scope);
  if (fd < 0) return fd;
  char link[40];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t r = call(XattrFile{XattrFile::Route::path, -1, link, true});
  int err = r < 0 ? errno : 0;
  if (err == ENOENT && ::access("/proc/self/fd", F_OK) < 0) {
    struct stat st {};
    int file = ::fstat(fd, &st) < 0 ? neg_errno() : -EOPNOTSUPP;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) file = reopen_file(b, path, follow, st);
    if (file < 0) {
      close(fd);
      return fail(-EOPNOTSUPP,
                  "%s: without the getxattrat calls nor /proc only a regular file or directory that can be opened "
                  "serves: '%s'", what, path);
    }
    r = call(XattrFile{XattrFile::Route::opened, file, nullptr, false});
    err = r < 0 ? errno : 0;
    close(file);
  }
  close(fd);
  return r < 0 ? path_fail(-err, what, path) : r;
}

// Runs call(file) (a system call's -1/errno convention) on what path names beneath dir,
// by the first route that serves; returns its result or a negative errno with a detail.
template <class Call>
ssize_t on_file(fdk_dir *dir, const char *path, bool follow, const char *what, Call &&call) {
  DirBase b;
  if (int r = b.acquire(dir, what)) return r;
  if (!b.confined) {
    ssize_t r = call(XattrFile{XattrFile::Route::path, -1, *path ? path : ".", follow});
    return r < 0 ? path_fail(neg_errno(), what, path) : r;
  }
  if (!g_no_at_calls.load(std::memory_order_relaxed)) {
    Parent direct, resolved;
    int err;
    Parent *parent = name_in_parent(&direct, &resolved, b, path, follow, what, &err);
    if (!parent) return err;
    ssize_t r = call(XattrFile{XattrFile::Route::at, parent->fd, parent->bare_name(), false});
    if (r >= 0) return r;
    if (errno != ENOSYS) return path_fail(neg_errno(), what, path);
    g_no_at_calls.store(true, std::memory_order_relaxed);
  }
  return by_descriptor(b, path, follow, what, call);
}

// Reads a value or a name list of unknown size into a new buffer with a NUL after it;
// read(f, buf, size) is the call (size 0 asks for the size). The size can change
// between the two calls: ERANGE starts again.
template <class Read>
ssize_t read_grown(char **out, Read &&read, const XattrFile &f) {
  for (;;) {
    ssize_t size = read(f, nullptr, 0);
    if (size < 0) return -1;
    char *buf = static_cast<char *>(malloc(static_cast<size_t>(size) + 1));
    if (!buf) {
      errno = ENOMEM;
      return -1;
    }
    ssize_t n = size ? read(f, buf, static_cast<size_t>(size)) : 0;
    if (n >= 0) {
      buf[n] = '\0';
      *out = buf;
      return n;
    }
    int err = errno;
    free(buf);
    if (err != ERANGE) {
      errno = err;
      return -1;
    }
  }
}

}  // namespace

ssize_t getxattrat(char **out, fdk_dir *dir, const char *path, const char *name, bool follow) {
  return on_file(dir, path, follow, "getxattrat", [&](const XattrFile &f) {
    return read_grown(out, [&](const XattrFile &g, char *buf, size_t size) { return get_value(g, name, buf, size); }, f);
  });
}

ssize_t listxattrat(char **out, fdk_dir *dir, const char *path, bool follow) {
  return on_file(dir, path, follow, "listxattrat", [&](const XattrFile &f) { return read_grown(out, list_names, f); });
}

int setxattrat(fdk_dir *dir, const char *path, const char *name, const void *value, size_t size, int xflags,
               bool follow) {
  return static_cast<int>(on_file(dir, path, follow, "setxattrat",
                                  [&](const XattrFile &f) { return set_value(f, name, value, size, xflags); }));
}

int removexattrat(fdk_dir *dir, const char *path, const char *name, bool follow) {
  return static_cast<int>(on_file(dir, path, follow, "removexattrat", [&](const XattrFile &f) { return remove_name(f, name); }));
}

}  // namespace fdk
