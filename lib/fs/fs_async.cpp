// SPDX-License-Identifier: MIT
// Asynchronous forms of the file-system calls: open tries the inline and io_uring engines
// first (fs/engine.h), stat, mkdir, unlink, rmdir, rename, link and symlink io_uring only
// where it is forced (io/uring.h, ring_takes_worker_calls); otherwise the synchronous body
// runs on fdkit's worker pool with copies of the arguments and a reference on each dir
// handle.
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "fd/fd.h"
#include "fs/engine.h"
#include "fs/fs_async.h"
#include "loop/work.h"

namespace fdk {

namespace {


// A call whose whole result is its integer.
template <class Fn>
struct ResultTask {
  Fn fn;
  fdk_result_cb cb;
  void *data;
  int64_t run() { return fn(); }
  void deliver(int64_t r) const { cb(r, data); }
  void discard(int64_t) const {}
};

template <class Fn>
int start_result(fdk_loop *loop, Fn &&fn, fdk_result_cb cb, void *data, fdk_op **op, const char *what) {
  return start_work(loop, ResultTask<std::decay_t<Fn>>{std::forward<Fn>(fn), cb, data}, op, what);
}

void release(char *text) { free(text); }
void release(fdk_dirents *list) { delete list; }
void release(fdk_dir *dir) { dir_unref(dir); }

// A call that produces something the callback then owns (a dir handle, a text buffer,
// an entry list); a cancelled run releases it.
template <class Out, class Fn, class Cb>
struct ProduceTask {
  Fn fn;
  Cb cb;
  void *data;
  Out out = nullptr;
  int64_t run() { return fn(&out); }
  void deliver(int64_t r) { cb(r, r >= 0 ? std::exchange(out, nullptr) : nullptr, data); }
  void discard(int64_t) { release(std::exchange(out, nullptr)); }
};

template <class Out, class Fn, class Cb>
int start_produce(fdk_loop *loop, Fn &&fn, Cb cb, void *data, fdk_op **op, const char *what) {
  return start_work(loop, ProduceTask<Out, std::decay_t<Fn>, Cb>{std::forward<Fn>(fn), cb, data}, op, what);
}

struct OpenTask {
  DirRef dir;
  std::string path;
  int oflags;
  mode_t mode;
  OpenResult result;
  int64_t run() { return openat_raw(dir.get(), path.c_str(), oflags, mode); }
  void deliver(int64_t r) const { result.deliver(r); }
  void discard(int64_t r) const { close(static_cast<int>(r)); }
  const char *trace_path() const { return path.c_str(); }
};

// The filled statx is copied into the caller's fdk_stat on the loop thread.
template <class Fn>
struct StatTask {
  fdk_stat *st;
  Fn fn;
  fdk_result_cb cb;
  void *data;
  struct statx sx {};
  int64_t run() { return fn(&sx); }
  void deliver(int64_t r) const {
    if (r >= 0) st->sx = sx;
    cb(r, data);
  }
  void discard(int64_t) const {}
};

// The worker pool's side of the calls the engines did not take, kept out of their hot text
// (core/hot.h): a call that io_uring serves never runs it.
[[gnu::noinline]] int openat_on_pool(fdk_loop *loop, fdk_dir *dir, const char *path, int oflags, mode_t mode,
                                     fdk_open_cb cb, void *data, fdk_op **op) {
  return start_work(loop, OpenTask{DirRef(dir), path, oflags, mode, {oflags, cb, data}}, op, "openat");
}

[[gnu::noinline]] int mkdirat_on_pool(fdk_loop *loop, fdk_dir *dir, const char *path, mode_t mode, fdk_result_cb cb,
                                      void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path), mode] { return mkdirat(d.get(), p.c_str(), mode); };
  return start_result(loop, std::move(fn), cb, data, op, "mkdirat");
}

