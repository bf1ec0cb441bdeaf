// SPDX-License-Identifier: MIT
// Resolution beneath a confined directory: openat2 when the kernel allows it, a
// userspace walk otherwise, and the parent split of last-component calls.
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/fsuid.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/env.h"
#include "core/error.h"
#include "core/guard.h"
#include "core/hot.h"
#include "core/syscall.h"
#include "fd/fd.h"
#include "fs/fs.h"
#include "trace/trace.h"

namespace fdk {

namespace {

// Retries of an openat2 that answered EAGAIN (a rename or mount raced with "..").
constexpr int kOpenat2Retries = 16;
// Symlinks followed in one resolution before -ELOOP, as the kernel allows.
constexpr int kMaxFollows = 40;
constexpr uint64_t kBeneath = kConfinedResolve;
// Directory descriptors the walk keeps open, whatever the depth; deeper ".." re-enters
// the kept names from the base.
constexpr size_t kHeldDirs = 16;
// statfs's flag of a nosymfollow mount (glibc 2.36 does not name it).
constexpr unsigned long kStNoSymfollow = 0x2000;
// procfs numbers its registered entries (self, thread-self, mounts and every other plain
// link it publishes) from here up; the per-process links (fd/N, exe, cwd, root, ns/*,
// map_files/*) take small numbers from the inode counter. That is the rule that tells a
// magic link from an ordinary one.
constexpr ino_t kProcDynamicFirst = 0xF0000000u;

// The chosen strategy and whether it was forced (a forced one never falls back).
constexpr int kForced = 0x100;
FDK_HOT_DATA std::atomic<int> g_backend{0};  // 0 until probed, else a Backend value, maybe | kForced
std::mutex g_probe_lock;
// Set once close_range failed: the kernel lacks it, or a filter refuses it.
std::atomic<bool> g_no_close_range{false};

// The openat2 resolve flags of a confined lookup with a dir's scope.
uint64_t confined_resolve(uint64_t scope) {
  return (scope & RESOLVE_IN_ROOT ? kBeneath & ~RESOLVE_BENEATH : kBeneath) | scope;
}

// The descriptor, or -errno.
FDK_HOT int sys_openat2(int base, const char *path, int oflags, mode_t mode, uint64_t scope = 0) {
  open_how how{};
  how.flags = static_cast<uint64_t>(oflags);
  // O_TMPFILE includes O_DIRECTORY: only the whole of it takes a mode.
  bool takes_mode = (oflags & O_CREAT) || (oflags & O_TMPFILE) == O_TMPFILE;
  how.mode = takes_mode ? mode : 0;
  how.resolve = confined_resolve(scope);
  return hot_openat2(base, path, &how);
}

// ENOSYS (old kernel) or the EPERM a seccomp filter answers select the fallback.
bool openat2_allowed() {
  int fd = sys_openat2(AT_FDCWD, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd >= 0) {
    close(fd);
    return true;
  }
  return fd != -ENOSYS && fd != -EPERM;
}

int probe_backend() {
  int forced = env_choice("FDKIT_RESOLVE", {"fallback", "openat2"});
  if (forced == 0) return FDK_RESOLVE_FALLBACK | kForced;
  if (forced == 1 && openat2_allowed()) return FDK_RESOLVE_OPENAT2 | kForced;
  return openat2_allowed() ? FDK_RESOLVE_OPENAT2 : FDK_RESOLVE_FALLBACK;
}

FDK_HOT int backend_choice() {
  int b = g_backend.load(std::memory_order_acquire);
  if (b) return b;
  std::lock_guard<std::mutex> lock(g_probe_lock);
  b = g_backend.load(std::memory_order_acquire);
  if (!b) {
    b = probe_backend();
    g_backend.store(b, std::memory_order_release);
  }
  return b;
}

// *retries counts the EAGAIN answers that were retried.
FDK_HOT int open_with_openat2(int base, const char *path, int oflags, mode_t mode, uint64_t scope, int *retries) {
  for (*retries = 0;; ++*retries) {
    int fd = sys_openat2(base, path, oflags, mode, scope);
    if (fd != -EAGAIN || *retries == kOpenat2Retries) return fd;
  }
}

// The value of fs.protected_symlinks; 1 (the safe answer) when it cannot be read.
int protected_symlinks() {
  int fd = ::open("/proc/sys/fs/protected_symlinks", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1;
  char c = '1';
  ssize_t n = ::read(fd, &c, 1);
  close(fd);
  return n == 1 && c == '0' ? 0 : 1;
}

// The id of the mount fd is on (0 when it cannot be read): statx's STATX_MNT_ID (Linux
// 5.8), else the mnt_id line of /proc/self/fdinfo.
uint64_t mount_id(int fd) {
  struct statx sx;
  if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID))
    return sx.stx_mnt_id;
  char path[64], text[512];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd == AT_FDCWD ? -1 : fd);
  int info = fd == AT_FDCWD ? ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
  if (info >= 0) snprintf(path, sizeof path, "/proc/self/fdinfo/%d", info);
  int file = ::open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = file >= 0 ? ::read(file, text, sizeof text - 1) : -1;
  if (file >= 0) close(file);
  if (info >= 0) close(info);
  if (n <= 0) return 0;
  text[n] = '\0';
  const char *line = strstr(text, "mnt_id:");
  return line ? strtoull(line + 7, nullptr, 10) : 0;
}

