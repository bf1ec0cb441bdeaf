/* SPDX-License-Identifier: MIT */
// The boundary of every asynchronous entry point: after the call's own argument checks, a
// loop and a callback, then the body under guard.
#pragma once

#include <utility>

#include "core/guard.h"
#include "loop/loop.h"

namespace fdk {

// A loop to run on, made by this process, and a callback to call. In a forked child the
// loop's descriptors are the parent's, so the call answers -ECHILD and touches none of them.
// Inline: a re-armed read's whole start is a few dozen instructions.
template <class Callback>
[[gnu::always_inline]] inline int check_async(const char *what, const fdk_loop *loop, Callback cb) {
  if (!loop || !cb) return fail(-EINVAL, "%s: loop or callback is NULL", what);
  return loop_forked(loop) ? fail_forked(what) : 0;
}

// The rest of an asynchronous entry point: check_async, then body under guard.
template <class Callback, class Body>
int guard_async(const char *what, const fdk_loop *loop, Callback cb, Body &&body) noexcept {
  if (int r = check_async(what, loop, cb)) return r;
  return guard(what, std::forward<Body>(body));
}

}  // namespace fdk