// unlinkat, or rmdirat when remove_dir is set.
[[gnu::noinline]] int unlinkat_on_pool(fdk_loop *loop, fdk_dir *dir, const char *path, bool remove_dir,
                                       fdk_result_cb cb, void *data, fdk_op **op) {
  if (remove_dir) {
    auto fn = [d = DirRef(dir), p = std::string(path)] { return rmdirat(d.get(), p.c_str()); };
    return start_result(loop, std::move(fn), cb, data, op, "rmdirat");
  }
  auto fn = [d = DirRef(dir), p = std::string(path)] { return unlinkat(d.get(), p.c_str()); };
  return start_result(loop, std::move(fn), cb, data, op, "unlinkat");
}

[[gnu::noinline]] int fstat_on_pool(fdk_loop *loop, fdk_stat *st, fdk_fd *fd, fdk_result_cb cb, void *data,
                                    fdk_op **op) {
  auto fn = [f = FdRef(fd)](struct statx *sx) { return fstat(sx, f.get()); };
  return start_work(loop, StatTask<decltype(fn)>{st, std::move(fn), cb, data}, op, "fstat");
}

[[gnu::noinline]] int statat_on_pool(fdk_loop *loop, fdk_stat *st, fdk_dir *dir, const char *path, bool follow,
                                     fdk_result_cb cb, void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path), follow](struct statx *sx) {
    return statat(sx, d.get(), p.c_str(), follow);
  };
  return start_work(loop, StatTask<decltype(fn)>{st, std::move(fn), cb, data}, op, "statat");
}

}  // namespace

int dir_open_async(fdk_loop *loop, fdk_dir *base, const char *path, fdk_dir_cb cb, void *data, fdk_op **op) {
  auto fn = [dir = DirRef(base), p = std::string(path)](fdk_dir **out) { return dir_open(out, dir.get(), p.c_str()); };
  return start_produce<fdk_dir *>(loop, std::move(fn), cb, data, op, "dir_open");
}

FDK_ASYNC_HOT int openat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned flags, mode_t mode, fdk_open_cb cb,
                 void *data, fdk_op **op) {
  int oflags;
  if (int r = open_flags_to_os(flags, &oflags)) return r;
  FsEngine engine = fs_engine();
  if (inline_open_first(loop, engine)) {
    if (int r = inline_openat(loop, dir, path, oflags, cb, data, op); r != kNotServed) return r;
  }
  if (engine_tries_uring(engine)) {
    if (int r = uring_openat(loop, dir, path, oflags, mode, cb, data, op); r != kNotServed) return r;
  }
  return openat_on_pool(loop, dir, path, oflags, mode, cb, data, op);
}

FDK_ASYNC_HOT int mkdirat_async(fdk_loop *loop, fdk_dir *dir, const char *path, mode_t mode, fdk_result_cb cb, void *data,
                  fdk_op **op) {
  if (ring_takes_worker_calls(fs_engine())) {
    if (int r = uring_mkdirat(loop, dir, path, mode, cb, data, op); r != kNotServed) return r;
  }
  return mkdirat_on_pool(loop, dir, path, mode, cb, data, op);
}

FDK_ASYNC_HOT int unlinkat_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data, fdk_op **op) {
  if (ring_takes_worker_calls(fs_engine())) {
    if (int r = uring_unlinkat(loop, dir, path, false, cb, data, op); r != kNotServed) return r;
  }
  return unlinkat_on_pool(loop, dir, path, false, cb, data, op);
}

FDK_ASYNC_HOT int rmdirat_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data, fdk_op **op) {
  if (ring_takes_worker_calls(fs_engine())) {
    if (int r = uring_unlinkat(loop, dir, path, true, cb, data, op); r != kNotServed) return r;
  }
  return unlinkat_on_pool(loop, dir, path, true, cb, data, op);
}

