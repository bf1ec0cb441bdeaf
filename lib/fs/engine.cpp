// SPDX-License-Identifier: MIT
// The inline and io_uring engines of the asynchronous file-system calls.
//
// Confinement: only IORING_OP_OPENAT2 takes resolve flags; STATX, MKDIRAT and UNLINKAT
// walk a multi-component path unconfined. So every path call other than open acts, as the
// synchronous one does, on a parent opened with OPENAT2(O_PATH, the confined flags) and one
// last component without a slash. Paths the synchronous calls treat specially (a trailing
// slash, a dot name, an over-long one) and every confined call under the resolve fallback
// (a walk of many dependent steps) go to the pool.
#include "fs/engine.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>

#include "core/error.h"
#include "fd/fd.h"

namespace fdk {

void OpenResult::deliver(int64_t r) const {
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

int inline_openat(fdk_loop *loop, fdk_dir *dir, const char *path, int oflags, fdk_open_cb cb, void *data,
                  fdk_op **op) {
  // Creating or truncating always needs the pool's wait.
  if (creates(oflags) || (oflags & O_TRUNC)) return kNotServed;
  if (!cached_lookup_supported() || strlen(path) >= PATH_MAX) return kNotServed;
  DirBase b;
  if (b.acquire(dir, "openat") < 0 || !kernel_confines(b)) return kNotServed;
  // O_PATH and O_DIRECTORY opens never wait for a device or a FIFO's other end.
  bool add_nonblock = !(oflags & (O_NONBLOCK | O_PATH | O_DIRECTORY));
  open_how how{};
  how.flags = static_cast<uint64_t>(oflags | (add_nonblock ? O_NONBLOCK : 0));
  how.resolve = RESOLVE_CACHED | (b.confined ? kConfinedResolve : 0);
  long fd = syscall(SYS_openat2, b.raw, *path ? path : ".", &how, sizeof how);
  // EAGAIN: a component is not in the dentry cache (or "..", or a rename raced): the next
  // engine decides. ENXIO: a FIFO without a reader, which a blocking open waits for.
  if (fd < 0 && (errno == EAGAIN || (errno == ENXIO && add_nonblock))) return kNotServed;
  int r = fd < 0 ? path_fail(neg_errno(), "openat", path) : static_cast<int>(fd);
  if (r >= 0 && add_nonblock && fcntl(r, F_SETFL, oflags) < 0) {
    int err = neg_errno();
    close(r);
    r = fail_sys(err, "openat");
  }
  auto *known = new KnownOp<OpenResult>(loop, OpenResult{oflags, cb, data});
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

#else

namespace {

constexpr unsigned kStatxMask = STATX_BASIC_STATS | STATX_BTIME;

// A uring op on a dir handle: holds a reference on the dir for the pool, and a use of its
// descriptor until the last completion.
class DirOp : public UringOp {
 public:
  DirOp(fdk_loop *l, fdk_dir *dir, const char *path, const char *what)
      : UringOp(l), held_(dir), dir_(dir), path_(path), what_(what) {}

  void deliver(int64_t result) override {
    span_.end(result);
    flight_.end();
    deliver_result(result);
  }

 protected:
  virtual void deliver_result(int64_t result) = 0;

  // Fails the op with err as the synchronous call would.
  void fail_path(int err) { op_complete(this, path_fail(err, what_, path_.c_str())); }
  void complete_cancelled() { op_complete_with_detail(this, -ECANCELED, std::string(what_) + ": operation cancelled"); }
  void begin(fdk_op **out) {
    span_.begin(what_, -1, path_.c_str(), loop);
    op_start(this, out);
  }

  DirRef held_;  // declared before base_: the use of its descriptor ends first
  fdk_dir *dir_;
  std::string path_;
  const char *what_;
  DirBase base_;
  Span span_;
};

// A call on the last component of a path, made on its parent (see the top of this file).
class LastComponentOp : public DirOp {
 public:
  using DirOp::DirOp;
  ~LastComponentOp() override {
    if (parent_ >= 0) close(parent_);
  }

  // kNotServed when the path is not one to split here.
  int start(fdk_op **out) {
    if (base_.acquire(dir_, what_) < 0 || !kernel_confines(base_) || !split()) return kNotServed;
    begin(out);
    if (parent_path_.empty()) {
      issue_main(base_.raw);
      return 0;
    }
    io_uring_sqe *sqe = next_sqe();
    if (!sqe) {
      continue_on_pool();
      return 0;
    }
    how_.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how_.resolve = kConfinedResolve;
    io_uring_prep_openat2(sqe, base_.raw, parent_path_.c_str(), &how_);
    queued();
    return 0;
  }

  void on_cqe(int res) override {
    if (!main_) {
      if (res >= 0) parent_ = res;
      if (cancelled_) complete_cancelled();
      else if (res == -EAGAIN) continue_on_pool();  // a rename raced with "..": the pool retries, then walks
      else if (res < 0) fail_path(res);
      else issue_main(parent_);
      return;
    }
    if (cancelled_) complete_cancelled();
    else finish(res);
  }

 protected:
  // Fills sqe with the call on name beneath dirfd.
  virtual void prepare(io_uring_sqe *sqe, int dirfd, const char *name) = 0;
  // The call's answer (not cancelled).
  virtual void finish(int res) { res < 0 ? fail_path(res) : op_complete(this, res); }

 private:
  // Unconfined: the kernel walks the whole path, as the synchronous call lets it.
  // Confined: a parent part (opened beneath the base) and a plain last name.
  bool split() {
    if (!base_.confined) {
      name_ = path_.empty() ? "." : path_.c_str();
      return true;
    }
    size_t len = path_.size();
    if (len == 0 || len >= PATH_MAX || path_.back() == '/') return false;
    size_t slash = path_.rfind('/');
    size_t start = slash == std::string::npos ? 0 : slash + 1;
    name_ = path_.c_str() + start;
    if (len - start > NAME_MAX || strcmp(name_, ".") == 0 || strcmp(name_, "..") == 0) return false;
    parent_path_.assign(path_, 0, start);
    return true;
  }

  void issue_main(int dirfd) {
    main_ = true;
    io_uring_sqe *sqe = next_sqe();
    if (!sqe) {
      continue_on_pool();
      return;
    }
    prepare(sqe, dirfd, name_);
    queued();
  }

  std::string parent_path_;
  const char *name_ = nullptr;
  open_how how_{};
  int parent_ = -1;
  bool main_ = false;
};

class ResultOp : public LastComponentOp {
 public:
  ResultOp(fdk_loop *l, fdk_dir *dir, const char *path, const char *what, fdk_result_cb cb, void *data)
      : LastComponentOp(l, dir, path, what), cb_(cb), data_(data) {}

 protected:
  void deliver_result(int64_t result) override { cb_(result, data_); }

 private:
  fdk_result_cb cb_;
  void *data_;
};

class MkdirOp final : public ResultOp {
 public:
  MkdirOp(fdk_loop *l, fdk_dir *dir, const char *path, mode_t mode, fdk_result_cb cb, void *data)
      : ResultOp(l, dir, path, "mkdirat", cb, data), mode_(mode) {}

 private:
  void prepare(io_uring_sqe *sqe, int dirfd, const char *name) override {
    io_uring_prep_mkdirat(sqe, dirfd, name, mode_);
  }
  int64_t run_blocking() override { return mkdirat(dir_, path_.c_str(), mode_); }
  mode_t mode_;
};

class UnlinkOp final : public ResultOp {
 public:
  UnlinkOp(fdk_loop *l, fdk_dir *dir, const char *path, bool remove_dir, fdk_result_cb cb, void *data)
      : ResultOp(l, dir, path, remove_dir ? "rmdirat" : "unlinkat", cb, data), remove_dir_(remove_dir) {}

 private:
  void prepare(io_uring_sqe *sqe, int dirfd, const char *name) override {
    io_uring_prep_unlinkat(sqe, dirfd, name, remove_dir_ ? AT_REMOVEDIR : 0);
  }
  int64_t run_blocking() override {
    return remove_dir_ ? rmdirat(dir_, path_.c_str()) : unlinkat(dir_, path_.c_str());
  }
  bool remove_dir_;
};

// statat: a statx of the last name without following; a symlink found there, when the
// call follows, is resolved whole on the pool (confined), as the synchronous call does.
class StatOp final : public ResultOp {
 public:
  StatOp(fdk_loop *l, fdk_stat *st, fdk_dir *dir, const char *path, bool follow, fdk_result_cb cb, void *data)
      : ResultOp(l, dir, path, "statat", cb, data), st_(st), follow_(follow) {}

 private:
  void prepare(io_uring_sqe *sqe, int dirfd, const char *name) override {
    bool nofollow = base_.confined || !follow_;
    io_uring_prep_statx(sqe, dirfd, name, nofollow ? AT_SYMLINK_NOFOLLOW : 0, kStatxMask, &sx_);
  }
  void finish(int res) override {
    if (res < 0) return fail_path(res);
    if (base_.confined && follow_ && S_ISLNK(sx_.stx_mode)) return continue_on_pool();
    op_complete(this, 0);
  }
  int64_t run_blocking() override { return statat(&sx_, dir_, path_.c_str(), follow_); }
  void deliver_result(int64_t result) override {
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

  int start(fdk_op **out) {
    if (base_.acquire(dir_, what_) < 0 || !kernel_confines(base_) || path_.size() >= PATH_MAX) return kNotServed;
    begin(out);
    io_uring_sqe *sqe = next_sqe();
    if (!sqe) {
      continue_on_pool();
      return 0;
    }
    how_.flags = static_cast<uint64_t>(result_.oflags);
    how_.mode = creates(result_.oflags) ? mode_ : 0;
    how_.resolve = base_.confined ? kConfinedResolve : 0;
    io_uring_prep_openat2(sqe, base_.raw, path_.empty() ? "." : path_.c_str(), &how_);
    queued();
    return 0;
  }

  void on_cqe(int res) override {
    if (cancelled_) {
      if (res >= 0) close(res);
      complete_cancelled();
    } else if (res == -EAGAIN && base_.confined) {
      continue_on_pool();  // a rename raced with "..": the pool retries, then walks
    } else if (res < 0) {
      fail_path(res);
    } else {
      op_complete(this, res);
    }
  }

 private:
  int64_t run_blocking() override { return openat_raw(dir_, path_.c_str(), result_.oflags, mode_); }
  void discard(int64_t r) override { close(static_cast<int>(r)); }
  void deliver_result(int64_t result) override { result_.deliver(result); }

  OpenResult result_;
  mode_t mode_;
  open_how how_{};
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
  if (r == kNotServed) delete op;
  return r;
}

}  // namespace

int uring_openat(fdk_loop *loop, fdk_dir *dir, const char *path, int oflags, mode_t mode, fdk_open_cb cb, void *data,
                 fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_OPENAT2)) return kNotServed;
  return start_or_drop(new OpenOp(loop, dir, path, oflags, mode, cb, data), op);
}

int uring_statat(fdk_loop *loop, fdk_stat *st, fdk_dir *dir, const char *path, bool follow, fdk_result_cb cb,
                 void *data, fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_STATX) || !ring_serves(loop, IORING_OP_OPENAT2)) return kNotServed;
  return start_or_drop(new StatOp(loop, st, dir, path, follow, cb, data), op);
}

int uring_fstat(fdk_loop *loop, fdk_stat *st, fdk_fd *fd, fdk_result_cb cb, void *data, fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_STATX)) return kNotServed;
  return start_or_drop(new FstatOp(loop, st, fd, cb, data), op);
}

int uring_mkdirat(fdk_loop *loop, fdk_dir *dir, const char *path, mode_t mode, fdk_result_cb cb, void *data,
                  fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_MKDIRAT) || !ring_serves(loop, IORING_OP_OPENAT2)) return kNotServed;
  return start_or_drop(new MkdirOp(loop, dir, path, mode, cb, data), op);
}

int uring_unlinkat(fdk_loop *loop, fdk_dir *dir, const char *path, bool remove_dir, fdk_result_cb cb, void *data,
                   fdk_op **op) {
  if (!ring_serves(loop, IORING_OP_UNLINKAT) || !ring_serves(loop, IORING_OP_OPENAT2)) return kNotServed;
  return start_or_drop(new UnlinkOp(loop, dir, path, remove_dir, cb, data), op);
}

#endif

}  // namespace fdk
