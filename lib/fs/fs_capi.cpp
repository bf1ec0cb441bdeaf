// SPDX-License-Identifier: MIT
// extern "C" entry points of fdkit/fs.h.
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/guard.h"
#include "core/hot.h"
#include "loop/async_entry.h"
#include "fd/fd.h"
#include "fs/fs_async.h"
#include "trace/trace.h"

using fdk::check_fd;
using fdk::fail;
using fdk::guard;
using fdk::guard_async;
using fdk::traced;

namespace {

int check_dir(const char *what, const fdk_dir *dir, const char *path) {
  if (!dir) return fail(-EINVAL, "%s: dir is NULL", what);
  if (!path) return fail(-EINVAL, "%s: path is NULL", what);
  return 0;
}

// The descriptor a dir stands for, for trace spans (-1 for fdk_dir_fs and fdk_dir_cwd).
int trace_fd(const fdk_dir *dir) { return dir->fd ? dir->fd->raw : -1; }

int check_out(const char *what, const void *out) { return out ? 0 : fail(-EINVAL, "%s: out is NULL", what); }

int check_mode(const char *what, unsigned mode) {
  return mode & ~07777u ? fail(-EINVAL, "%s: mode 0%o has bits beyond 07777", what, mode) : 0;
}

int check_follow(const char *what, unsigned flags) {
  return flags & ~FDK_FOLLOW ? fail(-EINVAL, "%s: unknown flags 0x%x", what, flags) : 0;
}

int check_rename(const char *what, const fdk_dir *old_dir, const char *old_path, const fdk_dir *new_dir,
                 const char *new_path, unsigned flags) {
  if (int r = check_dir(what, old_dir, old_path)) return r;
  if (int r = check_dir(what, new_dir, new_path)) return r;
  if (flags & ~(FDK_RENAME_NOREPLACE | FDK_RENAME_EXCHANGE | FDK_RENAME_WHITEOUT))
    return fail(-EINVAL, "%s: unknown flags 0x%x", what, flags);
  if ((flags & FDK_RENAME_EXCHANGE) && (flags & (FDK_RENAME_NOREPLACE | FDK_RENAME_WHITEOUT)))
    return fail(-EINVAL, "%s: EXCHANGE with NOREPLACE or WHITEOUT", what);
  return 0;
}

int check_owner(const char *what, int64_t uid, int64_t gid) {
  if (uid < -1 || uid > UINT32_MAX - 1 || gid < -1 || gid > UINT32_MAX - 1)
    return fail(-EINVAL, "%s: uid or gid out of range", what);
  return 0;
}

// A time of fdk_utimensat as a timespec (FDK_UTIME_NOW / OMIT in the nanoseconds).
int to_timespec(const char *what, int64_t sec, int64_t nsec, struct timespec *out) {
  out->tv_sec = static_cast<time_t>(sec);
  if (nsec == FDK_UTIME_NOW) {
    out->tv_nsec = UTIME_NOW;
  } else if (nsec == FDK_UTIME_OMIT) {
    out->tv_nsec = UTIME_OMIT;
  } else if (nsec < 0 || nsec > 999999999) {
    return fail(-EINVAL, "%s: nanoseconds %lld out of range", what, static_cast<long long>(nsec));
  } else {
    out->tv_nsec = static_cast<long>(nsec);
  }
  return 0;
}

int check_times(const char *what, int64_t as, int64_t an, int64_t ms, int64_t mn, struct timespec ts[2]) {
  if (int r = to_timespec(what, as, an, &ts[0])) return r;
  return to_timespec(what, ms, mn, &ts[1]);
}

int check_stat(const char *what, const fdk_stat *st) { return st ? 0 : fail(-EINVAL, "%s: stat is NULL", what); }

int check_dir_flags(unsigned flags) {
  constexpr unsigned kKnown = FDK_DIR_NOFOLLOW | FDK_DIR_NO_XDEV | FDK_DIR_NO_SYMLINKS | FDK_DIR_IN_ROOT;
  return flags & ~kKnown ? fail(-EINVAL, "dir_open: unknown flags 0x%x", flags) : 0;
}

int check_link(const char *what, const fdk_dir *old_dir, const char *old_path, const fdk_dir *new_dir,
               const char *new_path, unsigned flags) {
  if (int r = check_dir(what, old_dir, old_path)) return r;
  if (int r = check_dir(what, new_dir, new_path)) return r;
  return check_follow(what, flags);
}

// The st_mode type bits of a file kind fdk_mknodat creates.
int node_mode(int kind, unsigned perm, mode_t *out) {
  mode_t type;
  switch (kind) {
    case FDK_KIND_FIFO: type = S_IFIFO; break;
    case FDK_KIND_CHAR: type = S_IFCHR; break;
    case FDK_KIND_BLOCK: type = S_IFBLK; break;
    case FDK_KIND_SOCKET: type = S_IFSOCK; break;
    case FDK_KIND_REGULAR: type = S_IFREG; break;
    default: return fail(-EINVAL, "mknodat: kind %d is not one mknod creates", kind);
  }
  if (int r = check_mode("mknodat", perm)) return r;
  *out = type | perm;
  return 0;
}

int check_length(int64_t length) {
  return length < 0 ? fail(-EINVAL, "truncateat: negative length %lld", static_cast<long long>(length)) : 0;
}

int check_access(unsigned mode, unsigned flags) {
  if (mode & ~(FDK_ACCESS_READ | FDK_ACCESS_WRITE | FDK_ACCESS_EXEC))
    return fail(-EINVAL, "faccessat: unknown mode bits 0x%x", mode);
  if (flags & ~(FDK_FOLLOW | FDK_ACCESS_EFFECTIVE)) return fail(-EINVAL, "faccessat: unknown flags 0x%x", flags);
  return 0;
}

// The platform access mode of FDK_ACCESS_* bits.
int access_mode(unsigned mode) {
  return (mode & FDK_ACCESS_READ ? R_OK : 0) | (mode & FDK_ACCESS_WRITE ? W_OK : 0) |
         (mode & FDK_ACCESS_EXEC ? X_OK : 0);
}

int check_name(const char *what, const char *name) { return name ? 0 : fail(-EINVAL, "%s: name is NULL", what); }

int check_xattr(const char *what, const fdk_dir *dir, const char *path, unsigned flags, unsigned allowed) {
  if (int r = check_dir(what, dir, path)) return r;
  if (flags & ~allowed) return fail(-EINVAL, "%s: unknown flags 0x%x", what, flags);
  if ((flags & FDK_XATTR_CREATE) && (flags & FDK_XATTR_REPLACE))
    return fail(-EINVAL, "%s: CREATE and REPLACE together", what);
  return 0;
}

constexpr unsigned kSetXattrFlags = FDK_FOLLOW | FDK_XATTR_CREATE | FDK_XATTR_REPLACE;

int check_value(const void *value, size_t size) {
  return !value && size ? fail(-EINVAL, "setxattrat: value is NULL with size %zu", size) : 0;
}

// The platform flags of FDK_XATTR_*.
int xattr_flags(unsigned flags) {
  return (flags & FDK_XATTR_CREATE ? XATTR_CREATE : 0) | (flags & FDK_XATTR_REPLACE ? XATTR_REPLACE : 0);
}

}  // namespace