int renameat2_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                    unsigned flags, fdk_result_cb cb, void *data, fdk_op **op) {
  if (ring_takes_worker_calls(fs_engine())) {
    if (int r = uring_renameat2(loop, old_dir, old_path, new_dir, new_path, flags, cb, data, op); r != kNotServed) return r;
  }
  auto fn = [od = DirRef(old_dir), op_ = std::string(old_path), nd = DirRef(new_dir), np = std::string(new_path),
             flags] { return renameat2(od.get(), op_.c_str(), nd.get(), np.c_str(), flags); };
  return start_result(loop, std::move(fn), cb, data, op, "renameat");
}

int symlinkat_async(fdk_loop *loop, const char *target, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data,
                    fdk_op **op) {
  if (ring_takes_worker_calls(fs_engine())) {
    if (int r = uring_symlinkat(loop, target, dir, path, cb, data, op); r != kNotServed) return r;
  }
  auto fn = [t = std::string(target), d = DirRef(dir), p = std::string(path)] {
    return symlinkat(t.c_str(), d.get(), p.c_str());
  };
  return start_result(loop, std::move(fn), cb, data, op, "symlinkat");
}

int linkat_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                 fdk_result_cb cb, void *data, fdk_op **op) {
  if (ring_takes_worker_calls(fs_engine())) {
    if (int r = uring_linkat(loop, old_dir, old_path, new_dir, new_path, cb, data, op); r != kNotServed) return r;
  }
  auto fn = [od = DirRef(old_dir), op_ = std::string(old_path), nd = DirRef(new_dir), np = std::string(new_path)] {
    return linkat(od.get(), op_.c_str(), nd.get(), np.c_str());
  };
  return start_result(loop, std::move(fn), cb, data, op, "linkat");
}

int readlinkat_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_text_cb cb, void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path)](char **out) { return readlinkat(out, d.get(), p.c_str()); };
  return start_produce<char *>(loop, std::move(fn), cb, data, op, "readlinkat");
}

int chmodat_async(fdk_loop *loop, fdk_dir *dir, const char *path, mode_t mode, bool follow, fdk_result_cb cb,
                  void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path), mode, follow] { return chmodat(d.get(), p.c_str(), mode, follow); };
  return start_result(loop, std::move(fn), cb, data, op, "chmodat");
}

int chownat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int64_t uid, int64_t gid, bool follow,
                  fdk_result_cb cb, void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path), uid, gid, follow] {
    return chownat(d.get(), p.c_str(), uid, gid, follow);
  };
  return start_result(loop, std::move(fn), cb, data, op, "chownat");
}

int utimensat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const struct timespec times[2], bool follow,
                    fdk_result_cb cb, void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path), a = times[0], m = times[1], follow] {
    const struct timespec ts[2] = {a, m};
    return utimensat(d.get(), p.c_str(), ts, follow);
  };
  return start_result(loop, std::move(fn), cb, data, op, "utimensat");
}

FDK_ASYNC_HOT int fstat_async(fdk_loop *loop, fdk_stat *st, fdk_fd *fd, fdk_result_cb cb, void *data, fdk_op **op) {
  if (ring_takes_worker_calls(fs_engine())) {
    if (int r = uring_fstat(loop, st, fd, cb, data, op); r != kNotServed) return r;
  }
  return fstat_on_pool(loop, st, fd, cb, data, op);
}

FDK_ASYNC_HOT int statat_async(fdk_loop *loop, fdk_stat *st, fdk_dir *dir, const char *path, bool follow, fdk_result_cb cb,
                 void *data, fdk_op **op) {
  if (ring_takes_worker_calls(fs_engine())) {
    if (int r = uring_statat(loop, st, dir, path, follow, cb, data, op); r != kNotServed) return r;
  }
  return statat_on_pool(loop, st, dir, path, follow, cb, data, op);
}

int readdir_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_dirents_cb cb, void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path)](fdk_dirents **out) { return readdir(out, d.get(), p.c_str()); };
  return start_produce<fdk_dirents *>(loop, std::move(fn), cb, data, op, "readdir");
}

