// SPDX-License-Identifier: MIT
// Extended attributes beneath a confined dir. The path is resolved (confined) to an
// O_PATH descriptor, which f*xattr refuses (EBADF); the call then reaches the file by the
// first route the kernel offers: the getxattrat family on that descriptor (Linux 6.13),
// else the path calls on its /proc/self/fd link (which they follow to the file), else,
// without /proc, a regular file or directory opened again for reading and f*xattr.
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>

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
  enum class Route { at, proc, opened } route;
  int fd;          // the O_PATH descriptor (at), or the file opened again (opened)
  char link[40];   // proc: the descriptor's /proc link
};

ssize_t get_value(const XattrFile &f, const char *name, void *buf, size_t size) {
  switch (f.route) {
    case XattrFile::Route::at: {
      XattrArgs args{reinterpret_cast<uintptr_t>(buf), static_cast<uint32_t>(size), 0};
      return syscall(SYS_getxattrat, f.fd, "", AT_EMPTY_PATH, name, &args, sizeof args);
    }
    case XattrFile::Route::proc: return ::getxattr(f.link, name, buf, size);
    case XattrFile::Route::opened: break;
  }
  return ::fgetxattr(f.fd, name, buf, size);
}

ssize_t list_names(const XattrFile &f, char *buf, size_t size) {
  switch (f.route) {
    case XattrFile::Route::at: return syscall(SYS_listxattrat, f.fd, "", AT_EMPTY_PATH, buf, size);
    case XattrFile::Route::proc: return ::listxattr(f.link, buf, size);
    case XattrFile::Route::opened: break;
  }
  return ::flistxattr(f.fd, buf, size);
}

ssize_t set_value(const XattrFile &f, const char *name, const void *value, size_t size, int xflags) {
  switch (f.route) {
    case XattrFile::Route::at: {
      XattrArgs args{reinterpret_cast<uintptr_t>(value), static_cast<uint32_t>(size), static_cast<uint32_t>(xflags)};
      return syscall(SYS_setxattrat, f.fd, "", AT_EMPTY_PATH, name, &args, sizeof args);
    }
    case XattrFile::Route::proc: return ::setxattr(f.link, name, value, size, xflags);
    case XattrFile::Route::opened: break;
  }
  return ::fsetxattr(f.fd, name, value, size, xflags);
}

ssize_t remove_name(const XattrFile &f, const char *name) {
  switch (f.route) {
    case XattrFile::Route::at: return syscall(SYS_removexattrat, f.fd, "", AT_EMPTY_PATH, name);
    case XattrFile::Route::proc: return ::removexattr(f.link, name);
    case XattrFile::Route::opened: break;
  }
  return ::fremovexattr(f.fd, name);
}

// Runs call(file) (a system call's -1/errno convention) on what path names beneath dir,
// by the first route that serves; returns its result or a negative errno with a detail.
template <class Call>
ssize_t on_file(fdk_dir *dir, const char *path, bool follow, const char *what, Call &&call) {
  DirBase b;
  if (int r = b.acquire(dir, what)) return r;
  int fd = resolve_path_fd(b.raw, b.confined, path, follow, what, b.scope);
  if (fd < 0) return fd;
  XattrFile f{g_no_at_calls.load(std::memory_order_relaxed) ? XattrFile::Route::proc : XattrFile::Route::at, fd, {}};
  snprintf(f.link, sizeof f.link, "/proc/self/fd/%d", fd);
  ssize_t r = call(f);
  if (r < 0 && errno == ENOSYS && f.route == XattrFile::Route::at) {
    g_no_at_calls.store(true, std::memory_order_relaxed);
    f.route = XattrFile::Route::proc;
    r = call(f);
  }
  int err = r < 0 ? errno : 0;
  if (err == ENOENT && f.route == XattrFile::Route::proc && ::access("/proc/self/fd", F_OK) < 0) {
    struct stat st {};
    int file = ::fstat(fd, &st) < 0 ? neg_errno() : -EOPNOTSUPP;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) file = reopen_file(b, path, follow, st);
    if (file < 0) {
      close(fd);
      return fail(file == -EOPNOTSUPP ? file : -EOPNOTSUPP,
                  "%s: without the getxattrat calls nor /proc only a regular file or directory that can be opened "
                  "serves: '%s'", what, path);
    }
    f = {XattrFile::Route::opened, file, {}};
    r = call(f);
    err = r < 0 ? errno : 0;
    close(file);
  }
  close(fd);
  return r < 0 ? path_fail(-err, what, path) : r;
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