extern "C" {

FDK_API int fdk_last_error_is_escape(void) { return fdk::is_escape_detail(fdk::error_text()) ? 1 : 0; }

FDK_HOT FDK_API fdk_dir *fdk_dir_fs(void) { return fdk::dir_fs(); }
FDK_HOT FDK_API fdk_dir *fdk_dir_cwd(void) { return fdk::dir_cwd(); }

FDK_API int fdk_dir_open(fdk_dir **out, fdk_dir *base, const char *path) {
  if (int r = check_out("dir_open", out)) return r;
  if (int r = check_dir("dir_open", base, path)) return r;
  return traced("dir_open", trace_fd(base), path, [&] { return fdk::dir_open(out, base, path); });
}

FDK_API int fdk_dir_from_fd(fdk_dir **out, fdk_fd *fd) {
  if (int r = check_out("dir_from_fd", out)) return r;
  if (!fd) return fail(-EINVAL, "dir_from_fd: fd is NULL");
  return traced("dir_from_fd", fd->raw, nullptr, [&] { return fdk::dir_from_fd(out, fd); });
}

FDK_API int fdk_dir_open2(fdk_dir **out, fdk_dir *base, const char *path, unsigned flags) {
  if (int r = check_out("dir_open", out)) return r;
  if (int r = check_dir("dir_open", base, path)) return r;
  if (int r = check_dir_flags(flags)) return r;
  return traced("dir_open", trace_fd(base), path, [&] { return fdk::dir_open(out, base, path, flags); });
}

FDK_API fdk_dir *fdk_dir_ref(fdk_dir *dir) { return dir ? fdk::dir_ref(dir) : nullptr; }
FDK_API fdk_dir *fdk_dir_unref(fdk_dir *dir) { return fdk::dir_unref(dir); }
FDK_API fdk_fd *fdk_dir_handle(fdk_dir *dir) { return dir ? dir->fd : nullptr; }

FDK_API int fdk_open_flags_supported(unsigned flags) { return fdk::open_flags_supported(flags); }

FDK_HOT FDK_API int fdk_openat(fdk_fd **out, fdk_dir *dir, const char *path, unsigned flags, unsigned mode) {
  if (int r = check_out("openat", out)) return r;
  if (int r = check_dir("openat", dir, path)) return r;
  if (int r = check_mode("openat", mode)) return r;
  // Unheard, a tail call: the open returns straight to the caller (fdk::openat throws
  // nothing, and core/hot.h tells why).
  if (!fdk::trace_listening()) return fdk::openat(out, dir, path, flags, mode);
  // Like the asynchronous form and accept, the span ends with the new descriptor.
  fdk::Span span;
  span.begin("openat", trace_fd(dir), path);
  int r = guard("openat", [&] { return fdk::openat(out, dir, path, flags, mode); });
  span.end(r == 0 ? (*out)->raw : r);
  return r;
}

FDK_API int fdk_resolve_backend(void) { return static_cast<int>(fdk::resolve_backend()); }
FDK_API int fdk_resolve_set_backend(int backend) {
  return guard("resolve", [&] { return fdk::set_resolve_backend(backend); });
}

FDK_API int fdk_mkdirat(fdk_dir *dir, const char *path, unsigned mode) {
  if (int r = check_dir("mkdirat", dir, path)) return r;
  if (int r = check_mode("mkdirat", mode)) return r;
  return traced("mkdirat", trace_fd(dir), path, [&] { return fdk::mkdirat(dir, path, mode); });
}

FDK_API int fdk_unlinkat(fdk_dir *dir, const char *path) {
  if (int r = check_dir("unlinkat", dir, path)) return r;
  return traced("unlinkat", trace_fd(dir), path, [&] { return fdk::unlinkat(dir, path); });
}

FDK_API int fdk_rmdirat(fdk_dir *dir, const char *path) {
  if (int r = check_dir("rmdirat", dir, path)) return r;
  return traced("rmdirat", trace_fd(dir), path, [&] { return fdk::rmdirat(dir, path); });
}

FDK_API int fdk_renameat(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path) {
  return fdk_renameat2(old_dir, old_path, new_dir, new_path, 0);
}

FDK_API int fdk_renameat2(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                          unsigned flags) {
  if (int r = check_rename("renameat", old_dir, old_path, new_dir, new_path, flags)) return r;
  return traced("renameat", trace_fd(old_dir), old_path, [&] { return fdk::renameat2(old_dir, old_path, new_dir, new_path, flags); });
}

FDK_API int fdk_symlinkat(const char *target, fdk_dir *dir, const char *path) {
  if (!target) return fail(-EINVAL, "symlinkat: target is NULL");
  if (int r = check_dir("symlinkat", dir, path)) return r;
  return traced("symlinkat", trace_fd(dir), path, [&] { return fdk::symlinkat(target, dir, path); });
}

FDK_API int fdk_linkat(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path) {
  if (int r = check_dir("linkat", old_dir, old_path)) return r;
  if (int r = check_dir("linkat", new_dir, new_path)) return r;
  return traced("linkat", trace_fd(old_dir), old_path, [&] { return fdk::linkat(old_dir, old_path, new_dir, new_path); });
}

FDK_API int fdk_linkat2(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                        unsigned flags) {
  if (int r = check_link("linkat", old_dir, old_path, new_dir, new_path, flags)) return r;
  return traced("linkat", trace_fd(old_dir), old_path,
                [&] { return fdk::linkat(old_dir, old_path, new_dir, new_path, flags & FDK_FOLLOW); });
}

FDK_API int fdk_linkat_fd(fdk_fd *fd, fdk_dir *dir, const char *path) {
  if (int r = check_fd("linkat_fd", fd)) return r;
  if (int r = check_dir("linkat_fd", dir, path)) return r;
  return traced("linkat_fd", fd->raw, path, [&] { return fdk::linkat_fd(fd, dir, path); });
}

FDK_API int fdk_mknodat(fdk_dir *dir, const char *path, int kind, unsigned mode, uint64_t dev) {
  mode_t os_mode;
  if (int r = check_dir("mknodat", dir, path)) return r;
  if (int r = node_mode(kind, mode, &os_mode)) return r;
  return traced("mknodat", trace_fd(dir), path, [&] { return fdk::mknodat(dir, path, os_mode, static_cast<dev_t>(dev)); });
}

FDK_API int fdk_mkfifoat(fdk_dir *dir, const char *path, unsigned mode) {
  return fdk_mknodat(dir, path, FDK_KIND_FIFO, mode, 0);
}

FDK_API int fdk_truncateat(fdk_dir *dir, const char *path, int64_t length) {
  if (int r = check_dir("truncateat", dir, path)) return r;
  if (int r = check_length(length)) return r;
  return traced("truncateat", trace_fd(dir), path, [&] { return fdk::truncateat(dir, path, length); });
}

FDK_API int fdk_faccessat(fdk_dir *dir, const char *path, unsigned mode, unsigned flags) {
  if (int r = check_dir("faccessat", dir, path)) return r;
  if (int r = check_access(mode, flags)) return r;
  return traced("faccessat", trace_fd(dir), path, [&] {
    return fdk::faccessat(dir, path, access_mode(mode), flags & FDK_FOLLOW, flags & FDK_ACCESS_EFFECTIVE);
  });
}

FDK_API ssize_t fdk_getxattrat(char **out, fdk_dir *dir, const char *path, const char *name, unsigned flags) {
  if (int r = check_out("getxattrat", out)) return r;
  if (int r = check_xattr("getxattrat", dir, path, flags, FDK_FOLLOW)) return r;
  if (int r = check_name("getxattrat", name)) return r;
  return traced("getxattrat", trace_fd(dir), path, [&] { return fdk::getxattrat(out, dir, path, name, flags & FDK_FOLLOW); });
}

FDK_API int fdk_setxattrat(fdk_dir *dir, const char *path, const char *name, const void *value, size_t size,
                           unsigned flags) {
  if (int r = check_xattr("setxattrat", dir, path, flags, kSetXattrFlags)) return r;
  if (int r = check_name("setxattrat", name)) return r;
  if (int r = check_value(value, size)) return r;
  return traced("setxattrat", trace_fd(dir), path, [&] {
    return fdk::setxattrat(dir, path, name, value, size, xattr_flags(flags), flags & FDK_FOLLOW);
  });
}

FDK_API ssize_t fdk_listxattrat(char **out, fdk_dir *dir, const char *path, unsigned flags) {
  if (int r = check_out("listxattrat", out)) return r;
  if (int r = check_xattr("listxattrat", dir, path, flags, FDK_FOLLOW)) return r;
  return traced("listxattrat", trace_fd(dir), path, [&] { return fdk::listxattrat(out, dir, path, flags & FDK_FOLLOW); });
}

FDK_API int fdk_removexattrat(fdk_dir *dir, const char *path, const char *name, unsigned flags) {
  if (int r = check_xattr("removexattrat", dir, path, flags, FDK_FOLLOW)) return r;
  if (int r = check_name("removexattrat", name)) return r;
  return traced("removexattrat", trace_fd(dir), path,
                [&] { return fdk::removexattrat(dir, path, name, flags & FDK_FOLLOW); });
}

FDK_API ssize_t fdk_readlinkat(char **out, fdk_dir *dir, const char *path) {
  if (int r = check_out("readlinkat", out)) return r;
  if (int r = check_dir("readlinkat", dir, path)) return r;
  return traced("readlinkat", trace_fd(dir), path, [&] { return fdk::readlinkat(out, dir, path); });
}

FDK_API int fdk_chmodat(fdk_dir *dir, const char *path, unsigned mode, unsigned flags) {
  if (int r = check_dir("chmodat", dir, path)) return r;
  if (int r = check_mode("chmodat", mode)) return r;
  if (int r = check_follow("chmodat", flags)) return r;
  return traced("chmodat", trace_fd(dir), path, [&] { return fdk::chmodat(dir, path, mode, flags & FDK_FOLLOW); });
}

FDK_API int fdk_chownat(fdk_dir *dir, const char *path, int64_t uid, int64_t gid, unsigned flags) {
  if (int r = check_dir("chownat", dir, path)) return r;
  if (int r = check_owner("chownat", uid, gid)) return r;
  if (int r = check_follow("chownat", flags)) return r;
  return traced("chownat", trace_fd(dir), path, [&] { return fdk::chownat(dir, path, uid, gid, flags & FDK_FOLLOW); });
}

FDK_API int fdk_utimensat(fdk_dir *dir, const char *path, int64_t atime_sec, int64_t atime_nsec, int64_t mtime_sec,
                          int64_t mtime_nsec, unsigned flags) {
  struct timespec ts[2];
  if (int r = check_dir("utimensat", dir, path)) return r;
  if (int r = check_times("utimensat", atime_sec, atime_nsec, mtime_sec, mtime_nsec, ts)) return r;
  if (int r = check_follow("utimensat", flags)) return r;
  return traced("utimensat", trace_fd(dir), path, [&] { return fdk::utimensat(dir, path, ts, flags & FDK_FOLLOW); });
}

FDK_API int fdk_stat_new(fdk_stat **out) {
  if (int r = check_out("stat_new", out)) return r;
  auto *st = new (std::nothrow) fdk_stat();
  if (!st) return fail(-ENOMEM, "stat_new: out of memory");
  *out = st;
  return 0;
}

FDK_API fdk_stat *fdk_stat_free(fdk_stat *st) {
  delete st;
  return nullptr;
}

FDK_API int fdk_fstat(fdk_stat *st, fdk_fd *fd) {
  if (int r = check_stat("fstat", st)) return r;
  if (!fd) return fail(-EINVAL, "fstat: fd is NULL");
  return traced("fstat", fd->raw, nullptr, [&] { return fdk::fstat(&st->sx, fd); });
}

FDK_HOT FDK_API int fdk_statat(fdk_stat *st, fdk_dir *dir, const char *path, int follow) {
  if (int r = check_stat("statat", st)) return r;
  if (int r = check_dir("statat", dir, path)) return r;
  // Unheard, a tail call, as fdk_openat's.
  if (!fdk::trace_listening()) return fdk::statat(&st->sx, dir, path, follow != 0);
  return traced("statat", trace_fd(dir), path, [&] { return fdk::statat(&st->sx, dir, path, follow != 0); });
}

// Accessors read a zeroed record through a NULL pointer instead of crashing.
static const struct statx &fields(const fdk_stat *st) {
  static const struct statx kNone {};
  return st ? st->sx : kNone;
}

FDK_API int fdk_stat_kind(const fdk_stat *st) { return st ? fdk::kind_of_mode(st->sx.stx_mode) : -EINVAL; }
FDK_API int64_t fdk_stat_size(const fdk_stat *st) { return static_cast<int64_t>(fields(st).stx_size); }
FDK_API int64_t fdk_stat_blocks(const fdk_stat *st) { return static_cast<int64_t>(fields(st).stx_blocks); }
FDK_API int64_t fdk_stat_blksize(const fdk_stat *st) { return fields(st).stx_blksize; }
FDK_API uint64_t fdk_stat_ino(const fdk_stat *st) { return fields(st).stx_ino; }
FDK_API uint64_t fdk_stat_dev(const fdk_stat *st) { return makedev(fields(st).stx_dev_major, fields(st).stx_dev_minor); }
FDK_API uint64_t fdk_stat_rdev(const fdk_stat *st) {
  return makedev(fields(st).stx_rdev_major, fields(st).stx_rdev_minor);
}
FDK_API uint64_t fdk_stat_nlink(const fdk_stat *st) { return fields(st).stx_nlink; }
FDK_API uint32_t fdk_stat_uid(const fdk_stat *st) { return fields(st).stx_uid; }
FDK_API uint32_t fdk_stat_gid(const fdk_stat *st) { return fields(st).stx_gid; }
FDK_API unsigned fdk_stat_perm(const fdk_stat *st) { return fields(st).stx_mode & 07777u; }
FDK_API unsigned fdk_stat_mode(const fdk_stat *st) { return fields(st).stx_mode; }

static int stat_time(const char *what, const fdk_stat *st, statx_timestamp statx::*field, int64_t *sec,
                     int64_t *nsec) {
  if (!st) return fail(-EINVAL, "%s: stat is NULL", what);
  const statx_timestamp &t = st->sx.*field;
  if (sec) *sec = t.tv_sec;
  if (nsec) *nsec = t.tv_nsec;
  return 0;
}

FDK_API int fdk_stat_atime(const fdk_stat *st, int64_t *sec, int64_t *nsec) {
  return stat_time("stat_atime", st, &statx::stx_atime, sec, nsec);
}
FDK_API int fdk_stat_mtime(const fdk_stat *st, int64_t *sec, int64_t *nsec) {
  return stat_time("stat_mtime", st, &statx::stx_mtime, sec, nsec);
}
FDK_API int fdk_stat_ctime(const fdk_stat *st, int64_t *sec, int64_t *nsec) {
  return stat_time("stat_ctime", st, &statx::stx_ctime, sec, nsec);
}
FDK_API int fdk_stat_btime(const fdk_stat *st, int64_t *sec, int64_t *nsec) {
  if (st && !(st->sx.stx_mask & STATX_BTIME)) return fail(-ENODATA, "stat_btime: the file system keeps no birth time");
  return stat_time("stat_btime", st, &statx::stx_btime, sec, nsec);
}

FDK_API int fdk_readdir(fdk_dirents **out, fdk_dir *dir, const char *path) {
  if (int r = check_out("readdir", out)) return r;
  if (int r = check_dir("readdir", dir, path)) return r;
  return traced("readdir", trace_fd(dir), path, [&] { return fdk::readdir(out, dir, path); });
}

FDK_API size_t fdk_dirents_count(const fdk_dirents *entries) { return entries ? entries->entries.size() : 0; }

FDK_API const char *fdk_dirents_name(const fdk_dirents *entries, size_t i) {
  return entries && i < entries->entries.size() ? entries->entries[i].name.c_str() : nullptr;
}

FDK_API int fdk_dirents_kind(const fdk_dirents *entries, size_t i) {
  if (!entries || i >= entries->entries.size()) return fail(-EINVAL, "dirents_kind: index %zu out of range", i);
  return entries->entries[i].kind;
}

FDK_API fdk_dirents *fdk_dirents_free(fdk_dirents *entries) {
  delete entries;
  return nullptr;
}

FDK_API int fdk_dir_iter_open(fdk_dir_iter **out, fdk_dir *dir, const char *path) {
  if (int r = check_out("dir_iter_open", out)) return r;
  if (int r = check_dir("dir_iter_open", dir, path)) return r;
  return traced("dir_iter_open", trace_fd(dir), path, [&] { return fdk::dir_iter_open(out, dir, path); });
}

FDK_API int fdk_dir_iter_next(fdk_dir_iter *it, const char **name, int *kind) {
  if (!it || !name || !kind) return fail(-EINVAL, "dir_iter_next: NULL argument");
  return guard("dir_iter_next", [&] { return fdk::dir_iter_next(it, name, kind); });
}

FDK_API fdk_dir_iter *fdk_dir_iter_free(fdk_dir_iter *it) { return fdk::dir_iter_free(it); }

FDK_API ssize_t fdk_realpath(char **out, fdk_dir *dir, const char *path) {
  if (int r = check_out("realpath", out)) return r;
  if (int r = check_dir("realpath", dir, path)) return r;
  return traced("realpath", trace_fd(dir), path, [&] { return fdk::realpath(out, dir, path); });
}

FDK_API int fdk_dir_open_async(fdk_loop *loop, fdk_dir *base, const char *path, fdk_dir_cb cb, void *data,
                               fdk_op **op) {
  if (int r = check_dir("dir_open", base, path)) return r;
  return guard_async("dir_open", loop, cb, [&] { return fdk::dir_open_async(loop, base, path, cb, data, op); });
}

FDK_ASYNC_HOT FDK_API int fdk_openat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned flags, unsigned mode,
                             fdk_open_cb cb, void *data, fdk_op **op) {
  if (int r = check_dir("openat", dir, path)) return r;
  if (int r = check_mode("openat", mode)) return r;
  return guard_async("openat", loop, cb, [&] { return fdk::openat_async(loop, dir, path, flags, mode, cb, data, op); });
}