int realpath_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_text_cb cb, void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path)](char **out) { return realpath(out, d.get(), p.c_str()); };
  return start_produce<char *>(loop, std::move(fn), cb, data, op, "realpath");
}

int dir_open2_async(fdk_loop *loop, fdk_dir *base, const char *path, unsigned flags, fdk_dir_cb cb, void *data,
                    fdk_op **op) {
  auto fn = [dir = DirRef(base), p = std::string(path), flags](fdk_dir **out) {
    return dir_open(out, dir.get(), p.c_str(), flags);
  };
  return start_produce<fdk_dir *>(loop, std::move(fn), cb, data, op, "dir_open");
}

int linkat2_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                  bool follow, fdk_result_cb cb, void *data, fdk_op **op) {
  if (!follow && ring_takes_worker_calls(fs_engine())) {
    if (int r = uring_linkat(loop, old_dir, old_path, new_dir, new_path, cb, data, op); r != kNotServed) return r;
  }
  auto fn = [od = DirRef(old_dir), op_ = std::string(old_path), nd = DirRef(new_dir), np = std::string(new_path),
             follow] { return linkat(od.get(), op_.c_str(), nd.get(), np.c_str(), follow); };
  return start_result(loop, std::move(fn), cb, data, op, "linkat");
}

int linkat_fd_async(fdk_loop *loop, fdk_fd *fd, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data,
                    fdk_op **op) {
  auto fn = [f = FdRef(fd), d = DirRef(dir), p = std::string(path)] { return linkat_fd(f.get(), d.get(), p.c_str()); };
  return start_result(loop, std::move(fn), cb, data, op, "linkat_fd");
}

int mknodat_async(fdk_loop *loop, fdk_dir *dir, const char *path, mode_t mode, dev_t dev, fdk_result_cb cb,
                  void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path), mode, dev] { return mknodat(d.get(), p.c_str(), mode, dev); };
  return start_result(loop, std::move(fn), cb, data, op, "mknodat");
}

int truncateat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int64_t length, fdk_result_cb cb, void *data,
                     fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path), length] { return truncateat(d.get(), p.c_str(), length); };
  return start_result(loop, std::move(fn), cb, data, op, "truncateat");
}

int faccessat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int mode, bool follow, bool effective,
                    fdk_result_cb cb, void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path), mode, follow, effective] {
    return faccessat(d.get(), p.c_str(), mode, follow, effective);
  };
  return start_result(loop, std::move(fn), cb, data, op, "faccessat");
}

int getxattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const char *name, bool follow, fdk_text_cb cb,
                     void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path), n = std::string(name), follow](char **out) {
    return getxattrat(out, d.get(), p.c_str(), n.c_str(), follow);
  };
  return start_produce<char *>(loop, std::move(fn), cb, data, op, "getxattrat");
}

int setxattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const char *name, const void *value,
                     size_t size, int xflags, bool follow, fdk_result_cb cb, void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path), n = std::string(name),
             v = std::string(static_cast<const char *>(value), value ? size : 0), xflags, follow] {
    return setxattrat(d.get(), p.c_str(), n.c_str(), v.data(), v.size(), xflags, follow);
  };
  return start_result(loop, std::move(fn), cb, data, op, "setxattrat");
}

int listxattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, bool follow, fdk_text_cb cb, void *data,
                      fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path), follow](char **out) {
    return listxattrat(out, d.get(), p.c_str(), follow);
  };
  return start_produce<char *>(loop, std::move(fn), cb, data, op, "listxattrat");
}

int removexattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const char *name, bool follow,
                        fdk_result_cb cb, void *data, fdk_op **op) {
  auto fn = [d = DirRef(dir), p = std::string(path), n = std::string(name), follow] {
    return removexattrat(d.get(), p.c_str(), n.c_str(), follow);
  };
  return start_result(loop, std::move(fn), cb, data, op, "removexattrat");
}

}  // namespace fdk
