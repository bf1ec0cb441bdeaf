/* SPDX-License-Identifier: MIT */
// Bodies of the fdkit/io.h entry points (arguments already checked by the boundary).
#pragma once

#include <sys/uio.h>

#include "fdkit/io.h"

namespace fdk {

ssize_t read(fdk_fd *fd, void *buf, size_t len);
ssize_t write(fdk_fd *fd, const void *buf, size_t len);
ssize_t readv(fdk_fd *fd, const iovec *iov, int iovcnt);
ssize_t writev(fdk_fd *fd, const iovec *iov, int iovcnt);
ssize_t preadv(fdk_fd *fd, const iovec *iov, int iovcnt, int64_t offset);
ssize_t pwritev(fdk_fd *fd, const iovec *iov, int iovcnt, int64_t offset);
int64_t lseek(fdk_fd *fd, int64_t offset, int whence);
int fsync(fdk_fd *fd, unsigned flags);
int ftruncate(fdk_fd *fd, int64_t length);
ssize_t getrandom(void *buf, size_t len, unsigned flags);

// The reads guard what may throw themselves (an allocation: their boundary's checks
// done, the entry point's call of them is its last).
int read_async(fdk_loop *loop, fdk_fd *fd, void *buf, size_t len, fdk_result_cb cb, void *data, fdk_op **op) noexcept;
int write_async(fdk_loop *loop, fdk_fd *fd, const void *buf, size_t len, fdk_result_cb cb, void *data, fdk_op **op);
int readv_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, fdk_result_cb cb, void *data,
                fdk_op **op) noexcept;
int writev_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, fdk_result_cb cb, void *data,
                 fdk_op **op);
int preadv_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, int64_t offset, fdk_result_cb cb,
                 void *data, fdk_op **op);
int pwritev_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, int64_t offset, fdk_result_cb cb,
                  void *data, fdk_op **op);
int lseek_async(fdk_loop *loop, fdk_fd *fd, int64_t offset, int whence, fdk_result_cb cb, void *data, fdk_op **op);
int fsync_async(fdk_loop *loop, fdk_fd *fd, unsigned flags, fdk_result_cb cb, void *data, fdk_op **op);
int ftruncate_async(fdk_loop *loop, fdk_fd *fd, int64_t length, fdk_result_cb cb, void *data, fdk_op **op);
int getrandom_async(fdk_loop *loop, void *buf, size_t len, unsigned flags, fdk_result_cb cb, void *data,
                    fdk_op **op);
int write_all_async(fdk_loop *loop, fdk_fd *fd, const void *buf, size_t len, fdk_result_cb cb, void *data,
                    fdk_op **op);
int writev_all_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, fdk_result_cb cb, void *data,
                     fdk_op **op);
int64_t write_queue_size(fdk_loop *loop, fdk_fd *fd);
int sleep_until(fdk_loop *loop, int64_t deadline_ns, fdk_result_cb cb, void *data, fdk_op **op);
int64_t now_ns();

}  // namespace fdk
