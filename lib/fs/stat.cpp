// SPDX-License-Identifier: MIT
// Stat through statx (fstatat where the kernel refuses it), directory listings and
// realpath.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "core/guard.h"
#include "core/hot.h"
#include "core/syscall.h"
#include "fd/fd.h"
#include "fs/fs.h"

struct fdk_dir_iter {
  DIR *dir = nullptr;
};

namespace fdk {

namespace {

constexpr unsigned kStatxMask = STATX_BASIC_STATS | STATX_BTIME;
FDK_HOT_DATA std::atomic<bool> g_no_statx{false};

statx_timestamp stamp(const struct timespec &ts) {
  statx_timestamp t{};
  t.tv_sec = ts.tv_sec;
  t.tv_nsec = static_cast<uint32_t>(ts.tv_nsec);
  return t;
}

// The portable path: fstatat, converted (no birth time). Cold: only kernels or filters
// that refuse statx take it.
[[gnu::cold]] int fill_from_fstatat(struct statx *sx, int fd, const char *name, int flags) {
  struct stat st;
  if (::fstatat(fd, name, &st, flags) < 0) return neg_errno();
  *sx = {};
  sx->stx_mask = STATX_BASIC_STATS;
  sx->stx_mode = static_cast<uint16_t>(st.st_mode);
  sx->stx_nlink = static_cast<uint32_t>(st.st_nlink);
  sx->stx_uid = st.st_uid;
  sx->stx_gid = st.st_gid;
  sx->stx_ino = st.st_ino;
  sx->stx_size = static_cast<uint64_t>(st.st_size);
  sx->stx_blocks = static_cast<uint64_t>(st.st_blocks);
  sx->stx_blksize = static_cast<uint32_t>(st.st_blksize);
  sx->stx_atime = stamp(st.st_atim);
  sx->stx_mtime = stamp(st.st_mtim);
  sx->stx_ctime = stamp(st.st_ctim);
  sx->stx_dev_major = major(st.st_dev);
  sx->stx_dev_minor = minor(st.st_dev);
  sx->stx_rdev_major = major(st.st_rdev);
  sx->stx_rdev_minor = minor(st.st_rdev);
  return 0;
}

// statx failed with err: err, or fstatat's answer when err says statx is refused.
[[gnu::cold]] int stat_name_failed(struct statx *sx, int fd, const char *name, int flags, int err) {
  if (err != -ENOSYS && err != -EPERM) return err;
  g_no_statx.store(true, std::memory_order_relaxed);
  return fill_from_fstatat(sx, fd, name, flags);
}

// statx, or fstatat once the kernel (or a seccomp filter) refused statx. Inlined, as
// stat_last: a stat of one name then runs in statat alone, without a call per step.
[[gnu::always_inline]] inline int stat_name(struct statx *sx, int fd, const char *name, int flags) {
  if (__builtin_expect(g_no_statx.load(std::memory_order_relaxed), 0)) return fill_from_fstatat(sx, fd, name, flags);
  int r = hot_statx(fd, name, flags, kStatxMask, sx);
  return r == 0 ? 0 : stat_name_failed(sx, fd, name, flags, r);
}

int stat_resolved(struct statx *sx, const DirBase &b, const char *path, bool follow) {
  int fd = resolve_path_fd(b.raw, b.confined, path, follow, "statat", b.scope);
  if (fd < 0) return fd;
  int r = stat_name(sx, fd, "", AT_EMPTY_PATH);
  close(fd);
  return r < 0 ? path_fail(r, "statat", path) : 0;
}

// The last component name in its parent dir_fd, without following; a symlink there is
// then followed by the full confined resolution of path when follow is set.
[[gnu::always_inline]] inline int stat_last(struct statx *sx, const DirBase &b, int dir_fd, const char *name,
                                            const char *path, bool follow) {
  int r = stat_name(sx, dir_fd, name, AT_SYMLINK_NOFOLLOW);
  if (r < 0) return path_fail(r, "statat", path);
  if (follow && S_ISLNK(sx->stx_mode)) return stat_resolved(sx, b, path, true);
  return 0;
}

// statat of a confined path of several components (or a trailing slash, or dots): the
// parent opened confined, then the last name as for a single one. Out of line: the
// single name's code stays small (see core/hot.h). Guarded here, as the parent's names
// allocate: statat throws nothing.
[[gnu::noinline]] int stat_in_parent(struct statx *sx, const DirBase &b, const char *path, bool follow) noexcept {
  return guard("statat", [&] {
    Parent p;
    if (int r = p.open(b.raw, true, path, "statat", b.scope)) return r;
    if (p.trailing_slash || p.dots) return stat_resolved(sx, b, path, follow);
    return stat_last(sx, b, p.fd, p.bare_name(), path, follow);
  });
}

int kind_of_dirent(unsigned char type) {
  switch (type) {
    case DT_FIFO: return FDK_KIND_FIFO;
    case DT_CHR: return FDK_KIND_CHAR;
    case DT_DIR: return FDK_KIND_DIR;
    case DT_BLK: return FDK_KIND_BLOCK;
    case DT_REG: return FDK_KIND_REGULAR;
    case DT_LNK: return FDK_KIND_SYMLINK;
    case DT_SOCK: return FDK_KIND_SOCKET;
    default: return FDK_KIND_UNKNOWN;
  }
}

// Opens path beneath dir for listing: its descriptor.
int open_listing_fd(fdk_dir *dir, const char *path, const char *what) {
  DirBase b;
  if (int r = b.acquire(dir, what)) return r;
  return resolve_open(b.raw, b.confined, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, what, b.scope);
}

// Opens path beneath dir for listing.
int open_listing(DIR **out, fdk_dir *dir, const char *path, const char *what) {
  int fd = open_listing_fd(dir, path, what);
  if (fd < 0) return fd;
  DIR *d = fdopendir(fd);
  if (!d) {
    int err = neg_errno();
    close(fd);
    return path_fail(err, what, path);
  }
  *out = d;
  return 0;
}

bool is_dot_or_dot_dot(const char *name) { return strcmp(name, ".") == 0 || strcmp(name, "..") == 0; }

// An entry's kind: its d_type, or where the file system leaves that unknown, an lstat's.
int entry_kind(int dir_fd, const char *name, unsigned char type) {
  int kind = kind_of_dirent(type);
  if (kind == FDK_KIND_UNKNOWN) {
    struct stat st;
    if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) kind = kind_of_mode(st.st_mode);
  }
  return kind;
}

// The next entry other than "." and "..": 1, 0 at the end, or a negative errno.
int next_entry(DIR *d, const char **name, int *kind) {
  for (;;) {
    errno = 0;
    dirent *e = ::readdir(d);
    if (!e) return errno ? fail_sys(neg_errno(), "readdir") : 0;
    if (is_dot_or_dot_dot(e->d_name)) continue;
    *name = e->d_name;
    *kind = entry_kind(dirfd(d), e->d_name, e->d_type);
    return 1;
  }
}

}  // namespace

