/* SPDX-License-Identifier: MIT */
#include "bridge.h"

#include <stdlib.h>

#include "_cgo_export.h"

/* The handle of a one-shot callback; its block is freed. */
static uintptr_t take(void *data) {
  uintptr_t handle = *(uintptr_t *)data;
  free(data);
  return handle;
}

/* The handle of a callback that may run again; its Go owner frees the block. */
static uintptr_t peek(void *data) { return *(uintptr_t *)data; }

void fdkgo_result_cb(int64_t result, void *data) { fdkgoResult(result, take(data)); }

void fdkgo_post_fn(void *data) { fdkgoPost(take(data)); }

void fdkgo_run_cb(int result, fdk_run_result *res, void *data) { fdkgoRun(result, res, take(data)); }

void fdkgo_fd_cb(int result, fdk_fd *fd, void *data) { fdkgoFd(result, fd, take(data)); }

void fdkgo_exit_cb(fdk_process *proc, int result, void *data) {
  (void)proc;
  fdkgoExit(result, peek(data));
}

void fdkgo_trace_cb(const fdk_trace_event *event, void *data) { fdkgoTrace((fdk_trace_event *)event, peek(data)); }

void fdkgo_dir_cb(int result, fdk_dir *dir, void *data) { fdkgoPtr(result, dir, take(data)); }

void fdkgo_text_cb(ssize_t result, char *text, void *data) { fdkgoPtr(result, text, take(data)); }

void fdkgo_dirents_cb(int result, fdk_dirents *entries, void *data) { fdkgoPtr(result, entries, take(data)); }

void fdkgo_addrinfo_cb(int result, fdk_addrinfo *res, void *data) { fdkgoPtr(result, res, take(data)); }

int fdkgo_early_exit(const void *stdout_so_far, size_t len, void *arg) {
  return fdkgoEarlyExit((void *)stdout_so_far, len, peek(arg));
}

ssize_t fdkgo_pread(fdk_fd *fd, void *buf, size_t len, int64_t offset) {
  struct iovec v = {buf, len};
  return fdk_preadv(fd, &v, 1, offset);
}

ssize_t fdkgo_pwrite(fdk_fd *fd, const void *buf, size_t len, int64_t offset) {
  struct iovec v = {(void *)buf, len};
  return fdk_pwritev(fd, &v, 1, offset);
}

ssize_t fdkgo_send_msg(fdk_fd *fd, const void *buf, size_t len, const struct sockaddr *dest, socklen_t destlen,
                       fdk_fd *const *fds, int nfds) {
  struct iovec v = {(void *)buf, len};
  return fdk_send_msg(fd, &v, 1, dest, destlen, fds, nfds);
}

ssize_t fdkgo_recv_msg(fdk_fd *fd, void *buf, size_t len, struct sockaddr *from, socklen_t *fromlen, fdk_fd **fds,
                       int *nfds, unsigned *flags) {
  struct iovec v = {buf, len};
  return fdk_recv_msg(fd, &v, 1, from, fromlen, fds, nfds, flags);
}
