/* SPDX-License-Identifier: MIT */
// fdk_loop_remote: a reference-counted handle through which any thread may post to a loop
// that its own thread may free at any time.
#pragma once

#include "loop/loop.h"

namespace fdk {
int remote_create(fdk_loop_remote **out, fdk_loop *loop);
int remote_post(fdk_loop_remote *remote, fdk_post_fn fn, void *data);
void remote_ref(fdk_loop_remote *remote);
void remote_unref(fdk_loop_remote *remote);
// Called by fdk_loop_free once it will go through: later posts and creations fail with
// -ESHUTDOWN; a post already in progress finishes first (and runs during the free).
void remote_detach_loop(fdk_loop *loop);
}  // namespace fdk
