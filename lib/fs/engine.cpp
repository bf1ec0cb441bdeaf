// SPDX-License-Identifier: MIT
// The inline and io_uring engines of the asynchronous file-system calls.
//
// Confinement: only IORING_OP_OPENAT2 takes resolve flags; STATX, MKDIRAT, UNLINKAT,
// RENAMEAT, LINKAT and SYMLINKAT walk a multi-component path unconfined. So every path call other than open acts, as the
// synchronous one does, on a parent opened with OPENAT2(O_PATH, the confined flags) and one
// last component without a slash. Paths the synchronous calls treat specially (a trailing
// slash, a dot name, an over-long one) and every confined call under the resolve fallback
// (a walk of many dependent steps) go to the pool.
#include "fs/engine.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/syscall.h"
#include "fd/fd.h"

namespace fdk {

FDK_ASYNC_HOT void OpenResult::deliver(int64_t r) const {
  fdk_fd *fd = nullptr;
  int result = r < 0 ? static_cast<int>(r) : wrap_opened(&fd, static_cast<int>(r), oflags);
  cb(result, fd, data);
}

namespace {

// -1 until probed, then whether openat2 takes RESOLVE_CACHED (Linux 5.12).
std::atomic<int> g_cached_lookup{-1};

bool cached_lookup_supported() {
  int known = g_cached_lookup.load(std::memory_order_relaxed);
  if (known >= 0) return known;
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_CACHED;
  long fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
  // EINVAL: no RESOLVE_CACHED; ENOSYS or a seccomp EPERM: no openat2. EAGAIN: it exists.
  bool ok = fd >= 0 || errno == EAGAIN;
  if (fd >= 0) close(static_cast<int>(fd));
  g_cached_lookup.store(ok, std::memory_order_relaxed);
  return ok;
}

// O_TMPFILE includes O_DIRECTORY's bit: test it whole.
bool creates(int oflags) { return (oflags & O_CREAT) || (oflags & O_TMPFILE) == O_TMPFILE; }

// Whether a confined call can use openat2 here (not under the resolve fallback, nor for
// a dir with a scope, whose extra resolve flags only the pool passes).
bool kernel_confines(const DirBase &b) {
  return !b.confined || (resolve_backend() == Backend::openat2 && !b.scope);
}

}  // namespace

FDK_ASYNC_HOT int inline_openat(fdk_loop *loop, fdk_dir *dir, const char *path, int oflags, fdk_open_cb cb, void *data,
                                fdk_op **op) {
  // Creating or truncating always needs the pool's wait.
  if (creates(oflags) || (oflags & O_TRUNC)) return kNotServed;
  // A path of PATH_MAX bytes or more: openat2's -ENAMETOOLONG, the synchronous answer.
  if (!cached_lookup_supported()) return kNotServed;
  DirBase b;
  if (b.acquire(dir, "openat") < 0 || !kernel_confines(b)) return kNotServed;
  // O_PATH and O_DIRECTORY opens never wait for a device or a FIFO's other end.
  bool add_nonblock = !(oflags & (O_NONBLOCK | O_PATH | O_DIRECTORY));
  int flags = oflags | (add_nonblock ? O_NONBLOCK : 0);
  // One name stays beneath the dir when opened with O_NOFOLLOW, as the synchronous open
  // makes it (fs.h: single_component): RESOLVE_BENEATH costs about 190 ns more per open
  // here. Only a symlink found there takes the confined resolution, in a second call.
  bool one_name = b.confined && single_component(path, oflags, 0);
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | (one_name ? O_NOFOLLOW : 0));
  how.resolve = RESOLVE_CACHED | (b.confined && !one_name ? kConfinedResolve : 0);
  // The calls inline (core/syscall.h): no page of the C library's wrappers after them.
  int r = hot_openat2(b.raw, *path ? path : ".", &how);
  if (one_name && one_name_may_be_link(r, oflags)) {
    how.flags = static_cast<uint64_t>(flags);
    how.resolve = RESOLVE_CACHED | kConfinedResolve;
    r = hot_openat2(b.raw, path, &how);
  }
  // EAGAIN: a component is not in the dentry cache (or "..", or a rename raced): the next
  // engine decides. ENXIO: a FIFO without a reader, which a blocking open waits for.
  if (r == -EAGAIN || (r == -ENXIO && add_nonblock)) return kNotServed;
  if (r < 0) {
    r = path_fail(r, "openat", path);
  } else if (add_nonblock) {
    if (int err = hot_setfl(r, oflags); err < 0) {
      hot_close(r);
      r = fail_sys(err, "openat");
    }
  }
  auto *known = make_recycled<KnownOp<OpenResult>>(loop, OpenResult{oflags, cb, data});
  known->start(r, -1, "openat", op);
  return 0;
}

