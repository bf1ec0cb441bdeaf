// SPDX-License-Identifier: MIT
// extern "C" entry point of fdkit/trace.h.
#include "core/guard.h"
#include "trace/trace.h"

extern "C" FDK_API int fdk_trace_set(fdk_loop *loop, fdk_trace_cb cb, void *data) {
  return fdk::guard("trace_set", [&] { return fdk::trace_set(loop, cb, data); });
}
