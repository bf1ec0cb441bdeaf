/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "fdkit_stubs.h"
#include <caml/bigarray.h>
#include <caml/socketaddr.h>

/* Unix.socket_domain and socket_type constructors, in OCaml's order. */
static const int domains[] = {AF_UNIX, AF_INET, AF_INET6};
static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET};

/* The index of a platform value in one of the tables above, or -1. */
static int index_of(const int *table, int n, int v) {
  for (int i = 0; i < n; i++)
    if (table[i] == v) return i;
  return -1;
}

static value sockaddr_value(union sock_addr_union *addr, socklen_t len) {
  return alloc_sockaddr(addr, (socklen_param_type)len, -1);
}

CAMLprim value fdkml_socket(value domain, value type, value protocol) {
  fdk_fd *fd;
  fdkml_check(fdk_socket(&fd, domains[Int_val(domain)], types[Int_val(type)], Int_val(protocol)), "fdk_socket");
  return fdkml_alloc_fd(fd);
}

CAMLprim value fdkml_bind(value fd, value addr) {
  union sock_addr_union a;
  socklen_param_type len;
  get_sockaddr(addr, &a, &len);
  fdkml_check(fdk_bind(Fd_val(fd), &a.s_gen, len), "fdk_bind");
  return Val_unit;
}

CAMLprim value fdkml_listen(value fd, value backlog) {
  fdkml_check(fdk_listen(Fd_val(fd), Int_val(backlog)), "fdk_listen");
  return Val_unit;
}