#if !FDK_HAVE_URING

int uring_openat(fdk_loop *, fdk_dir *, const char *, int, mode_t, fdk_open_cb, void *, fdk_op **) {
  return kNotServed;
}
int uring_statat(fdk_loop *, fdk_stat *, fdk_dir *, const char *, bool, fdk_result_cb, void *, fdk_op **) {
  return kNotServed;
}
int uring_fstat(fdk_loop *, fdk_stat *, fdk_fd *, fdk_result_cb, void *, fdk_op **) { return kNotServed; }
int uring_mkdirat(fdk_loop *, fdk_dir *, const char *, mode_t, fdk_result_cb, void *, fdk_op **) {
  return kNotServed;
}
int uring_unlinkat(fdk_loop *, fdk_dir *, const char *, bool, fdk_result_cb, void *, fdk_op **) {
  return kNotServed;
}
int uring_renameat2(fdk_loop *, fdk_dir *, const char *, fdk_dir *, const char *, unsigned, fdk_result_cb, void *,
                    fdk_op **) {
  return kNotServed;
}
int uring_linkat(fdk_loop *, fdk_dir *, const char *, fdk_dir *, const char *, fdk_result_cb, void *, fdk_op **) {
  return kNotServed;
}
int uring_symlinkat(fdk_loop *, const char *, fdk_dir *, const char *, fdk_result_cb, void *, fdk_op **) {
  return kNotServed;
}

#else

namespace {

constexpr unsigned kStatxMask = STATX_BASIC_STATS | STATX_BTIME;

// A uring op that reports under a name (its span, its failure details).
class NamedOp : public UringOp {
 public:
  NamedOp(fdk_loop *l, const char *what) : UringOp(l), what_(what) {}

  FDK_ASYNC_HOT void deliver(int64_t result) override {
    span_.end(result);
    flight_.end();
    deliver_result(result);
  }

 protected:
  virtual void deliver_result(int64_t result) = 0;

  void complete_cancelled() { op_complete_with_detail(this, -ECANCELED, std::string(what_) + ": operation cancelled"); }
  FDK_ASYNC_HOT void begin(const char *path, fdk_op **out) {
    span_.begin(what_, -1, path, loop);
    op_start(this, out);
  }

  const char *what_;
  Span span_;
};

// A uring op on a dir handle: holds a reference on the dir for the pool, and a use of its
// descriptor until the last completion.
class DirOp : public NamedOp {
 public:
  DirOp(fdk_loop *l, fdk_dir *dir, const char *path, const char *what)
      : NamedOp(l, what), held_(dir), dir_(dir), path_(path) {}

 protected:
  // Fails the op with err as the synchronous call would.
  void fail_path(int err) { op_complete(this, path_fail(err, what_, path_.c_str())); }

  DirRef held_;  // declared before base_: the use of its descriptor ends first
  fdk_dir *dir_;
  std::string path_;
  DirBase base_;
};

// One path of a call made on its last component (see the top of this file).
struct PathArg {
  PathArg(fdk_dir *d, const char *p) : held(d), dir(d), path(p) {}
  PathArg(const PathArg &) = delete;
  PathArg &operator=(const PathArg &) = delete;
  ~PathArg() {
    if (parent >= 0) close(parent);
  }

  // False when the path is not one to split here (the pool then takes the call).
  FDK_ASYNC_HOT bool prepare(const char *what) {
    return base.acquire(dir, what) == 0 && kernel_confines(base) && split();
  }
  // The descriptor name is looked up beneath, once the parent (if any) is open.
  int dirfd() const { return parent >= 0 ? parent : base.raw; }

  DirRef held;  // declared before base: the use of its descriptor ends first
  fdk_dir *dir;
  std::string path;
  DirBase base;
  std::string parent_path;  // empty: name is looked up beneath the base itself
  const char *name = nullptr;
  int parent = -1;