FDK_ASYNC_HOT FDK_API int fdk_mkdirat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned mode, fdk_result_cb cb,
                              void *data, fdk_op **op) {
  if (int r = check_dir("mkdirat", dir, path)) return r;
  if (int r = check_mode("mkdirat", mode)) return r;
  return guard_async("mkdirat", loop, cb, [&] { return fdk::mkdirat_async(loop, dir, path, mode, cb, data, op); });
}

FDK_ASYNC_HOT FDK_API int fdk_unlinkat_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data,
                               fdk_op **op) {
  if (int r = check_dir("unlinkat", dir, path)) return r;
  return guard_async("unlinkat", loop, cb, [&] { return fdk::unlinkat_async(loop, dir, path, cb, data, op); });
}

FDK_ASYNC_HOT FDK_API int fdk_rmdirat_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data,
                              fdk_op **op) {
  if (int r = check_dir("rmdirat", dir, path)) return r;
  return guard_async("rmdirat", loop, cb, [&] { return fdk::rmdirat_async(loop, dir, path, cb, data, op); });
}

FDK_API int fdk_renameat_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir,
                               const char *new_path, fdk_result_cb cb, void *data, fdk_op **op) {
  return fdk_renameat2_async(loop, old_dir, old_path, new_dir, new_path, 0, cb, data, op);
}

