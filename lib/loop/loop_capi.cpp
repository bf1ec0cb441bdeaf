// SPDX-License-Identifier: MIT
// extern "C" entry points of fdkit/loop.h and fdkit/uv.h.
#include "core/guard.h"
#include "fdkit/uv.h"
#include "loop/loop.h"
#include "loop/remote.h"

using fdk::fail;
using fdk::guard;

extern "C" {

FDK_API int fdk_loop_new(fdk_loop **out) {
  if (!out) return fail(-EINVAL, "loop_new: out is NULL");
  return guard("loop_new", [&] { return fdk::loop_create(out, nullptr); });
}

FDK_API int fdk_loop_new_from_uv(fdk_loop **out, uv_loop_t *uv) {
  if (!out || !uv) return fail(-EINVAL, "loop_new_from_uv: NULL argument");
  return guard("loop_new_from_uv", [&] { return fdk::loop_create(out, uv); });
}

FDK_API int fdk_loop_free(fdk_loop *loop) {
  if (!loop) return 0;
  if (fdk::loop_forked(loop)) {
    fdk::loop_abandon(loop);
    return 0;
  }
  return guard("loop_free", [&] { return fdk::loop_destroy(loop); });
}

FDK_API int fdk_loop_run(fdk_loop *loop, int mode) {
  if (!loop) return fail(-EINVAL, "loop_run: loop is NULL");
  if (mode != FDK_RUN_DEFAULT && mode != FDK_RUN_ONCE && mode != FDK_RUN_NOWAIT)
    return fail(-EINVAL, "loop_run: unknown mode %d", mode);
  if (fdk::loop_forked(loop)) return fdk::fail_forked("loop_run");
  return guard("loop_run", [&] { return fdk::loop_run(loop, mode); });
}

FDK_API void fdk_loop_stop(fdk_loop *loop) {
  if (loop) fdk::loop_stop(loop);
}

FDK_API int fdk_loop_backend_fd(fdk_loop *loop) {
  if (!loop) return fail(-EINVAL, "loop_backend_fd: loop is NULL");
  if (fdk::loop_forked(loop)) return fdk::fail_forked("loop_backend_fd");
  return fdk::loop_backend_fd(loop);
}

FDK_API int fdk_loop_backend_timeout(fdk_loop *loop) {
  if (!loop) return fail(-EINVAL, "loop_backend_timeout: loop is NULL");
  if (fdk::loop_forked(loop)) return fdk::fail_forked("loop_backend_timeout");
  return fdk::loop_backend_timeout(loop);
}

FDK_API int fdk_loop_post(fdk_loop *loop, fdk_post_fn fn, void *data) {
  if (!loop || !fn) return fail(-EINVAL, "loop_post: NULL argument");
  if (fdk::loop_forked(loop)) return fdk::fail_forked("loop_post");
  return guard("loop_post", [&] {
    fdk::post(loop, fn, data);
    return 0;
  });
}

FDK_API uv_loop_t *fdk_loop_uv(fdk_loop *loop) {
  if (!loop) return nullptr;
  // Whoever has the libuv loop may run it or wait on its backend descriptor (a forked
  // child's copy is never woken: its descriptors are the parent's).
  if (!fdk::loop_forked(loop)) fdk::loop_backend_fd(loop);
  return loop->uv;
}

FDK_API int fdk_op_cancel(fdk_op *op) {
  if (!op) return fail(-EINVAL, "op_cancel: op is NULL");
  return guard("op_cancel", [&] { return fdk::op_cancel(op); });
}

FDK_API int fdk_loop_remote_new(fdk_loop_remote **out, fdk_loop *loop) {
  if (!out || !loop) return fail(-EINVAL, "loop_remote_new: NULL argument");
  return guard("loop_remote_new", [&] { return fdk::remote_create(out, loop); });
}

FDK_API int fdk_loop_remote_post(fdk_loop_remote *remote, fdk_post_fn fn, void *data) {
  if (!remote || !fn) return fail(-EINVAL, "loop_remote_post: NULL argument");
  return guard("loop_remote_post", [&] { return fdk::remote_post(remote, fn, data); });
}

FDK_API fdk_loop_remote *fdk_loop_remote_ref(fdk_loop_remote *remote) {
  if (remote) fdk::remote_ref(remote);
  return remote;
}

FDK_API fdk_loop_remote *fdk_loop_remote_unref(fdk_loop_remote *remote) {
  if (remote) fdk::remote_unref(remote);
  return nullptr;
}

}  // extern "C"