// The directories the walk has entered below its base, as names from the base ('/'
// between them) and the descriptors of the last kHeldDirs of them. ".." drops one; when
// it drops the last held descriptor, the kept names are entered again from the base
// (names of directories, one component each, never a symlink nor ".."), so the
// descriptors held stay bounded whatever the depth.
class DirStack {
 public:
  explicit DirStack(int base) : base_(base) {}
  DirStack(const DirStack &) = delete;
  DirStack &operator=(const DirStack &) = delete;
  ~DirStack() { close_held(); }

  int top() const { return depth_ ? ring_[(depth_ - 1) % kHeldDirs] : base_; }
  int base() const { return base_; }
  bool at_base() const { return depth_ == 0; }
  // The names entered, "" at the base.
  const std::string &names() const { return names_; }

  void push(int fd, const char *name) {
    try {
      if (!names_.empty()) names_ += '/';
      names_ += name;
    } catch (...) {
      close(fd);
      throw;
    }
    if (held_ == kHeldDirs)
      close(ring_[depth_ % kHeldDirs]);
    else
      held_++;
    ring_[depth_ % kHeldDirs] = fd;
    depth_++;
  }

  // Back at the base (a jump to the root of an IN_ROOT resolution).
  void reset() {
    close_held();
    depth_ = held_ = 0;
    names_.clear();
  }

  int pop() {
    close(ring_[(depth_ - 1) % kHeldDirs]);
    depth_--;
    held_--;
    size_t cut = names_.rfind('/');
    names_.resize(cut == std::string::npos ? 0 : cut);
    return held_ == 0 && depth_ > 0 ? reenter() : 0;
  }

 private:
  // Closes the held descriptors. Those of one walk are mostly consecutive numbers (the
  // lowest free ones, taken in turn): each run of consecutive ones, all held here, is
  // closed by one close_range, where closing them one by one would be most of the system
  // calls of a walk without symlinks.
  void close_held() {
    int fds[kHeldDirs];
    size_t n = 0;
    for (size_t i = 0; i < held_; i++) {
      // Insertion sort: at most kHeldDirs, and usually already in order.
      int fd = ring_[(depth_ - 1 - i) % kHeldDirs];
      size_t at = n++;
      for (; at > 0 && fds[at - 1] > fd; at--) fds[at] = fds[at - 1];
      fds[at] = fd;
    }
    for (size_t first = 0, last; first < n; first = last + 1) {
      for (last = first; last + 1 < n && fds[last + 1] == fds[last] + 1;) last++;
      close_run(fds[first], fds[last]);
    }
  }