 private:
  // Unconfined: the kernel walks the whole path, as the synchronous call lets it.
  // Confined: a parent part (opened beneath the base) and a plain last name.
  bool split() {
    if (!base.confined) {
      name = path.empty() ? "." : path.c_str();
      return true;
    }
    size_t len = path.size();
    if (len == 0 || len >= PATH_MAX || path.back() == '/') return false;
    size_t slash = path.rfind('/');
    size_t start = slash == std::string::npos ? 0 : slash + 1;
    name = path.c_str() + start;
    if (len - start > NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return false;
    // "a/l/." rather than "a/l/", as the synchronous calls open it: a symlink l before
    // the last component is not the last one for the kernel (fs.protected_symlinks).
    if (start > 0) parent_path.assign(path, 0, start).append(".");
    return true;
  }
};

// A call on the last component of one path, or of two (rename, link), made on their
// parents: each parent is opened in turn, then the call itself is issued.
class LastComponentOp : public NamedOp {
 public:
  LastComponentOp(fdk_loop *l, fdk_dir *dir, const char *path, const char *what)
      : NamedOp(l, what), first_(dir, path) {}
  LastComponentOp(fdk_loop *l, fdk_dir *dir, const char *path, fdk_dir *dir2, const char *path2, const char *what)
      : NamedOp(l, what), first_(dir, path) {
    second_.emplace(dir2, path2);
  }

  // kNotServed when a path is not one to split here.
  FDK_ASYNC_HOT int start(fdk_op **out) {
    if (!first_.prepare(what_) || (second_ && !second_->prepare(what_))) return kNotServed;
    begin(first_.path.c_str(), out);
    issue_next();
    return 0;
  }

  FDK_ASYNC_HOT void on_cqe(int res) override {
    if (opening_) {
      PathArg &arg = *opening_;
      opening_ = nullptr;
      if (res >= 0) arg.parent = res;
      if (cancelled_) complete_cancelled();
      else if (res == -EAGAIN) continue_on_pool();  // a rename raced with "..": the pool retries, then walks
      else if (res < 0) op_complete(this, path_fail(res, what_, arg.path.c_str()));
      else issue_next();
      return;
    }
    if (cancelled_) complete_cancelled();
    else finish(res);
  }

 protected:
  // Fills sqe with the call itself, once every parent is open.
  virtual void prepare(io_uring_sqe *sqe) = 0;
  // The call's answer (not cancelled).
  virtual void finish(int res) { res < 0 ? fail_path(res) : op_complete(this, res); }
  // Fails the op with err as the synchronous call would.
  void fail_path(int err) { op_complete(this, path_fail(err, what_, first_.path.c_str())); }

  PathArg first_;
  std::optional<PathArg> second_;

 private:
  // Opens the next parent still to open, else issues the call.
  FDK_ASYNC_HOT void issue_next() {
    PathArg *arg = nullptr;
    if (first_.parent < 0 && !first_.parent_path.empty()) arg = &first_;
    else if (second_ && second_->parent < 0 && !second_->parent_path.empty()) arg = &*second_;
    io_uring_sqe *sqe = next_sqe();
    if (!sqe) {
      continue_on_pool();
      return;
    }
    if (arg) {
      how_.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
      how_.resolve = kConfinedResolve;
      io_uring_prep_openat2(sqe, arg->base.raw, arg->parent_path.c_str(), &how_);
      opening_ = arg;
    } else {
      prepare(sqe);
    }
    queued();
  }

  open_how how_{};
  PathArg *opening_ = nullptr;  // the path whose parent the pending submission opens
};

class ResultOp : public LastComponentOp {
 public:
  template <class... Paths>
  ResultOp(fdk_loop *l, fdk_result_cb cb, void *data, Paths... paths) : LastComponentOp(l, paths...), cb_(cb), data_(data) {}

 protected:
  FDK_ASYNC_HOT void deliver_result(int64_t result) override { cb_(result, data_); }

 private:
  fdk_result_cb cb_;
  void *data_;
};

class MkdirOp final : public ResultOp {
 public:
  MkdirOp(fdk_loop *l, fdk_dir *dir, const char *path, mode_t mode, fdk_result_cb cb, void *data)
      : ResultOp(l, cb, data, dir, path, "mkdirat"), mode_(mode) {}
  FDK_ASYNC_HOT ~MkdirOp() override = default;