FDK_API int fdk_renameat2_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir,
                                const char *new_path, unsigned flags, fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_rename("renameat", old_dir, old_path, new_dir, new_path, flags)) return r;
  return guard_async("renameat", loop, cb, [&] {
    return fdk::renameat2_async(loop, old_dir, old_path, new_dir, new_path, flags, cb, data, op);
  });
}

FDK_API int fdk_symlinkat_async(fdk_loop *loop, const char *target, fdk_dir *dir, const char *path,
                                fdk_result_cb cb, void *data, fdk_op **op) {
  if (!target) return fail(-EINVAL, "symlinkat: target is NULL");
  if (int r = check_dir("symlinkat", dir, path)) return r;
  return guard_async("symlinkat", loop, cb,
                     [&] { return fdk::symlinkat_async(loop, target, dir, path, cb, data, op); });
}

FDK_API int fdk_linkat_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir,
                             const char *new_path, fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_dir("linkat", old_dir, old_path)) return r;
  if (int r = check_dir("linkat", new_dir, new_path)) return r;
  return guard_async("linkat", loop, cb,
                     [&] { return fdk::linkat_async(loop, old_dir, old_path, new_dir, new_path, cb, data, op); });
}

FDK_API int fdk_readlinkat_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_text_cb cb, void *data,
                                 fdk_op **op) {
  if (int r = check_dir("readlinkat", dir, path)) return r;
  return guard_async("readlinkat", loop, cb, [&] { return fdk::readlinkat_async(loop, dir, path, cb, data, op); });
}

