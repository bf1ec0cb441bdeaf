/* SPDX-License-Identifier: MIT */
// The boundary rule: no C++ exception ever leaves an extern "C" entry point.
#pragma once

#include <new>

#include "core/error.h"
#include "fdkit/common.h"

namespace fdk {

// Runs body and converts any exception into a negative errno with a detail.
// body returns an integer result (int, ssize_t, int64_t).
template <class Body>
auto guard(const char *what, Body &&body) noexcept -> decltype(body()) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return fail(-ENOMEM, "%s: out of memory", what);
  } catch (...) {
    return fail(-EIO, "%s: internal error", what);
  }
}

}  // namespace fdk
