/* SPDX-License-Identifier: MIT */
#include <caml/bigarray.h>
#include <string.h>

#include "fdkit_stubs.h"

/* Synchronous calls release the runtime lock; OCaml bytes may move meanwhile, so data goes
 * through a buffer on the C stack, one call's worth at most (short counts are reported). */
#define CHUNK 65536

static size_t chunk(value len) { return Long_val(len) < CHUNK ? (size_t)Long_val(len) : CHUNK; }

CAMLprim value fdkml_read(value vfd, value buf, value off, value len) {
  CAMLparam4(vfd, buf, off, len);
  char tmp[CHUNK];
  fdk_fd *fd = Fd_val(vfd);
  size_t n = chunk(len);
  caml_release_runtime_system();
  ssize_t r = fdk_read(fd, tmp, n);
  caml_acquire_runtime_system();
  fdkml_check(r, "fdk_read");
  memcpy(Bytes_val(buf) + Long_val(off), tmp, r);
  CAMLreturn(Val_long(r));
}

CAMLprim value fdkml_write(value vfd, value buf, value off, value len) {
  CAMLparam4(vfd, buf, off, len);
  char tmp[CHUNK];
  fdk_fd *fd = Fd_val(vfd);
  size_t n = chunk(len);
  memcpy(tmp, String_val(buf) + Long_val(off), n);
  caml_release_runtime_system();
  ssize_t r = fdk_write(fd, tmp, n);
  caml_acquire_runtime_system();
  CAMLreturn(Val_long(fdkml_check(r, "fdk_write")));
}

CAMLprim value fdkml_pread(value vfd, value buf, value off, value len, value pos) {
  CAMLparam5(vfd, buf, off, len, pos);
  char tmp[CHUNK];
  fdk_fd *fd = Fd_val(vfd);
  struct iovec v = {tmp, chunk(len)};
  caml_release_runtime_system();
  ssize_t r = fdk_preadv(fd, &v, 1, Long_val(pos));
  caml_acquire_runtime_system();
  fdkml_check(r, "fdk_preadv");
  memcpy(Bytes_val(buf) + Long_val(off), tmp, r);
  CAMLreturn(Val_long(r));
}

CAMLprim value fdkml_pwrite(value vfd, value buf, value off, value len, value pos) {
  CAMLparam5(vfd, buf, off, len, pos);
  char tmp[CHUNK];
  fdk_fd *fd = Fd_val(vfd);
  struct iovec v = {tmp, chunk(len)};
  memcpy(tmp, String_val(buf) + Long_val(off), v.iov_len);
  caml_release_runtime_system();
  ssize_t r = fdk_pwritev(fd, &v, 1, Long_val(pos));
  caml_acquire_runtime_system();
  CAMLreturn(Val_long(fdkml_check(r, "fdk_pwritev")));
}

/* Unix.seek_command's constructors are in FDK_SEEK_SET, CUR, END order. */
CAMLprim value fdkml_lseek(value vfd, value offset, value whence) {
  return Val_long(fdkml_check(fdk_lseek(Fd_val(vfd), Long_val(offset), Int_val(whence)), "fdk_lseek"));
}