 private:
  FDK_ASYNC_HOT void prepare(io_uring_sqe *sqe) override { io_uring_prep_mkdirat(sqe, first_.dirfd(), first_.name, mode_); }
  int64_t run_blocking() override { return mkdirat(first_.dir, first_.path.c_str(), mode_); }
  mode_t mode_;
};

class UnlinkOp final : public ResultOp {
 public:
  UnlinkOp(fdk_loop *l, fdk_dir *dir, const char *path, bool remove_dir, fdk_result_cb cb, void *data)
      : ResultOp(l, cb, data, dir, path, remove_dir ? "rmdirat" : "unlinkat"), remove_dir_(remove_dir) {}
  FDK_ASYNC_HOT ~UnlinkOp() override = default;

 private:
  FDK_ASYNC_HOT void prepare(io_uring_sqe *sqe) override {
    io_uring_prep_unlinkat(sqe, first_.dirfd(), first_.name, remove_dir_ ? AT_REMOVEDIR : 0);
  }
  int64_t run_blocking() override {
    return remove_dir_ ? rmdirat(first_.dir, first_.path.c_str()) : unlinkat(first_.dir, first_.path.c_str());
  }
  bool remove_dir_;
};

class SymlinkOp final : public ResultOp {
 public:
  SymlinkOp(fdk_loop *l, const char *target, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data)
      : ResultOp(l, cb, data, dir, path, "symlinkat"), target_(target) {}

 private:
  void prepare(io_uring_sqe *sqe) override {
    io_uring_prep_symlinkat(sqe, target_.c_str(), first_.dirfd(), first_.name);
  }
  int64_t run_blocking() override { return symlinkat(target_.c_str(), first_.dir, first_.path.c_str()); }
  std::string target_;
};

// rename and link: a call on two paths, whose failure names both as the synchronous one does.
class TwoPathOp : public ResultOp {
 public:
  using ResultOp::ResultOp;

 private:
  void finish(int res) override {
    if (res >= 0) return op_complete(this, 0);
    op_complete(this, fail(res, "%s: %s: '%s' -> '%s'", what_, errno_text(-res), first_.path.c_str(),
                           second_->path.c_str()));
  }
};

class RenameOp final : public TwoPathOp {
 public:
  RenameOp(fdk_loop *l, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path, unsigned flags,
           fdk_result_cb cb, void *data)
      : TwoPathOp(l, cb, data, old_dir, old_path, new_dir, new_path, "renameat"), flags_(flags) {}

 private:
  void prepare(io_uring_sqe *sqe) override {
    unsigned os = (flags_ & FDK_RENAME_NOREPLACE ? RENAME_NOREPLACE : 0) |
                  (flags_ & FDK_RENAME_EXCHANGE ? RENAME_EXCHANGE : 0) | (flags_ & FDK_RENAME_WHITEOUT ? RENAME_WHITEOUT : 0);
    io_uring_prep_renameat(sqe, first_.dirfd(), first_.name, second_->dirfd(), second_->name, os);
  }
  int64_t run_blocking() override {
    return renameat2(first_.dir, first_.path.c_str(), second_->dir, second_->path.c_str(), flags_);
  }
  unsigned flags_;
};

// A link that does not follow a last symlink (a following one resolves its source whole,
// on the pool).
class LinkOp final : public TwoPathOp {
 public:
  LinkOp(fdk_loop *l, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path, fdk_result_cb cb,
         void *data)
      : TwoPathOp(l, cb, data, old_dir, old_path, new_dir, new_path, "linkat") {}

 private:
  void prepare(io_uring_sqe *sqe) override {
    io_uring_prep_linkat(sqe, first_.dirfd(), first_.name, second_->dirfd(), second_->name, 0);
  }
  int64_t run_blocking() override { return linkat(first_.dir, first_.path.c_str(), second_->dir, second_->path.c_str()); }
};

// statat: a statx of the last name without following; a symlink found there, when the
// call follows, is resolved whole on the pool (confined), as the synchronous call does.
class StatOp final : public ResultOp {
 public:
  StatOp(fdk_loop *l, fdk_stat *st, fdk_dir *dir, const char *path, bool follow, fdk_result_cb cb, void *data)
      : ResultOp(l, cb, data, dir, path, "statat"), st_(st), follow_(follow) {}
  FDK_ASYNC_HOT ~StatOp() override = default;

