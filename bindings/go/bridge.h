/* C side of the Go binding: callback trampolines that hand a cgo.Handle back to Go (C never
 * keeps a Go pointer), and helpers that build small C structs on the C stack. */
#ifndef FDKIT_GO_BRIDGE_H
#define FDKIT_GO_BRIDGE_H

#include <stdint.h>
#include <fdkit.h>

/* The data pointer of a callback: a cgo.Handle's integer, never a Go pointer. */
void *fdkgo_data(uintptr_t handle);
void fdkgo_result_cb(int64_t result, void *data);
void fdkgo_post_fn(void *data);

/* preadv / pwritev of one buffer: the iovec lives on the C stack for the call only. */
ssize_t fdkgo_pread(fdk_fd *fd, void *buf, size_t len, int64_t offset);
ssize_t fdkgo_pwrite(fdk_fd *fd, const void *buf, size_t len, int64_t offset);

/* The trace hook: forwards each event's fields to Go. */
void fdkgo_trace_cb(const fdk_trace_event *event, void *data);

/* A C array of n pointers (argv, envp, handle lists), zeroed; free it with free(). */
void *fdkgo_ptr_array(size_t n);
void fdkgo_ptr_array_set(void *array, size_t i, void *p);
void *fdkgo_ptr_array_get(void *array, size_t i);

#endif
