// SPDX-License-Identifier: MIT
// Cross-thread loop handles. Every remote of one loop shares a single anchor: the loop holds
// one reference to it and clears its loop pointer when fdk_loop_free begins, so a thread that
// posts through the anchor afterwards gets -ESHUTDOWN instead of touching freed memory.
#include "loop/remote.h"

#include "core/error.h"

struct fdk_loop_remote {
  std::mutex mu;             // held across a post, so the loop cannot be detached mid-post
  fdk_loop *loop = nullptr;  // nullptr once the loop's free began
  std::atomic<int> refs{1};  // the loop's own reference
};

namespace fdk {

int remote_create(fdk_loop_remote **out, fdk_loop *loop) {
  std::lock_guard<std::mutex> lock(loop->post_mu);
  if (loop->remote_shut) return fail(-ESHUTDOWN, "loop_remote_new: the loop is being freed");
  if (!loop->remote) {
    loop->remote = new fdk_loop_remote;
    loop->remote->loop = loop;
  }
  loop->remote->refs.fetch_add(1, std::memory_order_relaxed);
  *out = loop->remote;
  return 0;
}

int remote_post(fdk_loop_remote *remote, fdk_post_fn fn, void *data) {
  std::lock_guard<std::mutex> lock(remote->mu);
  if (!remote->loop) return fail(-ESHUTDOWN, "loop_remote_post: the loop was freed");
  post(remote->loop, fn, data);
  return 0;
}

void remote_ref(fdk_loop_remote *remote) { remote->refs.fetch_add(1, std::memory_order_relaxed); }

void remote_unref(fdk_loop_remote *remote) {
  if (remote->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete remote;
}

void remote_detach_loop(fdk_loop *loop) {
  fdk_loop_remote *remote;
  {
    std::lock_guard<std::mutex> lock(loop->post_mu);
    loop->remote_shut = true;
    remote = loop->remote;
    loop->remote = nullptr;
  }
  if (!remote) return;
  {
    // Waits for a post in progress; every later one sees nullptr.
    std::lock_guard<std::mutex> lock(remote->mu);
    remote->loop = nullptr;
  }
  remote_unref(remote);
}

}  // namespace fdk