FDK_API int fdk_chmodat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned mode, unsigned flags,
                              fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_dir("chmodat", dir, path)) return r;
  if (int r = check_mode("chmodat", mode)) return r;
  if (int r = check_follow("chmodat", flags)) return r;
  return guard_async("chmodat", loop, cb,
                     [&] { return fdk::chmodat_async(loop, dir, path, mode, flags & FDK_FOLLOW, cb, data, op); });
}

FDK_API int fdk_chownat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int64_t uid, int64_t gid,
                              unsigned flags, fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_dir("chownat", dir, path)) return r;
  if (int r = check_owner("chownat", uid, gid)) return r;
  if (int r = check_follow("chownat", flags)) return r;
  return guard_async("chownat", loop, cb,
                     [&] { return fdk::chownat_async(loop, dir, path, uid, gid, flags & FDK_FOLLOW, cb, data, op); });
}

FDK_API int fdk_utimensat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int64_t atime_sec,
                                int64_t atime_nsec, int64_t mtime_sec, int64_t mtime_nsec, unsigned flags,
                                fdk_result_cb cb, void *data, fdk_op **op) {
  struct timespec ts[2];
  if (int r = check_dir("utimensat", dir, path)) return r;
  if (int r = check_times("utimensat", atime_sec, atime_nsec, mtime_sec, mtime_nsec, ts)) return r;
  if (int r = check_follow("utimensat", flags)) return r;
  return guard_async("utimensat", loop, cb,
                     [&] { return fdk::utimensat_async(loop, dir, path, ts, flags & FDK_FOLLOW, cb, data, op); });
}