  // Closes the descriptors lo..hi, all of them the walk's own.
  static void close_run(int lo, int hi) {
    if (lo < hi && !g_no_close_range.load(std::memory_order_relaxed)) {
      if (::close_range(static_cast<unsigned>(lo), static_cast<unsigned>(hi), 0) == 0) return;
      // Before Linux 5.9, or refused by a seccomp filter (it closed nothing then): one by
      // one from now on.
      g_no_close_range.store(true, std::memory_order_relaxed);
    }
    for (int fd = lo; fd <= hi; fd++) close(fd);
  }

  int reenter() {
    size_t keep_from = depth_ > kHeldDirs ? depth_ - kHeldDirs : 0;
    int dir = base_;
    size_t start = 0;
    for (size_t level = 0; level < depth_; level++) {
      size_t end = names_.find('/', start);
      if (end == std::string::npos) end = names_.size();
      std::string name = names_.substr(start, end - start);
      start = end + 1;
      int fd = ::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
      int err = fd < 0 ? -errno : 0;
      if (level > 0 && level - 1 < keep_from) close(dir);
      if (err) {
        for (size_t kept = keep_from; kept < level; kept++) close(ring_[kept % kHeldDirs]);
        depth_ = held_ = 0;  // nothing is held any more
        return err;
      }
      if (level >= keep_from) {
        ring_[level % kHeldDirs] = fd;
        held_++;
      }
      dir = fd;
    }
    return 0;
  }

  int base_;
  size_t depth_ = 0;
  size_t held_ = 0;
  int ring_[kHeldDirs];
  std::string names_;
};

// One resolution by hand, as openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) resolves.
// Every step opens one name relative to the directory on top of the stack with
// O_NOFOLLOW, so the kernel never follows a symlink or ".." for us and never sees a
// name that ends in '/'. What the kernel applies on its own lookups is applied by hand:
// search permission before "..", and before a symlink is followed the 40-follow budget,
// fs.protected_symlinks (last component only, as in the kernel), nosymfollow mounts and
// procfs magic links. A dir's scope: IN_ROOT clamps ".." at the base and starts absolute
// paths and targets there; NO_SYMLINKS refuses every follow; NO_XDEV refuses every
// directory or last component on another mount than the base.
class Walk {
 public:
  Walk(int base, int oflags, mode_t mode, uint64_t scope = 0)
      : stack_(base), oflags_(oflags), mode_(mode), scope_(scope) {}

  int run(const char *path) {
    const char *p = *path ? path : ".";
    for (;;) {
      if (*p == '/') {
        if (!(scope_ & RESOLVE_IN_ROOT)) return -EXDEV;
        stack_.reset();
        while (*p == '/') p++;
        if (!*p) p = ".";
      }
      const char *end = strchrnul(p, '/');
      size_t len = static_cast<size_t>(end - p);
      const char *after = end;
      while (*after == '/') after++;
      bool slash = after != end;
      bool last = *after == '\0';
      memcpy(name_, p, len);
      name_[len] = '\0';

      bool dot = strcmp(name_, ".") == 0, dotdot = strcmp(name_, "..") == 0;
      if (dotdot) {
        // The kernel looks ".." up in the current directory: search permission first.
        struct stat st;
        if (::fstatat(stack_.top(), ".", &st, AT_SYMLINK_NOFOLLOW) < 0) return -errno;
        if (!stack_.at_base()) {
          if (int r = stack_.pop()) return r;
        } else if (!(scope_ & RESOLVE_IN_ROOT)) {
          return -EXDEV;
        }
      }
      int r = last ? finish(dot || dotdot, slash, after) : (dot || dotdot) ? 0 : step(after);
      if (r >= 0 && last && (scope_ & RESOLVE_NO_XDEV)) r = same_mount(r);
      if (r == kFollowed) {
        p = spliced_.c_str();
        continue;
      }
      if (last || r < 0) return r;
      p = after;
    }
  }

