/* SPDX-License-Identifier: MIT */
/* Trace events for OCaml. A hook runs on whatever thread performs an operation: libuv's
 * workers (unknown to the OCaml runtime) or an OCaml thread that may or may not hold the
 * runtime lock at that moment. Calling OCaml there is not safe, so the hook records each
 * event in C and Trace.take hands them over. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fdkit_stubs.h"

enum { CAPACITY = 65536, TEXT = 64 };

struct recorded {
  int phase, fd;
  uint64_t span_id;
  int64_t result, duration_ns;
  char name[32], path[TEXT], detail[TEXT];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct recorded *events; /* allocated on first start, kept */
static size_t count, dropped;

static void copy_text(char *dst, const char *src, size_t n) {
  dst[0] = 0;
  if (src) {
    strncpy(dst, src, n - 1);
    dst[n - 1] = 0;
  }
}

static void record(const fdk_trace_event *e, void *data) {
  (void)data;
  pthread_mutex_lock(&mu);
  if (count == CAPACITY) {
    dropped++;
  } else {
    struct recorded *r = &events[count++];
    r->phase = e->phase;
    r->fd = e->fd;
    r->span_id = e->span_id;
    r->result = e->result;
    r->duration_ns = e->duration_ns;
    copy_text(r->name, e->name, sizeof r->name);
    copy_text(r->path, e->path, sizeof r->path);
    copy_text(r->detail, e->detail, sizeof r->detail);
  }
  pthread_mutex_unlock(&mu);
}

CAMLprim value fdkml_trace_start(value unit) {
  pthread_mutex_lock(&mu);
  if (!events) events = malloc(CAPACITY * sizeof *events);
  pthread_mutex_unlock(&mu);
  if (!events) caml_raise_out_of_memory();
  fdkml_check(fdk_trace_set(NULL, record, NULL), "fdk_trace_set");
  return Val_unit;
}

CAMLprim value fdkml_trace_stop(value unit) {
  fdkml_check(fdk_trace_set(NULL, NULL, NULL), "fdk_trace_set");
  return Val_unit;
}

/* The events recorded since the last take, oldest first, as
 * (begin, name, span_id, fd, path, result, detail, duration_ns), and how many were dropped
 * because the buffer was full. */
CAMLprim value fdkml_trace_take(value unit) {
  CAMLparam1(unit);
  CAMLlocal4(list, cell, ev, pair);
  pthread_mutex_lock(&mu);
  size_t n = count, lost = dropped;
  struct recorded *copy = n ? malloc(n * sizeof *copy) : NULL;
  if (copy) memcpy(copy, events, n * sizeof *copy);
  count = dropped = 0;
  pthread_mutex_unlock(&mu);
  if (n && !copy) caml_raise_out_of_memory();
  list = Val_emptylist;
  for (size_t i = n; i-- > 0;) {
    ev = caml_alloc_tuple(8);
    Store_field(ev, 0, Val_bool(copy[i].phase == FDK_TRACE_BEGIN));
    Store_field(ev, 1, caml_copy_string(copy[i].name));
    Store_field(ev, 2, caml_copy_int64((int64_t)copy[i].span_id));
    Store_field(ev, 3, Val_int(copy[i].fd));
    Store_field(ev, 4, caml_copy_string(copy[i].path));
    Store_field(ev, 5, caml_copy_int64(copy[i].result));
    Store_field(ev, 6, caml_copy_string(copy[i].detail));
    Store_field(ev, 7, caml_copy_int64(copy[i].duration_ns));
    cell = caml_alloc_small(2, 0);
    Field(cell, 0) = ev;
    Field(cell, 1) = list;
    list = cell;
  }
  free(copy);
  pair = caml_alloc_tuple(2);
  Store_field(pair, 0, list);
  Store_field(pair, 1, Val_long(lost));
  CAMLreturn(pair);
}
