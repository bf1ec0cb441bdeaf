// Resolution beneath a confined directory: openat2 when the kernel allows it, a
// userspace walk otherwise, and the parent split of last-component calls.
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
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
#include "fd/fd.h"
#include "fs/fs.h"
#include "trace/trace.h"

namespace fdk {

namespace {

// Retries of an openat2 that answered EAGAIN (a rename or mount raced with "..").
constexpr int kOpenat2Retries = 16;
// Symlinks followed in one resolution before -ELOOP, as the kernel allows.
constexpr int kMaxFollows = 40;
constexpr uint64_t kBeneath = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

std::atomic<int> g_backend{0};  // 0 until probed, else a Backend value
std::mutex g_probe_lock;

long sys_openat2(int base, const char *path, int oflags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(oflags);
  how.mode = (oflags & (O_CREAT | __O_TMPFILE)) ? mode : 0;
  how.resolve = kBeneath;
  return syscall(SYS_openat2, base, path, &how, sizeof how);
}

// ENOSYS (old kernel) or the EPERM a seccomp filter answers select the fallback.
bool openat2_allowed() {
  long fd = sys_openat2(AT_FDCWD, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd >= 0) {
    close(static_cast<int>(fd));
    return true;
  }
  return errno != ENOSYS && errno != EPERM;
}

int probe_backend() {
  int forced = env_choice("FDKIT_RESOLVE", {"fallback", "openat2"});
  if (forced == 0) return FDK_RESOLVE_FALLBACK;
  if (forced == 1 && openat2_allowed()) return FDK_RESOLVE_OPENAT2;
  return openat2_allowed() ? FDK_RESOLVE_OPENAT2 : FDK_RESOLVE_FALLBACK;
}

// *retries counts the EAGAIN answers that were retried.
int open_with_openat2(int base, const char *path, int oflags, mode_t mode, int *retries) {
  for (*retries = 0;; ++*retries) {
    long fd = sys_openat2(base, path, oflags, mode);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno != EAGAIN || *retries == kOpenat2Retries) return -errno;
  }
}

// The directories the walk has entered below its base; ".." pops one. Small walks stay
// in the inline array.
class DirStack {
 public:
  explicit DirStack(int base) : base_(base) {}
  DirStack(const DirStack &) = delete;
  DirStack &operator=(const DirStack &) = delete;
  ~DirStack() {
    for (size_t i = 0; i < size_; i++) close(at(i));
  }

  int top() const { return size_ ? at(size_ - 1) : base_; }
  bool at_base() const { return size_ == 0; }

  void push(int fd) {
    if (size_ < kInline) {
      inline_[size_] = fd;
    } else {
      try {
        more_.push_back(fd);
      } catch (...) {
        close(fd);
        throw;
      }
    }
    size_++;
  }

  void pop() {
    close(at(size_ - 1));
    if (size_ > kInline) more_.pop_back();
    size_--;
  }

 private:
  static constexpr size_t kInline = 24;
  int at(size_t i) const { return i < kInline ? inline_[i] : more_[i - kInline]; }

  int base_;
  size_t size_ = 0;
  int inline_[kInline];
  std::vector<int> more_;
};

// One resolution by hand. Every step opens one name relative to the directory on top of
// the stack with O_NOFOLLOW, so the kernel never follows a symlink or ".." for us and
// never sees a name that ends in '/'.
class Walk {
 public:
  Walk(int base, int oflags, mode_t mode) : stack_(base), oflags_(oflags), mode_(mode) {}

  int run(const char *path) {
    const char *p = *path ? path : ".";
    if (*p == '/') return -EXDEV;
    for (;;) {
      const char *end = strchrnul(p, '/');
      size_t len = static_cast<size_t>(end - p);
      if (len > NAME_MAX) return -ENAMETOOLONG;
      const char *after = end;
      while (*after == '/') after++;
      bool slash = after != end;
      bool last = *after == '\0';
      memcpy(name_, p, len);
      name_[len] = '\0';

      bool dot = strcmp(name_, ".") == 0, dotdot = strcmp(name_, "..") == 0;
      if (dotdot) {
        if (stack_.at_base()) return -EXDEV;
        stack_.pop();
      }
      int r = last ? finish(dot || dotdot, slash, after) : (dot || dotdot) ? 0 : step(after);
      if (r == kFollowed) {
        p = spliced_.c_str();
        continue;
      }
      if (last || r < 0) return r;
      p = after;
    }
  }

 private:
  // What step, finish and follow answer when a symlink was spliced in: never a
  // descriptor nor an errno.
  static constexpr int kFollowed = INT_MIN;

  // Enters the directory name_ (more components follow).
  int step(const char *after) {
    int fd = ::openat(stack_.top(), name_, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      stack_.push(fd);
      return 0;
    }
    int err = -errno;
    if (err != -ENOTDIR && err != -ELOOP) return err;
    return follow(err, "/", after);
  }

  // Opens the last component with the caller's flags.
  int finish(bool dots, bool slash, const char *after) {
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
      return follow(-ELOOP, slash ? "/" : "", after);
    }
    int err = -errno;
    if (!follow_last || (err != -ELOOP && err != -ENOTDIR)) return err;
    return follow(err, slash ? "/" : "", after);
  }

