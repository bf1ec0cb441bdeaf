// SPDX-License-Identifier: MIT
// Dir handles, open flags and fdk_openat.
#include <unistd.h>

#include <array>

#include "core/error.h"
#include "core/hot.h"
#include "fd/fd.h"
#include "fs/fs.h"

namespace fdk {

namespace {

fdk_dir g_fs{fdk_dir::Kind::fs};
fdk_dir g_cwd{fdk_dir::Kind::cwd};

struct FlagMap {
  unsigned fdk;
  int os;
};

constexpr FlagMap kOpenFlags[] = {
    {FDK_O_WRONLY, O_WRONLY},     {FDK_O_RDWR, O_RDWR},         {FDK_O_APPEND, O_APPEND},
    {FDK_O_CREAT, O_CREAT},       {FDK_O_EXCL, O_EXCL},         {FDK_O_TRUNC, O_TRUNC},
    {FDK_O_DIRECTORY, O_DIRECTORY}, {FDK_O_NOFOLLOW, O_NOFOLLOW}, {FDK_O_NONBLOCK, O_NONBLOCK},
    {FDK_O_SYNC, O_SYNC},         {FDK_O_DSYNC, O_DSYNC},       {FDK_O_NOCTTY, O_NOCTTY},
    {FDK_O_PATH, O_PATH},         {FDK_O_TMPFILE, O_TMPFILE},
};

constexpr unsigned kKnownOpenFlags = [] {
  unsigned all = 0;
  for (const FlagMap &m : kOpenFlags) all |= m.fdk;
  return all;
}();

// The platform flag of each FDK_O_* bit by the bit's position, so that mapping costs one
// load per flag given rather than a pass over the whole table (it is on every open).
constexpr int kBitCount = 32;
constexpr std::array<int, kBitCount> kOsFlagOfBit = [] {
  std::array<int, kBitCount> of_bit{};
  for (const FlagMap &m : kOpenFlags) of_bit[__builtin_ctz(m.fdk)] = m.os;
  return of_bit;
}();
static_assert([] {
  for (const FlagMap &m : kOpenFlags)
    if (m.fdk == 0 || (m.fdk & (m.fdk - 1))) return false;
  return true;
}(), "every FDK_O_* flag of the table is one bit");

// Why flags cannot be opened, or null when they can.
const char *bad_open_flags(unsigned flags) {
  if (flags & ~kKnownOpenFlags) return "unknown flags";
  if ((flags & FDK_O_WRONLY) && (flags & FDK_O_RDWR)) return "WRONLY and RDWR together";
  if ((flags & FDK_O_PATH) && (flags & ~(FDK_O_PATH | FDK_O_DIRECTORY | FDK_O_NOFOLLOW)))
    return "PATH combines only with DIRECTORY and NOFOLLOW";
  if ((flags & FDK_O_CREAT) && (flags & FDK_O_DIRECTORY)) return "CREAT and DIRECTORY together";
  if ((flags & FDK_O_TMPFILE) && (flags & FDK_O_CREAT)) return "TMPFILE and CREAT together";
  if ((flags & FDK_O_TMPFILE) && !(flags & (FDK_O_WRONLY | FDK_O_RDWR))) return "TMPFILE without WRONLY or RDWR";
  return nullptr;
}

}  // namespace

int open_flags_supported(unsigned flags) { return bad_open_flags(flags) ? 0 : 1; }

FDK_ASYNC_HOT int open_flags_to_os(unsigned flags, int *out) {
  if (const char *why = bad_open_flags(flags)) return fail(-EINVAL, "openat: %s: flags 0x%x", why, flags);
  int os = O_CLOEXEC;
  for (unsigned rest = flags; rest; rest &= rest - 1) os |= kOsFlagOfBit[__builtin_ctz(rest)];
  *out = os;
  return 0;
}

FDK_ASYNC_HOT int wrap_opened(fdk_fd **out, int raw, int oflags) { return fd_wrap(out, raw, !(oflags & O_NONBLOCK)); }

int DirBase::closed(const char *what) { return fail(-EBADF, "%s: the directory's handle is closed", what); }

FDK_HOT fdk_dir *dir_fs() { return &g_fs; }
FDK_HOT fdk_dir *dir_cwd() { return &g_cwd; }

int dir_open(fdk_dir **out, fdk_dir *base, const char *path, unsigned flags) {
  DirBase b;
  if (int r = b.acquire(base, "dir_open")) return r;
  uint64_t scope = b.scope | (flags & FDK_DIR_NO_XDEV ? RESOLVE_NO_XDEV : 0) |
                   (flags & FDK_DIR_NO_SYMLINKS ? RESOLVE_NO_SYMLINKS : 0) |
                   (flags & FDK_DIR_IN_ROOT ? RESOLVE_IN_ROOT : 0);
  // Opening path itself already obeys the new scope (an unconfined base has none).
  int oflags = O_PATH | O_DIRECTORY | O_CLOEXEC | (flags & FDK_DIR_NOFOLLOW ? O_NOFOLLOW : 0);
  int raw = resolve_open(b.raw, b.confined, path, oflags, 0, "dir_open", b.confined ? scope : 0);
  if (raw < 0) return raw;
  fdk_fd *fd;
  if (int r = fd_wrap(&fd, raw, true)) return r;
  auto *dir = new (std::nothrow) fdk_dir(fdk_dir::Kind::handle);
  if (!dir) {
    fd_unref(fd);
    return fail(-ENOMEM, "dir_open: out of memory");
  }
  dir->fd = fd;
  dir->scope = scope;
  *out = dir;
  return 0;
}

int dir_from_fd(fdk_dir **out, fdk_fd *fd) {
  int raw;
  if (fd_use(fd, &raw) < 0) return fail(-EBADF, "dir_from_fd: the handle is closed");
  struct stat st;
  int r = ::fstat(raw, &st) < 0 ? neg_errno() : 0;
  fd_unuse(fd);
  if (r < 0) return fail_sys(r, "dir_from_fd: fstat");
  if (!S_ISDIR(st.st_mode)) return fail(-ENOTDIR, "dir_from_fd: descriptor %d is not a directory", raw);
  auto *dir = new (std::nothrow) fdk_dir(fdk_dir::Kind::handle);
  if (!dir) return fail(-ENOMEM, "dir_from_fd: out of memory");
  dir->fd = fd_ref(fd);
  *out = dir;
  return 0;
}

FDK_ASYNC_HOT fdk_dir *dir_ref(fdk_dir *dir) {
  if (dir->kind == fdk_dir::Kind::handle) dir->refs.fetch_add(1, std::memory_order_relaxed);
  return dir;
}

FDK_ASYNC_HOT fdk_dir *dir_unref(fdk_dir *dir) {
  if (!dir || dir->kind != fdk_dir::Kind::handle) return nullptr;
  if (dir->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    fd_unref(dir->fd);
    delete dir;
  }
  return nullptr;
}

int openat_raw(fdk_dir *dir, const char *path, int oflags, mode_t mode) {
  DirBase b;
  if (int r = b.acquire(dir, "openat")) return r;
  return resolve_open_inline(b.raw, b.confined, path, oflags, mode, "openat", b.scope);
}

// Flattened: the flag mapping, the dir's use, the open of a single name and the wrap run
// in this one function, rather than a call each, on every open (their own copies serve the
// asynchronous opens). fdk_openat tail-calls it, so that the open's system call returns
// into the frame that returns to the caller (core/hot.h).
[[gnu::flatten]] FDK_HOT int openat(fdk_fd **out, fdk_dir *dir, const char *path, unsigned flags,
                                    unsigned mode) noexcept {
  int oflags = 0;
  if (int r = open_flags_to_os(flags, &oflags)) return r;
  int raw = openat_raw(dir, path, oflags, mode);
  if (raw < 0) return raw;
  return wrap_opened(out, raw, oflags);
}

}  // namespace fdk
