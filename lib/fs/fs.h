/* SPDX-License-Identifier: MIT */
// File-system internals: dir handles, the two resolvers and the parent split used by
// every last-component call.
#pragma once

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/syscall.h"
#include "fd/fd.h"
#include "fdkit/fs.h"

struct fdk_dir {
  enum class Kind : uint8_t { fs, cwd, handle };

  constexpr explicit fdk_dir(Kind k) : kind(k) {}

  std::atomic<uint32_t> refs{1};
  Kind kind;
  fdk_fd *fd = nullptr;  // Kind::handle only; one reference held
  uint64_t scope = 0;    // Kind::handle only: RESOLVE_NO_XDEV / NO_SYMLINKS / IN_ROOT
};

struct fdk_stat {
  struct statx sx {};
};

struct fdk_dirents {
  struct Entry {
    std::string name;
    int kind;
  };
  std::vector<Entry> entries;
};

namespace fdk {

enum class Backend : int { openat2 = FDK_RESOLVE_OPENAT2, fallback = FDK_RESOLVE_FALLBACK };

// The openat2 resolve flags of a confined lookup.
inline constexpr uint64_t kConfinedResolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
// The stricter resolve flags a dir may add (fdk_dir_open2); IN_ROOT replaces BENEATH.
inline constexpr uint64_t kScopeResolve = RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_IN_ROOT;

// The active strategy; the first call probes (and reads FDKIT_RESOLVE).
Backend resolve_backend();
// Body of fdk_resolve_set_backend.
int set_resolve_backend(int backend);

// A dir in use for the length of one call: the base descriptor (AT_FDCWD for fs and cwd)
// and whether resolution beneath it is confined. Holds a use of the dir's handle.
class DirBase {
 public:
  DirBase() = default;
  DirBase(const DirBase &) = delete;
  DirBase &operator=(const DirBase &) = delete;
  // Inline, as acquire: every open and stat runs both, a call each otherwise.
  ~DirBase() {
    if (fd_) fd_unuse(fd_);
  }

  // -EBADF (with a detail) when the dir's descriptor was closed.
  int acquire(fdk_dir *dir, const char *what) {
    if (dir->kind != fdk_dir::Kind::handle) {
      raw = AT_FDCWD;
      confined = dir->kind == fdk_dir::Kind::cwd;
      return 0;
    }
    if (fd_use(dir->fd, &raw) < 0) return closed(what);
    fd_ = dir->fd;
    confined = true;
    scope = dir->scope;
    return 0;
  }

  int raw = AT_FDCWD;
  bool confined = false;
  uint64_t scope = 0;  // the dir's kScopeResolve flags

 private:
  [[gnu::cold]] static int closed(const char *what);

  fdk_fd *fd_ = nullptr;
};

// Whether path is one name (not empty, no '/'). A loop rather than strchr: the check is on
// every open and stat, and keeps them in fdkit's own pages of code.
inline bool is_one_name(const char *path) {
  if (!*path) return false;
  for (const char *c = path; *c; c++)
    if (*c == '/') return false;
  return true;
}

// Whether a name is "..".
inline bool is_dot_dot(const char *name) { return name[0] == '.' && name[1] == '.' && !name[2]; }

// The reason of the detail of a path that would leave its confined directory.
inline constexpr const char kEscapeReason[] = "escapes its directory";

// Records "<what>: <reason>: '<path>'" and returns err; a resolution's -EXDEV reads
// kEscapeReason.
[[gnu::cold]] int path_fail(int err, const char *what, const char *path);
// Whether a detail is the one path_fail records for an escape.
bool is_escape_detail(const char *detail);

// Confined resolution with the active backend, without a detail. It throws nothing.
int resolve_confined(int base, const char *path, int oflags, mode_t mode, uint64_t scope = 0) noexcept;

// One name (no '/', not ".."), opened with O_NOFOLLOW, stays beneath its base whatever
// the strategy; only a symlink there needs the full resolution, and O_NOFOLLOW reports it
// (ELOOP, ENOTDIR with O_DIRECTORY, EACCES with O_CREAT for a foreign one in a sticky
// directory). O_PATH alone would open the symlink itself, and
// O_CREAT|O_DIRECTORY must be refused first: those take the full resolution.
// A mount point may sit there, so NO_XDEV takes the full resolution too.
inline bool single_component(const char *path, int oflags, uint64_t scope) {
  if ((scope & RESOLVE_NO_XDEV) || !is_one_name(path) || is_dot_dot(path)) return false;
  if ((oflags & O_PATH) && !(oflags & (O_DIRECTORY | O_NOFOLLOW))) return false;
  return (oflags & (O_CREAT | O_DIRECTORY)) != (O_CREAT | O_DIRECTORY);
}

// Whether an open of one name (single_component) with O_NOFOLLOW may have failed only
// because the name is a symlink, which then takes the full resolution. Never with the
// caller's own O_NOFOLLOW: the kernel's answer is then that same error.
inline bool one_name_may_be_link(int r, int oflags) {
  if (oflags & O_NOFOLLOW) return false;
  return r == -ELOOP || r == -ENOTDIR || (r == -EACCES && (oflags & O_CREAT));
}

// Opens path beneath base with the platform flags oflags (O_CLOEXEC included) and
// returns the new descriptor, or a negative errno with a detail. Confined resolution
// uses the active backend; unconfined is plain openat.
// scope adds kScopeResolve flags to a confined resolution. It throws nothing.
int resolve_open(int base, bool confined, const char *path, int oflags, mode_t mode, const char *what,
                 uint64_t scope = 0);
// The same, inline: the single name's and the unconfined open make their system call in
// the caller's own code (core/hot.h tells why fdk_openat wants that).
[[gnu::always_inline]] inline int resolve_open_inline(int base, bool confined, const char *path, int oflags,
                                                      mode_t mode, const char *what, uint64_t scope) {
  int fd;
  if (!confined) {
    fd = hot_openat(base, *path ? path : ".", oflags, mode);
  } else if (single_component(path, oflags, scope)) {
    fd = hot_openat(base, path, oflags | O_NOFOLLOW, mode);
    if (one_name_may_be_link(fd, oflags)) fd = resolve_confined(base, path, oflags, mode, scope);
  } else {
    fd = resolve_confined(base, path, oflags, mode, scope);
  }
  return fd >= 0 ? fd : path_fail(fd, what, path);
}
// The same with an explicit backend; may_fall_back lets openat2's lost retries go to the
// walk. With canonical, the walk resolves (whatever the backend) and stores the path of
// what it opened relative to base, free of symlinks and dots ("" for base itself).
int resolve_open_with(Backend backend, bool may_fall_back, int base, const char *path, int oflags, mode_t mode,
                      std::string *canonical, uint64_t scope = 0);

// The last component of a path and an open parent directory to act on it, for calls
// that must never follow the last component.
class Parent {
 public:
  Parent() = default;
  Parent(const Parent &) = delete;
  Parent &operator=(const Parent &) = delete;
  ~Parent();