  // After a successful run: the path of what was opened, relative to the base, with
  // no symlink, "." nor ".." in it ("" for the base itself).
  std::string canonical() const {
    if (!final_name_) return stack_.names();
    return stack_.names().empty() ? std::string(name_) : stack_.names() + "/" + name_;
  }

 private:
  // What step, finish and follow answer when a symlink was spliced in: never a
  // descriptor nor an errno.
  static constexpr int kFollowed = INT_MIN;

  // Enters the directory name_ (more components follow).
  int step(const char *after) {
    int fd = ::openat(stack_.top(), name_, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && (scope_ & RESOLVE_NO_XDEV)) fd = same_mount(fd);
    if (fd == -EXDEV) return fd;
    if (fd >= 0) {
      stack_.push(fd, name_);
      return 0;
    }
    int err = -errno;
    if (err != -ENOTDIR && err != -ELOOP) return err;
    return follow(err, "/", after, false);
  }

  // Opens the last component with the caller's flags.
  int finish(bool dots, bool slash, const char *after) {
    final_name_ = !dots;
    if (dots) {
      int fd = ::openat(stack_.top(), ".", oflags_, mode_);
      return fd >= 0 ? fd : -errno;
    }
    bool creating = oflags_ & O_CREAT;
    if (slash && creating) return -EISDIR;
    // A trailing slash makes the kernel follow even under O_NOFOLLOW; O_CREAT|O_EXCL never
    // follows.
    bool follow_last = slash || (!(oflags_ & O_NOFOLLOW) && !(creating && (oflags_ & O_EXCL)));
    int flags = oflags_ | O_NOFOLLOW | (slash ? O_DIRECTORY : 0);
    int fd = ::openat(stack_.top(), name_, flags, mode_);
    if (fd >= 0) {
      if (!follow_last || !(oflags_ & O_PATH) || slash || !is_symlink(fd)) return fd;
      close(fd);
      return follow(-ELOOP, "", after, true);
    }
    int err = -errno;
    // O_NOFOLLOW shows a symlink as ELOOP, ENOTDIR with O_DIRECTORY, or, with O_CREAT in
    // a sticky world-writable directory, the EACCES the kernel gives a foreign one there.
    bool maybe_link = err == -ELOOP || err == -ENOTDIR || (creating && err == -EACCES);
    if (!follow_last || !maybe_link) return err;
    return follow(err, slash ? "/" : "", after, true);
  }

  static bool is_symlink(int fd) {
    struct stat st;
    return ::fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && S_ISLNK(st.st_mode);
  }

