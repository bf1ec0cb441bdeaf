/* SPDX-License-Identifier: MIT */
#include "fdkit_stubs.h"

/* Each Fd.t holds one reference; the collector drops it (which closes the descriptor if
 * it was the last and nobody closed it). */
static void fd_finalize(value v) { fdk_fd_unref(Fd_val(v)); }

static struct custom_operations fd_ops = {"fdkit.fd", fd_finalize, custom_compare_default,
                                          custom_hash_default, custom_serialize_default,
                                          custom_deserialize_default, custom_compare_ext_default,
                                          custom_fixed_length_default};

value fdkml_alloc_fd(fdk_fd *fd) {
  value v = caml_alloc_custom(&fd_ops, sizeof fd, 0, 1);
  Fd_val(v) = fd;
  return v;
}

CAMLprim value fdkml_fd_adopt(value raw, value blocking, value borrow) {
  fdk_fd *fd;
  unsigned flags = (Bool_val(blocking) ? FDK_FD_BLOCKING : 0) | (Bool_val(borrow) ? FDK_FD_BORROW : 0);
  fdkml_check(fdk_fd_adopt(&fd, Int_val(raw), flags), "fdk_fd_adopt");
  return fdkml_alloc_fd(fd);
}

CAMLprim value fdkml_pipe(value unit) {
  CAMLparam1(unit);
  CAMLlocal3(r, w, pair);
  fdk_fd *rf, *wf;
  fdkml_check(fdk_pipe(&rf, &wf), "fdk_pipe");
  r = fdkml_alloc_fd(rf);
  w = fdkml_alloc_fd(wf);
  pair = caml_alloc_tuple(2);
  Store_field(pair, 0, r);
  Store_field(pair, 1, w);
  CAMLreturn(pair);
}

CAMLprim value fdkml_fd_share(value fd) { return fdkml_alloc_fd(fdk_fd_ref(Fd_val(fd))); }

CAMLprim value fdkml_fd_raw(value fd) { return Val_int(fdkml_check(fdk_fd_raw(Fd_val(fd)), "fdk_fd_raw")); }

CAMLprim value fdkml_fd_use(value fd) {
  int raw;
  fdkml_check(fdk_fd_use(Fd_val(fd), &raw), "fdk_fd_use");
  return Val_int(raw);
}

CAMLprim value fdkml_fd_unuse(value fd) {
  fdk_fd_unuse(Fd_val(fd));
  return Val_unit;
}

CAMLprim value fdkml_fd_close(value v) {
  CAMLparam1(v);
  fdk_fd *fd = Fd_val(v);
  caml_release_runtime_system();
  int r = fdk_fd_close(fd);
  caml_acquire_runtime_system();
  fdkml_check(r, "fdk_fd_close");
  CAMLreturn(Val_unit);
}

/* Waits for running operations: the runtime lock is released meanwhile. */
CAMLprim value fdkml_fd_release(value v) {
  CAMLparam1(v);
  fdk_fd *fd = Fd_val(v);
  int raw = -1;
  caml_release_runtime_system();
  int r = fdk_fd_release(fd, &raw);
  caml_acquire_runtime_system();
  fdkml_check(r, "fdk_fd_release");
  CAMLreturn(Val_int(raw));
}

CAMLprim value fdkml_fd_is_blocking(value fd) {
  return Val_bool(fdkml_check(fdk_fd_is_blocking(Fd_val(fd)), "fdk_fd_is_blocking"));
}