 private:
  FDK_ASYNC_HOT void prepare(io_uring_sqe *sqe) override {
    bool nofollow = first_.base.confined || !follow_;
    io_uring_prep_statx(sqe, first_.dirfd(), first_.name, nofollow ? AT_SYMLINK_NOFOLLOW : 0, kStatxMask, &sx_);
  }
  FDK_ASYNC_HOT void finish(int res) override {
    if (res < 0) return fail_path(res);
    if (first_.base.confined && follow_ && S_ISLNK(sx_.stx_mode)) return continue_on_pool();
    op_complete(this, 0);
  }
  int64_t run_blocking() override { return statat(&sx_, first_.dir, first_.path.c_str(), follow_); }
  FDK_ASYNC_HOT void deliver_result(int64_t result) override {
    if (result >= 0) st_->sx = sx_;
    ResultOp::deliver_result(result);
  }

  fdk_stat *st_;
  bool follow_;
  struct statx sx_ {};
};

class OpenOp final : public DirOp {
 public:
  OpenOp(fdk_loop *l, fdk_dir *dir, const char *path, int oflags, mode_t mode, fdk_open_cb cb, void *data)
      : DirOp(l, dir, path, "openat"), result_{oflags, cb, data}, mode_(mode) {}
  FDK_ASYNC_HOT ~OpenOp() override = default;

  FDK_ASYNC_HOT int start(fdk_op **out) {
    if (base_.acquire(dir_, what_) < 0 || !kernel_confines(base_) || path_.size() >= PATH_MAX) return kNotServed;
    begin(path_.c_str(), out);
    io_uring_sqe *sqe = next_sqe();
    if (!sqe) {
      continue_on_pool();
      return 0;
    }
    // One name is opened as inline_openat opens it: with O_NOFOLLOW and without the
    // confined flags; only a symlink found there is opened again with them (on_cqe).
    one_name_ = base_.confined && single_component(path_.c_str(), result_.oflags, 0);
    how_.flags = static_cast<uint64_t>(result_.oflags | (one_name_ ? O_NOFOLLOW : 0));
    how_.mode = creates(result_.oflags) ? mode_ : 0;
    how_.resolve = base_.confined && !one_name_ ? kConfinedResolve : 0;
    io_uring_prep_openat2(sqe, base_.raw, path_.empty() ? "." : path_.c_str(), &how_);
    queued();
    return 0;
  }

  FDK_ASYNC_HOT void on_cqe(int res) override {
    if (cancelled_) {
      if (res >= 0) close(res);
      complete_cancelled();
    } else if (one_name_ && one_name_may_be_link(res, result_.oflags)) {
      open_confined();
    } else if (res == -EAGAIN && base_.confined) {
      continue_on_pool();  // a rename raced with "..": the pool retries, then walks
    } else if (res < 0) {
      fail_path(res);
    } else {
      op_complete(this, res);
    }
  }

 private:
  // The one name was a symlink: opened again, resolved beneath the dir.
  void open_confined() {
    one_name_ = false;
    io_uring_sqe *sqe = next_sqe();
    if (!sqe) {
      continue_on_pool();
      return;
    }
    how_.flags = static_cast<uint64_t>(result_.oflags);
    how_.resolve = kConfinedResolve;
    io_uring_prep_openat2(sqe, base_.raw, path_.c_str(), &how_);
    queued();
  }

  int64_t run_blocking() override { return openat_raw(dir_, path_.c_str(), result_.oflags, mode_); }
  void discard(int64_t r) override { close(static_cast<int>(r)); }
  FDK_ASYNC_HOT void deliver_result(int64_t result) override { result_.deliver(result); }

  OpenResult result_;
  mode_t mode_;
  open_how how_{};
  bool one_name_ = false;  // the submission in flight opens one name with O_NOFOLLOW
};

class FstatOp final : public UringOp {
 public:
  FstatOp(fdk_loop *l, fdk_stat *st, fdk_fd *fd, fdk_result_cb cb, void *data)
      : UringOp(l), held_(fd), st_(st), fd_(fd), cb_(cb), data_(data) {}