  static bool is_symlink(int fd) {
    struct stat st;
    return ::fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && S_ISLNK(st.st_mode);
  }

  // name_ failed to open with err; if it is a symlink, splices its target in front of the
  // rest of the path and returns kFollowed, else returns err.
  int follow(int err, const char *joiner, const char *after) {
    char target[PATH_MAX];
    ssize_t n = ::readlinkat(stack_.top(), name_, target, sizeof target);
    if (n < 0) return errno == EINVAL ? err : -errno;
    if (n == sizeof target) return -ENAMETOOLONG;
    target[n] = '\0';
    if (++follows_ > kMaxFollows) return -ELOOP;
    if (is_magic(target)) return -ELOOP;
    if (n == 0) return -ENOENT;
    if (target[0] == '/') return -EXDEV;
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

  // Symlinks that procfs makes up (fd/N, exe, cwd, root, ns/...) point at an absolute
  // path or at "type:[id]" text; its ordinary links (self, thread-self, mounts) are
  // relative names.
  bool is_magic(const char *target) const {
    struct statfs fs;
    if (::fstatfs(stack_.top(), &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC) return false;
    return target[0] == '/' || strchr(target, ':');
  }

  DirStack stack_;
  int oflags_;
  mode_t mode_;
  int follows_ = 0;
  char name_[NAME_MAX + 1];
  std::string spliced_;
};

}  // namespace

Backend resolve_backend() {
  int b = g_backend.load(std::memory_order_acquire);
  if (b) return static_cast<Backend>(b);
  std::lock_guard<std::mutex> lock(g_probe_lock);
  b = g_backend.load(std::memory_order_acquire);
  if (!b) {
    b = probe_backend();
    g_backend.store(b, std::memory_order_release);
  }
  return static_cast<Backend>(b);
}

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
  g_backend.store(backend, std::memory_order_release);
  return 0;
}

int path_fail(int err, const char *what, const char *path) {
  if (err == -EXDEV) return fail(err, "%s: '%s' escapes its directory", what, path);
  if (err == -ELOOP)
    return fail(err, "%s: '%s': too many symlinks, or a symlink where none may be followed", what, path);
  return fail(err, "%s: '%s': %s", what, path, strerror(-err));
}

int resolve_open_with(Backend backend, int base, const char *path, int oflags, mode_t mode) {
  if (strlen(path) >= PATH_MAX) return -ENAMETOOLONG;
  Span span;
  span.begin("resolve", base, path);
  int retries = 0;
  if (backend == Backend::openat2) {
    int fd = open_with_openat2(base, *path ? path : ".", oflags, mode, &retries);
    // openat2 answers EAGAIN when a rename anywhere on the system raced with a ".." of
    // the walk; on a busy machine a long walk can lose every retry. The walk by hand
    // never asks the kernel to follow "..", so it gives the same answer without the race.
    if (fd != -EAGAIN) {
      char detail[48] = "";
      if (trace_listening()) snprintf(detail, sizeof detail, "backend=openat2 retries=%d", retries);
      span.end(fd, detail);
      return fd;
    }
  }
  int fd = Walk(base, oflags, mode).run(path);
  span.end(fd, backend == Backend::openat2 ? "backend=walk after openat2 lost every retry" : "backend=walk");
  return fd;
}

int resolve_open(int base, bool confined, const char *path, int oflags, mode_t mode, const char *what) {
  int fd;
  if (confined) {
    fd = resolve_open_with(resolve_backend(), base, path, oflags, mode);
  } else {
    fd = ::openat(base, *path ? path : ".", oflags, mode);
    if (fd < 0) fd = -errno;
  }
  return fd >= 0 ? fd : path_fail(fd, what, path);
}

Parent::~Parent() {
  if (owned_) close(fd);
}

int Parent::open(int base, bool confined, const char *path, const char *what) {
  size_t len = strlen(path);
  if (len >= PATH_MAX) return path_fail(-ENAMETOOLONG, what, path);
  if (!confined) {
    fd = base;
    name = len ? path : ".";
    return 0;
  }
  size_t end = len;
  while (end > 0 && path[end - 1] == '/') end--;
  if (len && end == 0) return path_fail(-EXDEV, what, path);
  size_t start = end;
  while (start > 0 && path[start - 1] != '/') start--;
  trailing_slash = end != len;

  fd = base;
  if (start > 0) {
    char dir[PATH_MAX];
    memcpy(dir, path, start);
    dir[start] = '\0';
    int r = resolve_open_with(resolve_backend(), base, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (r < 0) return path_fail(r, what, path);
    fd = r;
    owned_ = true;
  }
  size_t n = end - start;
  if (n > NAME_MAX) return path_fail(-ENAMETOOLONG, what, path);
  if (n == 0) {
    strcpy(bare_, ".");
  } else {
    memcpy(bare_, path + start, n);
    bare_[n] = '\0';
  }
  strcpy(buf_, bare_);
  if (trailing_slash) strcat(buf_, "/");
  name = buf_;
  dots = strcmp(bare_, ".") == 0 || strcmp(bare_, "..") == 0;
  return 0;
}

int resolve_path_fd(int base, bool confined, const char *path, bool follow, const char *what) {
  return resolve_open(base, confined, path, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW), 0, what);
}

}  // namespace fdk