FDK_API int fdk_fstat_async(fdk_loop *loop, fdk_stat *st, fdk_fd *fd, fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_stat("fstat", st)) return r;
  if (!fd) return fail(-EINVAL, "fstat: fd is NULL");
  return guard_async("fstat", loop, cb, [&] { return fdk::fstat_async(loop, st, fd, cb, data, op); });
}

FDK_ASYNC_HOT FDK_API int fdk_statat_async(fdk_loop *loop, fdk_stat *st, fdk_dir *dir, const char *path, int follow,
                             fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_stat("statat", st)) return r;
  if (int r = check_dir("statat", dir, path)) return r;
  return guard_async("statat", loop, cb,
                     [&] { return fdk::statat_async(loop, st, dir, path, follow != 0, cb, data, op); });
}

FDK_API int fdk_readdir_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_dirents_cb cb, void *data,
                              fdk_op **op) {
  if (int r = check_dir("readdir", dir, path)) return r;
  return guard_async("readdir", loop, cb, [&] { return fdk::readdir_async(loop, dir, path, cb, data, op); });
}

FDK_API int fdk_realpath_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_text_cb cb, void *data,
                               fdk_op **op) {
  if (int r = check_dir("realpath", dir, path)) return r;
  return guard_async("realpath", loop, cb, [&] { return fdk::realpath_async(loop, dir, path, cb, data, op); });
}