  // Resolves everything but the last component beneath base (confined) or plainly.
  int open(int base, bool confined, const char *path, const char *what, uint64_t scope = 0);

  int fd = AT_FDCWD;           // the parent directory (borrowed when it is the base)
  const char *name = nullptr;  // the last component ("." for an empty path); unconfined:
                               // the whole path, for the kernel to walk
  bool trailing_slash = false; // the path ended in '/' (the name keeps one when confined)
  bool dots = false;           // the name is "." or ".."

  // The name without its trailing slash (unconfined: the whole path).
  const char *bare_name() const { return bare_.empty() ? name : bare_.c_str(); }

 private:
  bool owned_ = false;
  std::string full_;
  std::string bare_;
};

// An O_PATH descriptor of what path names beneath base; follow decides whether a
// symlink in the last position is followed (confined) or returned itself.
int resolve_path_fd(int base, bool confined, const char *path, bool follow, const char *what, uint64_t scope = 0);

// A regular file or directory that the O_PATH resolution of path found (st), opened
// again by the same resolution for reading (for writing when reading is refused), for
// the calls that need more than O_PATH where no /proc link serves: a descriptor or -errno.
int reopen_file(const DirBase &b, const char *path, bool follow, const struct stat &st);

// Platform flags for the FDK_O_* set; -EINVAL for unknown or unsupported bits.
int open_flags_to_os(unsigned flags, int *out);
// The handle of a descriptor opened with oflags: blocking unless the open asked for
// O_NONBLOCK. The blocking and asynchronous opens both decide here.
int wrap_opened(fdk_fd **out, int raw, int oflags);

// Bodies of the public calls (arguments already checked).
fdk_dir *dir_fs();
fdk_dir *dir_cwd();
int open_flags_supported(unsigned flags);
int dir_open(fdk_dir **out, fdk_dir *base, const char *path, unsigned flags = 0);
int dir_from_fd(fdk_dir **out, fdk_fd *fd);
fdk_dir *dir_ref(fdk_dir *dir);
fdk_dir *dir_unref(fdk_dir *dir);
int openat_raw(fdk_dir *dir, const char *path, int oflags, mode_t mode);
int openat(fdk_fd **out, fdk_dir *dir, const char *path, unsigned flags, unsigned mode) noexcept;
int mkdirat(fdk_dir *dir, const char *path, mode_t mode);
int unlinkat(fdk_dir *dir, const char *path);
int rmdirat(fdk_dir *dir, const char *path);
int renameat2(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path, unsigned flags);
int symlinkat(const char *target, fdk_dir *dir, const char *path);
int linkat(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path, bool follow = false);
int linkat_fd(fdk_fd *fd, fdk_dir *dir, const char *path);
int mknodat(fdk_dir *dir, const char *path, mode_t mode, dev_t dev);
int truncateat(fdk_dir *dir, const char *path, int64_t length);
int faccessat(fdk_dir *dir, const char *path, int mode, bool follow, bool effective);
ssize_t getxattrat(char **out, fdk_dir *dir, const char *path, const char *name, bool follow);
int setxattrat(fdk_dir *dir, const char *path, const char *name, const void *value, size_t size, int xflags,
               bool follow);
ssize_t listxattrat(char **out, fdk_dir *dir, const char *path, bool follow);
int removexattrat(fdk_dir *dir, const char *path, const char *name, bool follow);
ssize_t readlinkat(char **out, fdk_dir *dir, const char *path);
int chmodat(fdk_dir *dir, const char *path, mode_t mode, bool follow);
int chownat(fdk_dir *dir, const char *path, int64_t uid, int64_t gid, bool follow);
int utimensat(fdk_dir *dir, const char *path, const struct timespec times[2], bool follow);
int fstat(struct statx *sx, fdk_fd *fd);
int statat(struct statx *sx, fdk_dir *dir, const char *path, bool follow) noexcept;
int readdir(fdk_dirents **out, fdk_dir *dir, const char *path);
int dir_iter_open(fdk_dir_iter **out, fdk_dir *dir, const char *path);
int dir_iter_next(fdk_dir_iter *it, const char **name, int *kind);
fdk_dir_iter *dir_iter_free(fdk_dir_iter *it);
ssize_t realpath(char **out, fdk_dir *dir, const char *path);

// The FDK_KIND_* of an st_mode.
int kind_of_mode(unsigned mode);

}  // namespace fdk