/* Waits for the connection without the runtime lock. */
CAMLprim value fdkml_connect(value vfd, value addr) {
  CAMLparam2(vfd, addr);
  union sock_addr_union a;
  socklen_param_type len;
  get_sockaddr(addr, &a, &len);
  fdk_fd *fd = Fd_val(vfd);
  caml_release_runtime_system();
  int r = fdk_connect(fd, &a.s_gen, len);
  caml_acquire_runtime_system();
  fdkml_check(r, "fdk_connect");
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_accept(value vfd) {
  CAMLparam1(vfd);
  CAMLlocal2(conn, peer);
  union sock_addr_union a;
  socklen_t len = sizeof a;
  fdk_fd *fd = Fd_val(vfd), *c;
  caml_release_runtime_system();
  int r = fdk_accept(&c, fd, &a.s_gen, &len);
  caml_acquire_runtime_system();
  fdkml_check(r, "fdk_accept");
  conn = fdkml_alloc_fd(c);
  peer = sockaddr_value(&a, len);
  CAMLreturn(fdkml_pair(conn, peer));
}

typedef int (*name_fn)(fdk_fd *, struct sockaddr *, socklen_t *);

static value socket_name(value fd, name_fn fn, const char *call) {
  union sock_addr_union a;
  socklen_t len = sizeof a;
  fdkml_check(fn(Fd_val(fd), &a.s_gen, &len), call);
  return sockaddr_value(&a, len);
}

CAMLprim value fdkml_getsockname(value fd) { return socket_name(fd, fdk_getsockname, "fdk_getsockname"); }
CAMLprim value fdkml_getpeername(value fd) { return socket_name(fd, fdk_getpeername, "fdk_getpeername"); }

/* Net.sockopt: its constant constructors in order, or Raw (level, name). */
static void sockopt_of(value opt, int *level, int *name) {
  static const int opts[][2] = {{SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_REUSEPORT}, {SOL_SOCKET, SO_KEEPALIVE},
                                {SOL_SOCKET, SO_BROADCAST}, {SOL_SOCKET, SO_RCVBUF},    {SOL_SOCKET, SO_SNDBUF},
                                {IPPROTO_TCP, TCP_NODELAY}, {IPPROTO_IPV6, IPV6_V6ONLY}};
  if (Is_long(opt)) {
    *level = opts[Int_val(opt)][0];
    *name = opts[Int_val(opt)][1];
  } else {
    *level = Int_val(Field(opt, 0));
    *name = Int_val(Field(opt, 1));
  }
}

CAMLprim value fdkml_setsockopt(value fd, value opt, value v) {
  int level, name;
  sockopt_of(opt, &level, &name);
  fdkml_check(fdk_setsockopt_int(Fd_val(fd), level, name, Int_val(v)), "fdk_setsockopt_int");
  return Val_unit;
}

CAMLprim value fdkml_getsockopt(value fd, value opt) {
  int level, name, v = 0;
  sockopt_of(opt, &level, &name);
  fdkml_check(fdk_getsockopt_int(Fd_val(fd), level, name, &v), "fdk_getsockopt_int");
  return Val_int(v);
}

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

/* Asynchronous calls. Scratch memory the call writes into until its callback (an address,
 * descriptor slots) lives in a bigarray the pending state keeps, so it never moves and is
 * freed by the collector whatever way the operation ends. */
static value scratch(size_t size, void **data) {
  intnat dim = (intnat)size;
  value v = caml_ba_alloc(CAML_BA_CHAR | CAML_BA_C_LAYOUT, 1, NULL, &dim);
  memset(Caml_ba_data_val(v), 0, size);
  *data = Caml_ba_data_val(v);
  return v;
}

CAMLprim value fdkml_connect_async(value loop, value vfd, value addr, value callback) {
  CAMLparam4(loop, vfd, addr, callback);
  union sock_addr_union a;
  socklen_param_type len;
  get_sockaddr(addr, &a, &len);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, vfd);
  fdk_op *op = NULL;
  int r = fdk_connect_async(fdkml_loop_val(loop)->raw, Fd_val(vfd), &a.s_gen, len, fdkml_on_result, p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_connect_async"));
}

struct peer {
  union sock_addr_union addr;
  socklen_t len;
};

struct accepted {
  fdk_fd *conn;
  struct fdkml_pending *p;
};

/* Runs with the runtime lock, so it may read the kept scratch bigarray. */
static value make_accepted(void *arg) {
  CAMLparam0();
  CAMLlocal2(conn, peer);
  struct accepted *a = arg;
  struct peer *from = Caml_ba_data_val(Field(fdkml_pending_keep(a->p), 1));
  conn = fdkml_alloc_fd(a->conn);
  peer = sockaddr_value(&from->addr, from->len);
  CAMLreturn(fdkml_pair(conn, peer));
}

static void on_accept(int result, fdk_fd *conn, void *data) {
  struct accepted a = {conn, data};
  fdkml_complete(data, result, make_accepted, &a);
}

CAMLprim value fdkml_accept_async(value loop, value vfd, value callback) {
  CAMLparam3(loop, vfd, callback);
  CAMLlocal1(buf);
  struct peer *peer;
  buf = scratch(sizeof *peer, (void **)&peer);
  peer->len = sizeof peer->addr;
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, fdkml_pair(vfd, buf));
  fdk_op *op = NULL;
  int r = fdk_accept_async(fdkml_loop_val(loop)->raw, Fd_val(vfd), &peer->addr.s_gen, &peer->len, on_accept, p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_accept_async"));
}

CAMLprim value fdkml_shutdown_async(value loop, value vfd, value how, value callback) {
  CAMLparam4(loop, vfd, how, callback);
  static const unsigned hows[] = {FDK_SHUT_RD, FDK_SHUT_WR, FDK_SHUT_RDWR};
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, vfd);
  fdk_op *op = NULL;
  int r = fdk_shutdown_async(fdkml_loop_val(loop)->raw, Fd_val(vfd), hows[Int_val(how)], fdkml_on_result, p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_shutdown_async"));
}

/* send_msg_async loop fd (ba, off, len) dest_opt fds callback: fdkit copies the address
 * and the descriptor list; the bigarray stays in the pending state. */
CAMLprim value fdkml_send_msg_async(value loop, value vfd, value span, value dest, value fds, value callback) {
  CAMLparam5(loop, vfd, span, dest, fds);
  CAMLxparam1(callback);
  union sock_addr_union a;
  socklen_param_type alen = 0;
  if (Is_some(dest)) get_sockaddr(Some_val(dest), &a, &alen);
  size_t n = 0;
  for (value l = fds; l != Val_emptylist; l = Field(l, 1)) n++;
  fdk_fd *handles[256];
  if (n > 253) fdkml_check(-EINVAL, "fdk_send_msg_async");
  size_t i = 0;
  for (value l = fds; l != Val_emptylist; l = Field(l, 1)) handles[i++] = Fd_val(Field(l, 0));
  value ba = Field(span, 0);
  struct iovec v = {(char *)Caml_ba_data_val(ba) + Long_val(Field(span, 1)), Long_val(Field(span, 2))};
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, fdkml_pair(vfd, ba));
  fdk_op *op = NULL;
  int r = fdk_send_msg_async(fdkml_loop_val(loop)->raw, Fd_val(vfd), &v, 1, Is_some(dest) ? &a.s_gen : NULL, alen,
                             n ? handles : NULL, (int)n, fdkml_on_result, p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_send_msg_async"));
}
FDKML_BYTECODE6(fdkml_send_msg_async)

/* What fdk_recv_msg_async writes before its callback. */
struct recv_scratch {
  struct iovec iov;
  struct peer from;
  int nfds;
  unsigned flags;
  fdk_fd *fds[];
};

/* (fds, flags, from option); runs with the runtime lock, so it may read the kept scratch. */
static value make_received(void *arg) {
  CAMLparam0();
  CAMLlocal5(list, cell, h, from, t);
  struct recv_scratch *s = Caml_ba_data_val(Field(fdkml_pending_keep(arg), 2));
  list = Val_emptylist;
  for (int i = s->nfds; i-- > 0;) {
    h = fdkml_alloc_fd(s->fds[i]);
    cell = caml_alloc_small(2, 0);
    Field(cell, 0) = h;
    Field(cell, 1) = list;
    list = cell;
  }
  from = Val_none;
  if (s->from.len > 0 && s->from.len <= sizeof s->from.addr) {
    h = sockaddr_value(&s->from.addr, s->from.len);
    from = caml_alloc(1, 0);
    Store_field(from, 0, h);
  }
  t = caml_alloc_tuple(3);
  Store_field(t, 0, list);
  Store_field(t, 1, Val_int(s->flags));
  Store_field(t, 2, from);
  CAMLreturn(t);
}

static void on_received(int64_t result, void *data) { fdkml_complete(data, result, make_received, data); }

/* recv_msg_async loop fd (ba, off, len) max_fds callback */
CAMLprim value fdkml_recv_msg_async(value loop, value vfd, value span, value max_fds, value callback) {
  CAMLparam5(loop, vfd, span, max_fds, callback);
  CAMLlocal2(buf, keep);
  struct recv_scratch *s;
  int room = Int_val(max_fds);
  if (room < 0 || room > 253) fdkml_check(-EINVAL, "fdk_recv_msg_async");
  buf = scratch(sizeof *s + (size_t)room * sizeof s->fds[0], (void **)&s);
  value ba = Field(span, 0);
  s->iov.iov_base = (char *)Caml_ba_data_val(ba) + Long_val(Field(span, 1));
  s->iov.iov_len = Long_val(Field(span, 2));
  s->from.len = sizeof s->from.addr;
  s->nfds = room;
  keep = caml_alloc_tuple(3);
  Store_field(keep, 0, vfd);
  Store_field(keep, 1, ba);
  Store_field(keep, 2, buf);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, keep);
  fdk_op *op = NULL;
  int r = fdk_recv_msg_async(fdkml_loop_val(loop)->raw, Fd_val(vfd), &s->iov, 1, &s->from.addr.s_gen, &s->from.len,
                             room ? s->fds : NULL, room ? &s->nfds : NULL, &s->flags, on_received, p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_recv_msg_async"));
}

/* Unix.addr_info records of a result; entries whose family or type Unix cannot name are
 * left out, as Unix.getaddrinfo leaves them out. */
static value addrinfo_list(void *arg) {
  CAMLparam0();
  CAMLlocal5(list, cell, rec, addr, canon);
  fdk_addrinfo *ai = arg;
  const char *name = fdk_addrinfo_canonname(ai);
  list = Val_emptylist;
  for (size_t i = fdk_addrinfo_count(ai); i-- > 0;) {
    int family, socktype, protocol;
    const struct sockaddr *sa;
    socklen_t len;
    if (fdk_addrinfo_entry(ai, i, &family, &socktype, &protocol, &sa, &len) < 0) continue;
    int d = index_of(domains, 3, family), t = index_of(types, 4, socktype);
    if (d < 0 || t < 0 || len > sizeof(union sock_addr_union)) continue;
    union sock_addr_union a;
    memcpy(&a, sa, len);
    addr = sockaddr_value(&a, len);
    canon = caml_copy_string(i == 0 && name ? name : "");
    rec = caml_alloc_tuple(5);
    Store_field(rec, 0, Val_int(d));
    Store_field(rec, 1, Val_int(t));
    Store_field(rec, 2, Val_int(protocol));
    Store_field(rec, 3, addr);
    Store_field(rec, 4, canon);
    cell = caml_alloc_small(2, 0);
    Field(cell, 0) = rec;
    Field(cell, 1) = list;
    list = cell;
  }
  CAMLreturn(list);
}

/* query: (host, service, family index or -1, socktype index or -1, protocol, flags); ""
 * stands for no host or no service. */
struct query {
  char *host, *service;
  int family, socktype, protocol;
  unsigned flags;
};

static void query_of(value q, struct query *out, const char *call) {
  fdkml_check_string(Field(q, 0), call);
  fdkml_check_string(Field(q, 1), call);
  out->host = caml_string_length(Field(q, 0)) ? caml_stat_strdup(String_val(Field(q, 0))) : NULL;
  out->service = caml_string_length(Field(q, 1)) ? caml_stat_strdup(String_val(Field(q, 1))) : NULL;
  out->family = Int_val(Field(q, 2)) < 0 ? AF_UNSPEC : domains[Int_val(Field(q, 2))];
  out->socktype = Int_val(Field(q, 3)) < 0 ? 0 : types[Int_val(Field(q, 3))];
  out->protocol = Int_val(Field(q, 4));
  out->flags = Int_val(Field(q, 5));
}

static void query_free(struct query *q) {
  caml_stat_free(q->host);
  caml_stat_free(q->service);
}

/* The resolver may take long: the runtime lock is released meanwhile. */
CAMLprim value fdkml_getaddrinfo(value q) {
  CAMLparam1(q);
  CAMLlocal1(list);
  struct query query;
  query_of(q, &query, "fdk_getaddrinfo");
  fdk_addrinfo *ai = NULL;
  caml_release_runtime_system();
  int r = fdk_getaddrinfo(&ai, query.host, query.service, query.family, query.socktype, query.protocol, query.flags);
  caml_acquire_runtime_system();
  query_free(&query);
  fdkml_check(r, "fdk_getaddrinfo");
  list = addrinfo_list(ai);
  fdk_addrinfo_free(ai);
  CAMLreturn(list);
}

static void on_addrinfo(int result, fdk_addrinfo *ai, void *data) {
  fdkml_complete(data, result, addrinfo_list, ai);
  fdk_addrinfo_free(ai);
}

CAMLprim value fdkml_getaddrinfo_async(value loop, value q, value callback) {
  CAMLparam3(loop, q, callback);
  struct query query;
  fdkml_loop_val(loop); /* raises for a closed loop before anything is allocated */
  query_of(q, &query, "fdk_getaddrinfo_async");
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, Val_unit);
  fdk_op *op = NULL;
  int r = fdk_getaddrinfo_async(fdkml_loop_val(loop)->raw, query.host, query.service, query.family, query.socktype,
                                query.protocol, query.flags, on_addrinfo, p, &op);
  query_free(&query);
  CAMLreturn(fdkml_started(p, r, op, "fdk_getaddrinfo_async"));
}