  // name_ failed to open with err; if it is a symlink the kernel would follow, splices
  // its target in front of the rest of the path and returns kFollowed, else returns
  // err or the kernel's refusal. trailing: name_ is the last component of the path.
  int follow(int err, const char *joiner, const char *after, bool trailing) {
    int link = ::openat(stack_.top(), name_, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (link < 0) return -errno;
    struct Closer {
      int fd;
      ~Closer() { close(fd); }
    } closer{link};
    // Reading the descriptor's text tells a symlink too (anything else answers ENOENT to
    // the empty path), so the kind costs no call of its own; the kernel's checks still
    // come first in its order, on that same link, with its owner and inode read only
    // where they count (the last component, procfs).
    char target[PATH_MAX];
    ssize_t n = ::readlinkat(link, "", target, sizeof target);
    if (n < 0 && (errno == ENOENT || errno == EINVAL)) return err;
    // A link the kernel may not read (procfs) answers that only after the budget, the
    // owner and mount checks, as the kernel reads a link last.
    int read_err = n < 0 ? -errno : 0;
    if (++follows_ > kMaxFollows) return -ELOOP;
    struct stat st;
    if (trailing) {
      if (::fstat(link, &st) < 0) return -errno;
      if (!may_follow(st)) return -EACCES;
    }
    struct statfs fs;
    if (::fstatfs(link, &fs) < 0) return -errno;
    if ((fs.f_flags & kStNoSymfollow) || (scope_ & RESOLVE_NO_SYMLINKS)) return -ELOOP;
    if (read_err) return read_err;
    if (fs.f_type == PROC_SUPER_MAGIC) {
      if (!trailing && ::fstat(link, &st) < 0) return -errno;
      if (st.st_ino < kProcDynamicFirst) return -ELOOP;
    }
    if (n == sizeof target) return -ENAMETOOLONG;
    target[n] = '\0';
    if (n == 0) return -ENOENT;
    if (target[0] == '/' && !(scope_ & RESOLVE_IN_ROOT)) return -EXDEV;
    std::string next;
    next.reserve(static_cast<size_t>(n) + 1 + strlen(after));
    next.append(target, static_cast<size_t>(n));
    if (*after)
      next.append("/").append(after);
    else
      next.append(joiner);
    spliced_.swap(next);
    return kFollowed;
  }

  // fs.protected_symlinks: in a sticky world-writable directory, a symlink is followed
  // only by its owner or when the directory's owner owns it too.
  bool may_follow(const struct stat &link) const {
    uid_t fsuid = static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1)));
    if (link.st_uid == fsuid) return true;
    struct stat dir;
    if (::fstatat(stack_.top(), "", &dir, AT_EMPTY_PATH) < 0) return true;
    if ((dir.st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH)) return true;
    if (dir.st_uid == link.st_uid) return true;
    return !protected_symlinks();
  }

  // fd when it is on the base's mount, else -EXDEV (fd closed).
  int same_mount(int fd) {
    if (!base_mount_) base_mount_ = mount_id(stack_.base());
    uint64_t mount = mount_id(fd);
    if (mount && mount == base_mount_) return fd;
    close(fd);
    return -EXDEV;
  }

  DirStack stack_;
  int oflags_;
  mode_t mode_;
  uint64_t scope_;
  uint64_t base_mount_ = 0;
  int follows_ = 0;
  bool final_name_ = false;
  char name_[PATH_MAX];
  std::string spliced_;
};

// The walk's resolution, out of line: the openat2 path beside it stays short. A path
// of PATH_MAX bytes or more is -ENAMETOOLONG, as openat2 answers it.
[[gnu::noinline]] int walk_open(int base, const char *path, int oflags, mode_t mode, std::string *canonical,
                                uint64_t scope) {
  if (strlen(path) >= PATH_MAX) return -ENAMETOOLONG;
  Walk walk(base, oflags, mode, scope);
  int fd = walk.run(path);
  if (fd >= 0 && canonical) {
    try {
      *canonical = walk.canonical();
    } catch (...) {
      close(fd);
      throw;
    }
  }
  return fd;
}

}  // namespace

FDK_HOT Backend resolve_backend() { return static_cast<Backend>(backend_choice() & ~kForced); }

int set_resolve_backend(int backend) {
  switch (backend) {
    case FDK_RESOLVE_AUTO: {
      std::lock_guard<std::mutex> lock(g_probe_lock);
      g_backend.store(probe_backend(), std::memory_order_release);
      return 0;
    }
    case FDK_RESOLVE_OPENAT2:
      if (!openat2_allowed()) return fail(-ENOSYS, "resolve: openat2 is not available here");
      break;
    case FDK_RESOLVE_FALLBACK:
      break;
    default:
      return fail(-EINVAL, "resolve: unknown backend %d", backend);
  }
  g_backend.store(backend | kForced, std::memory_order_release);
  return 0;
}

int path_fail(int err, const char *what, const char *path) {
  if (err == -EXDEV) return fail(err, "%s: %s: '%s'", what, kEscapeReason, path);
  if (err == -ELOOP)
    return fail(err, "%s: too many symlinks, or a symlink where none may be followed: '%s'", what, path);
  if (err == -EAGAIN)
    return fail(err, "%s: openat2 lost every retry to concurrent renames: '%s'", what, path);
  return fail(err, "%s: %s: '%s'", what, errno_text(err), path);
}

