// SPDX-License-Identifier: MIT
#include "trace/trace.h"

#include <sched.h>
#include <unistd.h>

#include <mutex>
#include <new>

#include "core/error.h"
#include "core/hot.h"
#include "io/ops.h"
#include "loop/loop.h"

#if FDK_HAVE_SDT
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
extern "C" {
__extension__ unsigned short fdkit_op__begin_semaphore __attribute__((unused, section(".probes")));
__extension__ unsigned short fdkit_op__end_semaphore __attribute__((unused, section(".probes")));
}
#define FDK_PROBE_BEGIN(name, fd, path, id) STAP_PROBE4(fdkit, op__begin, name, fd, path, id)
#define FDK_PROBE_END(name, fd, id, result, dur) STAP_PROBE5(fdkit, op__end, name, fd, id, result, dur)
#else
#define FDK_PROBE_BEGIN(name, fd, path, id)
#define FDK_PROBE_END(name, fd, id, result, dur)
#endif

namespace fdk {

#if FDK_TRACING
FDK_HOT_DATA std::atomic<int> g_trace_hooks{0};

namespace {

// Hooks are read the way RCU readers work: a caller counts itself in the active slot of
// the current epoch before it loads a hook. fdk_trace_set swaps the hook, then twice moves
// to the next epoch and waits until the slot it left is empty (one flip is not enough: a
// reader may read the epoch just before a flip and count itself just after), so the old
// hook is never called after it returns. Sets are serialised; a set made from inside a
// hook is applied when the hook returns, so it never waits for itself.
std::atomic<TraceHook *> g_global_hook{nullptr};
std::atomic<uint64_t> g_epoch{0};
std::atomic<int> g_active[2];
std::mutex g_set_mu;

struct PendingSet {
  fdk_loop *loop;
  fdk_trace_cb cb;
  void *data;
};

// Plain thread-local data (no destructor, so the library stays unloadable).
thread_local bool tls_in_hook;
thread_local PendingSet tls_pending[8];
thread_local int tls_pending_count;
thread_local uint64_t tls_span_seq;
thread_local uint32_t tls_tid;

uint32_t thread_id() {
  if (!tls_tid) tls_tid = static_cast<uint32_t>(gettid());
  return tls_tid;
}

void replace_hook(std::atomic<TraceHook *> &where, TraceHook *next) {
  TraceHook *old;
  {
    std::lock_guard<std::mutex> lock(g_set_mu);
    old = where.exchange(next);
    if (!old && next) g_trace_hooks.fetch_add(1);
    if (old && !next) g_trace_hooks.fetch_sub(1);
    for (int flip = 0; flip < 2; ++flip) {
      int slot = static_cast<int>(g_epoch.fetch_add(1) & 1);
      while (g_active[slot].load() > 0) sched_yield();
    }
  }
  delete old;
}

void apply_set(const PendingSet &p) {
  replace_hook(p.loop ? p.loop->trace_hook : g_global_hook, p.cb ? new TraceHook{p.cb, p.data} : nullptr);
}

void emit(fdk_trace_event &ev, fdk_loop *loop) {
  if (tls_in_hook) return;  // operations a hook starts are not traced
  int slot = static_cast<int>(g_epoch.load() & 1);
  g_active[slot].fetch_add(1);
  TraceHook *global = g_global_hook.load();
  TraceHook *local = loop ? loop->trace_hook.load() : nullptr;
  if (global || local) {
    ev.thread_id = thread_id();
    tls_in_hook = true;
    if (global) global->cb(&ev, global->data);
    if (local) local->cb(&ev, local->data);
    tls_in_hook = false;
  }
  g_active[slot].fetch_sub(1);
  for (int i = 0; i < tls_pending_count; ++i) apply_set(tls_pending[i]);
  tls_pending_count = 0;
}

}  // namespace

void Span::begin_slow(const char *name, int fd, const char *path, fdk_loop *loop) {
  auto *open = new (std::nothrow) Open{name, path, loop, 0, now_ns(), fd};
  if (!open) return;  // out of memory: this span goes unreported
  open->id = (static_cast<uint64_t>(thread_id()) << 32) | (++tls_span_seq & 0xffffffffu);
  open_ = open;
  FDK_PROBE_BEGIN(name, fd, path, open->id);
  fdk_trace_event ev{FDK_TRACE_BEGIN, name, open->id, fd, path, 0, nullptr, 0, open->start_ns, 0};
  emit(ev, loop);
}

void Span::end_slow(int64_t result, const char *detail) {
  Open *open = open_;
  open_ = nullptr;
  int64_t now = now_ns();
  FDK_PROBE_END(open->name, open->fd, open->id, result, now - open->start_ns);
  fdk_trace_event ev{FDK_TRACE_END, open->name, open->id, open->fd, open->path, result, detail, 0, now, now - open->start_ns};
  emit(ev, open->loop);
  delete open;
}

int trace_set(fdk_loop *loop, fdk_trace_cb cb, void *data) {
  if (tls_in_hook) {
    if (tls_pending_count == static_cast<int>(sizeof tls_pending / sizeof tls_pending[0]))
      return fail(-EAGAIN, "trace_set: too many hook changes from inside one hook call");
    tls_pending[tls_pending_count++] = {loop, cb, data};
    return 0;
  }
  apply_set({loop, cb, data});
  return 0;
}

void trace_drop_loop_hook(fdk_loop *loop) {
  if (loop->trace_hook.load()) replace_hook(loop->trace_hook, nullptr);
}

bool trace_in_hook() { return tls_in_hook; }

#else

void Span::begin_slow(const char *, int, const char *, fdk_loop *) {}
void Span::end_slow(int64_t, const char *) {}

int trace_set(fdk_loop *, fdk_trace_cb, void *) {
  return fail(-ENOTSUP, "trace_set: this fdkit was built with tracing compiled out");
}

void trace_drop_loop_hook(fdk_loop *) {}

bool trace_in_hook() { return false; }

#endif

}  // namespace fdk