  int start(fdk_op **out) {
    int raw;
    if (fd_use(fd_, &raw) < 0) return kNotServed;
    io_uring_sqe *sqe = next_sqe();
    if (!sqe) {
      fd_unuse(fd_);
      return kNotServed;
    }
    span_.begin("fstat", raw, nullptr, loop);
    op_start(this, out);
    io_uring_prep_statx(sqe, raw, "", AT_EMPTY_PATH, kStatxMask, &sx_);
    queued();
    return 0;
  }

  void on_cqe(int res) override {
    fd_unuse(fd_);
    if (cancelled_) op_complete_with_detail(this, -ECANCELED, "fstat: operation cancelled");
    else op_complete(this, res < 0 ? fail_sys(res, "fstat") : 0);
  }

  void deliver(int64_t result) override {
    span_.end(result);
    flight_.end();
    if (result >= 0) st_->sx = sx_;
    cb_(result, data_);
  }

 private:
  FdRef held_;
  fdk_stat *st_;
  fdk_fd *fd_;
  fdk_result_cb cb_;
  void *data_;
  struct statx sx_ {};
  Span span_;
};

// Starts op, or drops it when its engine cannot serve the call.
template <class Op>
int start_or_drop(Op *op, fdk_op **out) {
  int r = op->start(out);
  if (r == kNotServed) op_unref(op);
  return r;
}

}  // namespace

FDK_ASYNC_HOT int uring_openat(fdk_loop *loop, fdk_dir *dir, const char *path, int oflags, mode_t mode, fdk_open_cb cb, void *data,
                 fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_OPENAT2)) return kNotServed;
  return start_or_drop(make_recycled<OpenOp>(loop, dir, path, oflags, mode, cb, data), op);
}

FDK_ASYNC_HOT int uring_statat(fdk_loop *loop, fdk_stat *st, fdk_dir *dir, const char *path, bool follow, fdk_result_cb cb,
                 void *data, fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_STATX) || !ring_serves(loop, IORING_OP_OPENAT2)) return kNotServed;
  return start_or_drop(make_recycled<StatOp>(loop, st, dir, path, follow, cb, data), op);
}

FDK_ASYNC_HOT int uring_fstat(fdk_loop *loop, fdk_stat *st, fdk_fd *fd, fdk_result_cb cb, void *data, fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_STATX)) return kNotServed;
  return start_or_drop(make_recycled<FstatOp>(loop, st, fd, cb, data), op);
}

FDK_ASYNC_HOT int uring_mkdirat(fdk_loop *loop, fdk_dir *dir, const char *path, mode_t mode, fdk_result_cb cb, void *data,
                  fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_MKDIRAT) || !ring_serves(loop, IORING_OP_OPENAT2)) return kNotServed;
  return start_or_drop(make_recycled<MkdirOp>(loop, dir, path, mode, cb, data), op);
}

FDK_ASYNC_HOT int uring_unlinkat(fdk_loop *loop, fdk_dir *dir, const char *path, bool remove_dir, fdk_result_cb cb, void *data,
                   fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_UNLINKAT) || !ring_serves(loop, IORING_OP_OPENAT2)) return kNotServed;
  return start_or_drop(make_recycled<UnlinkOp>(loop, dir, path, remove_dir, cb, data), op);
}

int uring_renameat2(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                    unsigned flags, fdk_result_cb cb, void *data, fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_RENAMEAT) || !ring_serves(loop, IORING_OP_OPENAT2)) return kNotServed;
  return start_or_drop(make_recycled<RenameOp>(loop, old_dir, old_path, new_dir, new_path, flags, cb, data), op);
}

int uring_linkat(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                 fdk_result_cb cb, void *data, fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_LINKAT) || !ring_serves(loop, IORING_OP_OPENAT2)) return kNotServed;
  return start_or_drop(make_recycled<LinkOp>(loop, old_dir, old_path, new_dir, new_path, cb, data), op);
}

int uring_symlinkat(fdk_loop *loop, const char *target, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data,
                    fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_SYMLINKAT) || !ring_serves(loop, IORING_OP_OPENAT2)) return kNotServed;
  return start_or_drop(make_recycled<SymlinkOp>(loop, target, dir, path, cb, data), op);
}

#endif

}  // namespace fdk
