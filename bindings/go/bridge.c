#include "bridge.h"

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