CAMLprim value fdkml_fsync(value vfd, value data_only) {
  CAMLparam2(vfd, data_only);
  fdk_fd *fd = Fd_val(vfd);
  unsigned flags = Bool_val(data_only) ? FDK_FSYNC_DATA : 0;
  caml_release_runtime_system();
  int r = fdk_fsync(fd, flags);
  caml_acquire_runtime_system();
  fdkml_check(r, "fdk_fsync");
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_ftruncate(value vfd, value length) {
  fdkml_check(fdk_ftruncate(Fd_val(vfd), Long_val(length)), "fdk_ftruncate");
  return Val_unit;
}

CAMLprim value fdkml_getrandom(value buf, value off, value len) {
  CAMLparam3(buf, off, len);
  char tmp[CHUNK];
  size_t n = chunk(len);
  caml_release_runtime_system();
  ssize_t r = fdk_getrandom(tmp, n, 0);
  caml_acquire_runtime_system();
  fdkml_check(r, "fdk_getrandom");
  memcpy(Bytes_val(buf) + Long_val(off), tmp, r);
  CAMLreturn(Val_long(r));
}

CAMLprim value fdkml_now_ns(value unit) { return Val_long(fdk_now_ns()); }

/* Asynchronous calls use bigarrays, whose data never moves; the pending state keeps the
 * bigarray (and the handle) alive until the callback ran. The OCaml side checks bounds. */
static void *ba_at(value ba, value off) { return (char *)Caml_ba_data_val(ba) + Long_val(off); }


CAMLprim value fdkml_read_async(value loop, value vfd, value ba, value off, value len, value callback) {
  CAMLparam5(loop, vfd, ba, off, len);
  CAMLxparam1(callback);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, fdkml_pair(vfd, ba));
  fdk_op *op = NULL;
  int r = fdk_read_async(fdkml_loop_val(loop)->raw, Fd_val(vfd), ba_at(ba, off), Long_val(len), fdkml_on_result,
                         p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_read_async"));
}

FDKML_BYTECODE6(fdkml_read_async)

CAMLprim value fdkml_write_async(value loop, value vfd, value ba, value off, value len, value callback) {
  CAMLparam5(loop, vfd, ba, off, len);
  CAMLxparam1(callback);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, fdkml_pair(vfd, ba));
  fdk_op *op = NULL;
  int r = fdk_write_async(fdkml_loop_val(loop)->raw, Fd_val(vfd), ba_at(ba, off), Long_val(len), fdkml_on_result,
                          p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_write_async"));
}

FDKML_BYTECODE6(fdkml_write_async)

CAMLprim value fdkml_getrandom_async(value loop, value ba, value off, value len, value callback) {
  CAMLparam5(loop, ba, off, len, callback);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, ba);
  fdk_op *op = NULL;
  int r = fdk_getrandom_async(fdkml_loop_val(loop)->raw, ba_at(ba, off), Long_val(len), 0, fdkml_on_result, p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_getrandom_async"));
}

CAMLprim value fdkml_sleep_until(value loop, value deadline, value callback) {
  CAMLparam3(loop, deadline, callback);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, Val_unit);
  fdk_op *op = NULL;
  int r = fdk_sleep_until(fdkml_loop_val(loop)->raw, Long_val(deadline), fdkml_on_result, p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_sleep_until"));
}

/* preadv / pwritev of one bigarray span: the iovec lives in the pending state's keep
 * block (a bigarray of one struct iovec) until the callback ran. */
static value iovec_block(value ba, value off, value len) {
  CAMLparam3(ba, off, len);
  CAMLlocal1(v);
  intnat dim = sizeof(struct iovec);
  v = caml_ba_alloc(CAML_BA_CHAR | CAML_BA_C_LAYOUT, 1, NULL, &dim);
  struct iovec *iov = Caml_ba_data_val(v);
  iov->iov_base = ba_at(ba, off);
  iov->iov_len = Long_val(len);
  CAMLreturn(v);
}

static value keep3(value a, value b, value c) {
  CAMLparam3(a, b, c);
  CAMLlocal1(t);
  t = caml_alloc_tuple(3);
  Store_field(t, 0, a);
  Store_field(t, 1, b);
  Store_field(t, 2, c);
  CAMLreturn(t);
}

typedef int (*positioned_fn)(fdk_loop *, fdk_fd *, const struct iovec *, int, int64_t, fdk_result_cb, void *,
                             fdk_op **);

static value positioned_async(value loop, value vfd, value ba, value off, value len, value pos, value callback,
                              positioned_fn fn, const char *call) {
  CAMLparam5(loop, vfd, ba, off, len);
  CAMLxparam2(pos, callback);
  CAMLlocal1(iov);
  iov = iovec_block(ba, off, len);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, keep3(vfd, ba, iov));
  fdk_op *op = NULL;
  int r = fn(fdkml_loop_val(loop)->raw, Fd_val(vfd), Caml_ba_data_val(iov), 1, Long_val(pos), fdkml_on_result, p, &op);
  CAMLreturn(fdkml_started(p, r, op, call));
}

CAMLprim value fdkml_pread_async(value loop, value vfd, value ba, value off, value len, value pos, value callback) {
  return positioned_async(loop, vfd, ba, off, len, pos, callback, fdk_preadv_async, "fdk_preadv_async");
}
FDKML_BYTECODE7(fdkml_pread_async)

CAMLprim value fdkml_pwrite_async(value loop, value vfd, value ba, value off, value len, value pos, value callback) {
  return positioned_async(loop, vfd, ba, off, len, pos, callback, fdk_pwritev_async, "fdk_pwritev_async");
}
FDKML_BYTECODE7(fdkml_pwrite_async)

/* readv / writev over a list of bigarrays: the iovec array is a bigarray kept with them. */
static value iovec_list(value bufs, int *count) {
  CAMLparam1(bufs);
  CAMLlocal2(v, l);
  intnat n = 0;
  for (l = bufs; l != Val_emptylist; l = Field(l, 1)) n++;
  intnat dim = (n ? n : 1) * (intnat)sizeof(struct iovec);
  v = caml_ba_alloc(CAML_BA_CHAR | CAML_BA_C_LAYOUT, 1, NULL, &dim);
  struct iovec *iov = Caml_ba_data_val(v);
  intnat i = 0;
  for (l = bufs; l != Val_emptylist; l = Field(l, 1), i++) {
    iov[i].iov_base = Caml_ba_data_val(Field(l, 0));
    iov[i].iov_len = Caml_ba_array_val(Field(l, 0))->dim[0];
  }
  *count = (int)n;
  CAMLreturn(v);
}

