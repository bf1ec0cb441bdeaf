/* SPDX-License-Identifier: MIT */
/* C side of the Go binding: callback trampolines that hand a cgo.Handle back to Go (C never
 * keeps a Go pointer), and helpers that build small C structs on the C stack.
 *
 * A callback's data pointer is a small C block holding the handle's integer (boxHandle in
 * loop.go), never the integer itself: Go would hold such a void * in a pointer slot, where
 * the stack copier and the garbage collector reject a small integer ("invalid pointer found
 * on stack"). One-shot trampolines free the block; the others leave it to its Go owner. */
#ifndef FDKIT_GO_BRIDGE_H
#define FDKIT_GO_BRIDGE_H

#include <stdint.h>
#include <fdkit.h>

void fdkgo_result_cb(int64_t result, void *data);
void fdkgo_post_fn(void *data);
void fdkgo_run_cb(int result, fdk_run_result *res, void *data);
/* fdk_open_cb and fdk_accept_cb: a result and a new handle. */
void fdkgo_fd_cb(int result, fdk_fd *fd, void *data);
void fdkgo_exit_cb(fdk_process *proc, int result, void *data);
void fdkgo_trace_cb(const fdk_trace_event *event, void *data);
/* Callbacks that hand over one object the caller then owns (a dir, a text, an entry list,
 * resolved addresses): all reach Go as a result and a pointer. */
void fdkgo_dir_cb(int result, fdk_dir *dir, void *data);
void fdkgo_text_cb(ssize_t result, char *text, void *data);
void fdkgo_dirents_cb(int result, fdk_dirents *entries, void *data);
void fdkgo_addrinfo_cb(int result, fdk_addrinfo *res, void *data);
/* fdk_run_early_exit_fn: the predicate is a cgo.Handle in arg. */
int fdkgo_early_exit(const void *stdout_so_far, size_t len, void *arg);

/* preadv / pwritev of one buffer: the iovec lives on the C stack for the call only. */
ssize_t fdkgo_pread(fdk_fd *fd, void *buf, size_t len, int64_t offset);
ssize_t fdkgo_pwrite(fdk_fd *fd, const void *buf, size_t len, int64_t offset);

/* One-buffer messages, for the same reason. */
ssize_t fdkgo_send_msg(fdk_fd *fd, const void *buf, size_t len, const struct sockaddr *dest, socklen_t destlen,
                       fdk_fd *const *fds, int nfds);
ssize_t fdkgo_recv_msg(fdk_fd *fd, void *buf, size_t len, struct sockaddr *from, socklen_t *fromlen, fdk_fd **fds,
                       int *nfds, unsigned *flags);

#endif
