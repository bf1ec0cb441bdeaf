/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fdkit_stubs.h"

/* Unix.socket_domain and socket_type constructors, in OCaml's order. */
static const int domains[] = {AF_UNIX, AF_INET, AF_INET6};
static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET};

CAMLprim value fdkml_socketpair(value domain, value type) {
  CAMLparam2(domain, type);
  CAMLlocal3(a, b, pair);
  fdk_fd *fa, *fb;
  fdkml_check(fdk_socketpair(&fa, &fb, domains[Int_val(domain)], types[Int_val(type)], 0), "fdk_socketpair");
  a = fdkml_alloc_fd(fa);
  b = fdkml_alloc_fd(fb);
  pair = caml_alloc_tuple(2);
  Store_field(pair, 0, a);
  Store_field(pair, 1, b);
  CAMLreturn(pair);
}

/* Unix.shutdown_command: SHUTDOWN_RECEIVE, SHUTDOWN_SEND, SHUTDOWN_ALL. */
CAMLprim value fdkml_shutdown(value fd, value how) {
  static const unsigned hows[] = {FDK_SHUT_RD, FDK_SHUT_WR, FDK_SHUT_RDWR};
  fdkml_check(fdk_shutdown(Fd_val(fd), hows[Int_val(how)]), "fdk_shutdown");
  return Val_unit;
}

/* send_msg fd data fds: the bytes and the handles go through C memory, the call is made
 * without the runtime lock. */
CAMLprim value fdkml_send_msg(value vfd, value data, value fds) {
  CAMLparam3(vfd, data, fds);
  size_t len = caml_string_length(data), n = 0;
  for (value l = fds; l != Val_emptylist; l = Field(l, 1)) n++;
  char *buf = caml_stat_alloc(len + 1);
  memcpy(buf, String_val(data), len);
  fdk_fd **handles = caml_stat_alloc((n + 1) * sizeof *handles);
  size_t i = 0;
  for (value l = fds; l != Val_emptylist; l = Field(l, 1)) handles[i++] = Fd_val(Field(l, 0));
  fdk_fd *fd = Fd_val(vfd);
  struct iovec v = {buf, len};
  caml_release_runtime_system();
  ssize_t r = fdk_send_msg(fd, &v, 1, NULL, 0, n ? handles : NULL, (int)n);
  caml_acquire_runtime_system();
  caml_stat_free(buf);
  caml_stat_free(handles);
  CAMLreturn(Val_long(fdkml_check(r, "fdk_send_msg")));
}

/* recv_msg fd size max_fds: (data, fds, fds_truncated). */
CAMLprim value fdkml_recv_msg(value vfd, value size, value max_fds) {
  CAMLparam3(vfd, size, max_fds);
  CAMLlocal4(t, list, cell, h);
  size_t len = Long_val(size);
  int room = Int_val(max_fds);
  char *buf = caml_stat_alloc(len + 1);
  fdk_fd **handles = caml_stat_alloc((room + 1) * sizeof *handles);
  int nfds = room;
  unsigned flags = 0;
  fdk_fd *fd = Fd_val(vfd);
  struct iovec v = {buf, len};
  caml_release_runtime_system();
  ssize_t r = fdk_recv_msg(fd, &v, 1, NULL, NULL, room ? handles : NULL, room ? &nfds : NULL, &flags);
  caml_acquire_runtime_system();
  if (r < 0) {
    caml_stat_free(buf);
    caml_stat_free(handles);
    fdkml_check(r, "fdk_recv_msg");
  }
  list = Val_emptylist;
  for (int i = room ? nfds : 0; i-- > 0;) {
    h = fdkml_alloc_fd(handles[i]);
    cell = caml_alloc_small(2, 0);
    Field(cell, 0) = h;
    Field(cell, 1) = list;
    list = cell;
  }
  t = caml_alloc_tuple(3);
  Store_field(t, 0, caml_alloc_initialized_string(r, buf));
  Store_field(t, 1, list);
  Store_field(t, 2, Val_bool(flags & FDK_MSG_CTRUNC));
  caml_stat_free(buf);
  caml_stat_free(handles);
  CAMLreturn(t);
}