bool is_escape_detail(const char *detail) {
  const char *reason = strstr(detail, ": ");
  if (!reason) return false;
  reason += 2;
  size_t n = strlen(kEscapeReason);
  return strncmp(reason, kEscapeReason, n) == 0 && strncmp(reason + n, ": '", 3) == 0;
}

FDK_HOT int resolve_open_with(Backend backend, bool may_fall_back, int base, const char *path, int oflags,
                              mode_t mode, std::string *canonical, uint64_t scope) {
  // The kernel refuses this pair before any lookup (and before the path's length).
  if ((oflags & (O_CREAT | O_DIRECTORY)) == (O_CREAT | O_DIRECTORY)) return -EINVAL;
  Span span;
  span.begin("resolve", base, path);
  int retries = 0;
  if (backend == Backend::openat2 && !canonical) {
    int fd = open_with_openat2(base, *path ? path : ".", oflags, mode, scope, &retries);
    // openat2 answers EAGAIN when a rename anywhere on the system raced with a ".." of
    // the walk; on a busy machine a long walk can lose every retry. The walk by hand
    // never asks the kernel to follow "..", so it gives the same answer without the
    // race; only the automatic choice takes it, a forced backend is never swapped.
    if (fd != -EAGAIN || !may_fall_back) {
      char detail[48] = "";
      if (trace_listening()) snprintf(detail, sizeof detail, "backend=openat2 retries=%d", retries);
      span.end(fd, detail);
      return fd;
    }
  }
  int fd = walk_open(base, path, oflags, mode, canonical, scope);
  span.end(fd, backend == Backend::openat2 && !canonical ? "backend=walk after openat2 lost every retry" : "backend=walk");
  return fd;
}

FDK_HOT int resolve_confined(int base, const char *path, int oflags, mode_t mode, uint64_t scope) noexcept {
  // The walk allocates (its names); the callers of a single name's open and stat rely on
  // this guard to make no C++ exception reach them (fdk_openat tail-calls them).
  return guard("resolve", [&] {
    int choice = backend_choice();
    return resolve_open_with(static_cast<Backend>(choice & ~kForced), !(choice & kForced), base, path, oflags, mode,
                             nullptr, scope);
  });
}

int resolve_open(int base, bool confined, const char *path, int oflags, mode_t mode, const char *what,
                 uint64_t scope) {
  return resolve_open_inline(base, confined, path, oflags, mode, what, scope);
}

Parent::~Parent() {
  if (owned_) close(fd);
}

int Parent::open(int base, bool confined, const char *path, const char *what, uint64_t scope) {
  size_t len = strlen(path);
  if (len >= PATH_MAX) return path_fail(-ENAMETOOLONG, what, path);
  if (!confined) {
    fd = base;
    name = len ? path : ".";
    return 0;
  }
  size_t end = len;
  while (end > 0 && path[end - 1] == '/') end--;
  // "/" names the base itself under IN_ROOT, else it escapes.
  if (len && end == 0 && !(scope & RESOLVE_IN_ROOT)) return path_fail(-EXDEV, what, path);
  size_t start = end;
  while (start > 0 && path[start - 1] != '/') start--;
  trailing_slash = end != len;

  fd = base;
  if (start > 0) {
    // "a/l/." rather than "a/l/": a symlink l before the last component is not the last
    // one for the kernel (fs.protected_symlinks looks at the last one only).
    std::string dir(path, start);
    dir += '.';
    int r = resolve_confined(base, dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0, scope);
    if (r < 0) return path_fail(r, what, path);
    fd = r;
    owned_ = true;
  }
  if (end == start)
    bare_ = ".";
  else
    bare_.assign(path + start, end - start);
  full_ = bare_;
  if (trailing_slash) full_ += '/';
  name = full_.c_str();
  dots = bare_ == "." || bare_ == "..";
  return 0;
}

int resolve_path_fd(int base, bool confined, const char *path, bool follow, const char *what, uint64_t scope) {
  return resolve_open(base, confined, path, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW), 0, what, scope);
}

}  // namespace fdk