int kind_of_mode(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFIFO: return FDK_KIND_FIFO;
    case S_IFCHR: return FDK_KIND_CHAR;
    case S_IFDIR: return FDK_KIND_DIR;
    case S_IFBLK: return FDK_KIND_BLOCK;
    case S_IFREG: return FDK_KIND_REGULAR;
    case S_IFLNK: return FDK_KIND_SYMLINK;
    case S_IFSOCK: return FDK_KIND_SOCKET;
    default: return FDK_KIND_UNKNOWN;
  }
}

int fstat(struct statx *sx, fdk_fd *fd) {
  int raw;
  if (fd_use(fd, &raw) < 0) return fail(-EBADF, "fstat: the handle is closed");
  int r = stat_name(sx, raw, "", AT_EMPTY_PATH);
  fd_unuse(fd);
  return r < 0 ? fail_sys(r, "fstat") : 0;
}

// fdk_statat tail-calls it: the statx of a single name returns into the frame that
// returns to the caller (core/hot.h).
FDK_HOT int statat(struct statx *sx, fdk_dir *dir, const char *path, bool follow) noexcept {
  DirBase b;
  if (int r = b.acquire(dir, "statat")) return r;
  if (!b.confined) {
    int r = stat_name(sx, b.raw, *path ? path : ".", follow ? 0 : AT_SYMLINK_NOFOLLOW);
    return r < 0 ? path_fail(r, "statat", path) : 0;
  }
  // The common case: one statx on the last name without following; a symlink found
  // there is then followed confined. A single name needs no parent to be opened. Under
  // NO_XDEV the last name may be a mount point, which only the full resolution refuses.
  if (b.scope & RESOLVE_NO_XDEV) return stat_resolved(sx, b, path, follow);
  bool dots = (path[0] == '.' && !path[1]) || is_dot_dot(path);
  if (is_one_name(path) && !dots) return stat_last(sx, b, b.raw, path, path, follow);
  return stat_in_parent(sx, b, path, follow);
}

