#include "bridge.h"

#include <stdlib.h>

#include "_cgo_export.h"

void *fdkgo_data(uintptr_t handle) { return (void *)handle; }

void fdkgo_result_cb(int64_t result, void *data) { fdkgoResult(result, (uintptr_t)data); }

void fdkgo_post_fn(void *data) { fdkgoPost((uintptr_t)data); }

ssize_t fdkgo_pread(fdk_fd *fd, void *buf, size_t len, int64_t offset) {
  struct iovec v = {buf, len};
  return fdk_preadv(fd, &v, 1, offset);
}

ssize_t fdkgo_pwrite(fdk_fd *fd, const void *buf, size_t len, int64_t offset) {
  struct iovec v = {(void *)buf, len};
  return fdk_pwritev(fd, &v, 1, offset);
}

void fdkgo_trace_cb(const fdk_trace_event *e, void *data) {
  (void)data;
  fdkgoTrace(e->phase, (char *)e->name, e->span_id, e->fd, (char *)e->path, e->result, (char *)e->detail,
             e->thread_id, e->duration_ns);
}

void *fdkgo_ptr_array(size_t n) { return calloc(n ? n : 1, sizeof(void *)); }
void fdkgo_ptr_array_set(void *array, size_t i, void *p) { ((void **)array)[i] = p; }
void *fdkgo_ptr_array_get(void *array, size_t i) { return ((void **)array)[i]; }