FDK_API int fdk_dir_open2_async(fdk_loop *loop, fdk_dir *base, const char *path, unsigned flags, fdk_dir_cb cb,
                                void *data, fdk_op **op) {
  if (int r = check_dir("dir_open", base, path)) return r;
  if (int r = check_dir_flags(flags)) return r;
  return guard_async("dir_open", loop, cb, [&] { return fdk::dir_open2_async(loop, base, path, flags, cb, data, op); });
}

FDK_API int fdk_linkat2_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir,
                              const char *new_path, unsigned flags, fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_link("linkat", old_dir, old_path, new_dir, new_path, flags)) return r;
  return guard_async("linkat", loop, cb, [&] {
    return fdk::linkat2_async(loop, old_dir, old_path, new_dir, new_path, flags & FDK_FOLLOW, cb, data, op);
  });
}

FDK_API int fdk_linkat_fd_async(fdk_loop *loop, fdk_fd *fd, fdk_dir *dir, const char *path, fdk_result_cb cb,
                                void *data, fdk_op **op) {
  if (int r = check_fd("linkat_fd", fd)) return r;
  if (int r = check_dir("linkat_fd", dir, path)) return r;
  return guard_async("linkat_fd", loop, cb, [&] { return fdk::linkat_fd_async(loop, fd, dir, path, cb, data, op); });
}