typedef int (*vectored_fn)(fdk_loop *, fdk_fd *, const struct iovec *, int, fdk_result_cb, void *, fdk_op **);

static value vectored_async(value loop, value vfd, value bufs, value callback, vectored_fn fn, const char *call) {
  CAMLparam4(loop, vfd, bufs, callback);
  CAMLlocal1(iov);
  int n;
  iov = iovec_list(bufs, &n);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, keep3(vfd, bufs, iov));
  fdk_op *op = NULL;
  int r = fn(fdkml_loop_val(loop)->raw, Fd_val(vfd), Caml_ba_data_val(iov), n, fdkml_on_result, p, &op);
  CAMLreturn(fdkml_started(p, r, op, call));
}

CAMLprim value fdkml_readv_async(value loop, value vfd, value bufs, value callback) {
  return vectored_async(loop, vfd, bufs, callback, fdk_readv_async, "fdk_readv_async");
}

CAMLprim value fdkml_writev_async(value loop, value vfd, value bufs, value callback) {
  return vectored_async(loop, vfd, bufs, callback, fdk_writev_async, "fdk_writev_async");
}

CAMLprim value fdkml_writev_all_async(value loop, value vfd, value bufs, value callback) {
  return vectored_async(loop, vfd, bufs, callback, fdk_writev_all_async, "fdk_writev_all_async");
}

/* Synchronous readv / writev over bigarrays, which stay put while the runtime lock is
 * released (the list and the iovec block are registered meanwhile). */
typedef ssize_t (*vectored_sync_fn)(fdk_fd *, const struct iovec *, int);

static value vectored_sync(value vfd, value bufs, vectored_sync_fn fn, const char *call) {
  CAMLparam2(vfd, bufs);
  CAMLlocal1(iov);
  int n;
  iov = iovec_list(bufs, &n);
  fdk_fd *fd = Fd_val(vfd);
  struct iovec *v = Caml_ba_data_val(iov);
  caml_release_runtime_system();
  ssize_t r = fn(fd, v, n);
  caml_acquire_runtime_system();
  CAMLreturn(Val_long(fdkml_check(r, call)));
}

CAMLprim value fdkml_readv(value vfd, value bufs) { return vectored_sync(vfd, bufs, fdk_readv, "fdk_readv"); }
CAMLprim value fdkml_writev(value vfd, value bufs) { return vectored_sync(vfd, bufs, fdk_writev, "fdk_writev"); }

CAMLprim value fdkml_lseek_async(value loop, value vfd, value offset, value whence, value callback) {
  CAMLparam5(loop, vfd, offset, whence, callback);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, vfd);
  fdk_op *op = NULL;
  int r = fdk_lseek_async(fdkml_loop_val(loop)->raw, Fd_val(vfd), Long_val(offset), Int_val(whence), fdkml_on_result,
                          p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_lseek_async"));
}

CAMLprim value fdkml_fsync_async(value loop, value vfd, value data_only, value callback) {
  CAMLparam4(loop, vfd, data_only, callback);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, vfd);
  fdk_op *op = NULL;
  int r = fdk_fsync_async(fdkml_loop_val(loop)->raw, Fd_val(vfd), Bool_val(data_only) ? FDK_FSYNC_DATA : 0,
                          fdkml_on_result, p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_fsync_async"));
}

CAMLprim value fdkml_ftruncate_async(value loop, value vfd, value length, value callback) {
  CAMLparam4(loop, vfd, length, callback);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, vfd);
  fdk_op *op = NULL;
  int r = fdk_ftruncate_async(fdkml_loop_val(loop)->raw, Fd_val(vfd), Long_val(length), fdkml_on_result, p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_ftruncate_async"));
}

/* Ordered, complete writes. */
CAMLprim value fdkml_write_all_async(value loop, value vfd, value ba, value off, value len, value callback) {
  CAMLparam5(loop, vfd, ba, off, len);
  CAMLxparam1(callback);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, fdkml_pair(vfd, ba));
  fdk_op *op = NULL;
  int r = fdk_write_all_async(fdkml_loop_val(loop)->raw, Fd_val(vfd), ba_at(ba, off), Long_val(len),
                              fdkml_on_result, p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_write_all_async"));
}

FDKML_BYTECODE6(fdkml_write_all_async)

CAMLprim value fdkml_write_queue_size(value loop, value vfd) {
  return Val_long(fdkml_check(fdk_write_queue_size(fdkml_loop_val(loop)->raw, Fd_val(vfd)), "fdk_write_queue_size"));
}