// Reads the entries with getdents64 itself: a DIR stream (fdopendir) costs three system
// calls more per listing (an fstat and two fcntl), a third of a small directory's listing.
int readdir(fdk_dirents **out, fdk_dir *dir, const char *path) {
  int fd = open_listing_fd(dir, path, "readdir");
  if (fd < 0) return fd;
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  auto list = std::make_unique<fdk_dirents>();
  alignas(struct dirent64) char buf[16384];
  for (;;) {
    ssize_t n = getdents64(fd, buf, sizeof buf);
    if (n < 0) return fail_sys(neg_errno(), "readdir");
    if (n == 0) break;
    // One allocation for the batch's entries rather than one per doubling.
    size_t batch = 0;
    for (ssize_t at = 0; at < n; at += reinterpret_cast<struct dirent64 *>(buf + at)->d_reclen) ++batch;
    list->entries.reserve(list->entries.size() + batch);
    for (ssize_t at = 0; at < n;) {
      auto *e = reinterpret_cast<struct dirent64 *>(buf + at);
      at += e->d_reclen;
      if (!is_dot_or_dot_dot(e->d_name)) list->entries.push_back({e->d_name, entry_kind(fd, e->d_name, e->d_type)});
    }
  }
  if (list->entries.size() > INT_MAX) return fail(-EOVERFLOW, "readdir: too many entries");
  *out = list.release();
  return static_cast<int>((*out)->entries.size());
}

int dir_iter_open(fdk_dir_iter **out, fdk_dir *dir, const char *path) {
  auto it = std::make_unique<fdk_dir_iter>();
  if (int r = open_listing(&it->dir, dir, path, "dir_iter_open")) return r;
  *out = it.release();
  return 0;
}

int dir_iter_next(fdk_dir_iter *it, const char **name, int *kind) { return next_entry(it->dir, name, kind); }

fdk_dir_iter *dir_iter_free(fdk_dir_iter *it) {
  if (it) {
    closedir(it->dir);
    delete it;
  }
  return nullptr;
}

ssize_t realpath(char **out, fdk_dir *dir, const char *path) {
  DirBase b;
  if (int r = b.acquire(dir, "realpath")) return r;
  char *text = nullptr;
  if (!b.confined) {
    text = ::realpath(*path ? path : ".", nullptr);
    if (!text) return path_fail(neg_errno(), "realpath", path);
  } else {
    // Confined: the walk knows the names it entered; the answer is relative to the dir.
    std::string canonical;
    int fd = resolve_open_with(resolve_backend(), false, b.raw, path, O_PATH | O_CLOEXEC, 0, &canonical, b.scope);
    if (fd < 0) return path_fail(fd, "realpath", path);
    close(fd);
    text = strdup(canonical.empty() ? "." : canonical.c_str());
    if (!text) return fail(-ENOMEM, "realpath: out of memory");
  }
  *out = text;
  return static_cast<ssize_t>(strlen(text));
}

}  // namespace fdk
