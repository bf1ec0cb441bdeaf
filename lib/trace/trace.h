/* SPDX-License-Identifier: MIT */
// Trace spans: a begin and an end event per operation, to the installed hooks and, where
// built with sys/sdt.h, to the USDT probes fdkit:op__begin / fdkit:op__end.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include "core/guard.h"
#include "fdkit/trace.h"

#ifndef FDK_TRACING
#define FDK_TRACING 1
#endif

namespace fdk {

struct TraceHook {
  fdk_trace_cb cb;
  void *data;
};

#if FDK_TRACING
// Installed hooks, process-wide and per loop.
extern std::atomic<int> g_trace_hooks;
}  // namespace fdk
#if FDK_HAVE_SDT
// USDT semaphores: perf and bpftrace raise them while a probe is attached.
extern "C" unsigned short fdkit_op__begin_semaphore, fdkit_op__end_semaphore;
#define FDK_PROBES_ATTACHED() (fdkit_op__begin_semaphore | fdkit_op__end_semaphore)
#else
#define FDK_PROBES_ATTACHED() 0
#endif
namespace fdk {
// True while a hook is installed or a probe attached: the one branch an operation pays
// when nobody listens.
inline bool trace_listening() {
  return __builtin_expect((g_trace_hooks.load(std::memory_order_relaxed) | FDK_PROBES_ATTACHED()) != 0, 0);
}
#else
inline bool trace_listening() { return false; }
#endif

class Span {
 public:
  Span() = default;
  Span(const Span &) = delete;
  Span &operator=(const Span &) = delete;
  ~Span() { delete open_; }

  // Starts the span if anyone listens. loop is the loop an async operation runs on
  // (its hook sees the span too), or null.
  void begin(const char *name, int fd, const char *path, fdk_loop *loop = nullptr) {
    if (trace_listening()) begin_slow(name, fd, path, loop);
  }
  // Whether the span began (somebody listened) and has not ended.
  bool open() const { return open_ != nullptr; }
  // Ends a span that began; detail adds facts to the end event.
  void end(int64_t result, const char *detail = nullptr) {
    if (open_) end_slow(result, detail);
  }

 private:
  // What an open span reports at its end. Kept out of line, allocated only while somebody
  // listens, so every pending operation carries one pointer rather than the record.
  struct Open {
    const char *name;
    const char *path;
    fdk_loop *loop;
    uint64_t id;
    int64_t start_ns;
    int fd;
  };
  [[gnu::cold]] void begin_slow(const char *name, int fd, const char *path, fdk_loop *loop);
  [[gnu::cold]] void end_slow(int64_t result, const char *detail);

  Open *open_ = nullptr;
};

// A synchronous call of the C API as one span around guard(): fd and path name what it
// works on (-1 / NULL when nothing).
template <class Body>
auto traced(const char *what, int fd, const char *path, Body &&body) noexcept -> decltype(body()) {
  Span span;
  span.begin(what, fd, path);
  auto r = guard(what, std::forward<Body>(body));
  span.end(r);
  return r;
}

// Body of fdk_trace_set.
int trace_set(fdk_loop *loop, fdk_trace_cb cb, void *data);

// Removes a loop's hook (fdk_loop_free), waiting until no call of it runs.
void trace_drop_loop_hook(fdk_loop *loop);

// True while the calling thread runs a trace hook.
bool trace_in_hook();

}  // namespace fdk
