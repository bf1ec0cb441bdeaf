/* SPDX-License-Identifier: MIT */
// The inline and io_uring engines of the asynchronous file-system calls. Each starter
// answers kNotServed when the call is not one its engine can make exactly as the
// synchronous call does; the next engine (at last the worker pool) then takes it.
#pragma once

#include <utility>

#include "fd/fd.h"
#include "fs/fs.h"
#include "io/uring.h"

namespace fdk {

// A reference on a handle for as long as an asynchronous call lives.
template <class T, T *(*Ref)(T *), T *(*Unref)(T *)>
class Held {
 public:
  explicit Held(T *handle) : handle_(Ref(handle)) {}
  Held(Held &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Held(const Held &) = delete;
  Held &operator=(const Held &) = delete;
  ~Held() { Unref(handle_); }
  T *get() const { return handle_; }

 private:
  T *handle_;
};

using DirRef = Held<fdk_dir, dir_ref, dir_unref>;
using FdRef = Held<fdk_fd, fd_ref, fd_unref>;

// What an open delivers: a handle for the new descriptor (the callback owns it).
struct OpenResult {
  int oflags;
  fdk_open_cb cb;
  void *data;
  void deliver(int64_t r) const;
};

// openat2 with RESOLVE_CACHED (the lookup fails rather than wait), plus O_NONBLOCK so that
// the open itself does not wait either (a FIFO's other end, a device).
int inline_openat(fdk_loop *loop, fdk_dir *dir, const char *path, int oflags, fdk_open_cb cb, void *data,
                  fdk_op **op);

int uring_openat(fdk_loop *loop, fdk_dir *dir, const char *path, int oflags, mode_t mode, fdk_open_cb cb, void *data,
                 fdk_op **op);
int uring_statat(fdk_loop *loop, fdk_stat *st, fdk_dir *dir, const char *path, bool follow, fdk_result_cb cb,
                 void *data, fdk_op **op);
int uring_fstat(fdk_loop *loop, fdk_stat *st, fdk_fd *fd, fdk_result_cb cb, void *data, fdk_op **op);
int uring_mkdirat(fdk_loop *loop, fdk_dir *dir, const char *path, mode_t mode, fdk_result_cb cb, void *data,
                  fdk_op **op);
// unlinkat, or rmdirat when remove_dir is set.
int uring_unlinkat(fdk_loop *loop, fdk_dir *dir, const char *path, bool remove_dir, fdk_result_cb cb, void *data,
                   fdk_op **op);
int uring_renameat2(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                    unsigned flags, fdk_result_cb cb, void *data, fdk_op **op);
// A link that does not follow a last symlink in old_path.
int uring_linkat(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                 fdk_result_cb cb, void *data, fdk_op **op);
int uring_symlinkat(fdk_loop *loop, const char *target, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data,
                    fdk_op **op);

}  // namespace fdk