FDK_API int fdk_mknodat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int kind, unsigned mode, uint64_t dev,
                              fdk_result_cb cb, void *data, fdk_op **op) {
  mode_t os_mode;
  if (int r = check_dir("mknodat", dir, path)) return r;
  if (int r = node_mode(kind, mode, &os_mode)) return r;
  return guard_async("mknodat", loop, cb, [&] { return fdk::mknodat_async(loop, dir, path, os_mode, static_cast<dev_t>(dev), cb, data, op); });
}

FDK_API int fdk_mkfifoat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned mode, fdk_result_cb cb,
                               void *data, fdk_op **op) {
  return fdk_mknodat_async(loop, dir, path, FDK_KIND_FIFO, mode, 0, cb, data, op);
}

FDK_API int fdk_truncateat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int64_t length, fdk_result_cb cb,
                                 void *data, fdk_op **op) {
  if (int r = check_dir("truncateat", dir, path)) return r;
  if (int r = check_length(length)) return r;
  return guard_async("truncateat", loop, cb, [&] { return fdk::truncateat_async(loop, dir, path, length, cb, data, op); });
}

FDK_API int fdk_faccessat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned mode, unsigned flags,
                                fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_dir("faccessat", dir, path)) return r;
  if (int r = check_access(mode, flags)) return r;
  return guard_async("faccessat", loop, cb, [&] {
    return fdk::faccessat_async(loop, dir, path, access_mode(mode), flags & FDK_FOLLOW, flags & FDK_ACCESS_EFFECTIVE,
                                cb, data, op);
  });
}

FDK_API int fdk_getxattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const char *name, unsigned flags,
                                 fdk_text_cb cb, void *data, fdk_op **op) {
  if (int r = check_xattr("getxattrat", dir, path, flags, FDK_FOLLOW)) return r;
  if (int r = check_name("getxattrat", name)) return r;
  return guard_async("getxattrat", loop, cb, [&] { return fdk::getxattrat_async(loop, dir, path, name, flags & FDK_FOLLOW, cb, data, op); });
}

FDK_API int fdk_setxattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const char *name, const void *value,
                                 size_t size, unsigned flags, fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_xattr("setxattrat", dir, path, flags, kSetXattrFlags)) return r;
  if (int r = check_name("setxattrat", name)) return r;
  if (int r = check_value(value, size)) return r;
  return guard_async("setxattrat", loop, cb, [&] {
    return fdk::setxattrat_async(loop, dir, path, name, value, size, xattr_flags(flags), flags & FDK_FOLLOW, cb, data,
                                 op);
  });
}

FDK_API int fdk_listxattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned flags, fdk_text_cb cb,
                                  void *data, fdk_op **op) {
  if (int r = check_xattr("listxattrat", dir, path, flags, FDK_FOLLOW)) return r;
  return guard_async("listxattrat", loop, cb, [&] { return fdk::listxattrat_async(loop, dir, path, flags & FDK_FOLLOW, cb, data, op); });
}

FDK_API int fdk_removexattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const char *name,
                                    unsigned flags, fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_xattr("removexattrat", dir, path, flags, FDK_FOLLOW)) return r;
  if (int r = check_name("removexattrat", name)) return r;
  return guard_async("removexattrat", loop, cb, [&] { return fdk::removexattrat_async(loop, dir, path, name, flags & FDK_FOLLOW, cb, data, op); });
}

}  // extern "C"
