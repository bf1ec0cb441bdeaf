/* SPDX-License-Identifier: MIT */
/* Sockets: TCP and UDP over 127.0.0.1 and ::1, unix sockets of every type, socketpair,
 * connect and accept in both forms, half-close, resets, refused and missing peers,
 * SIGPIPE, descriptor passing and truncated control messages, cancellation, name
 * resolution, bad arguments. Traffic stays on loopback and unix sockets. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "slow_resolver.h"
#include "testutil.h"

/* helpers -------------------------------------------------------------------------- */

typedef struct {
  struct sockaddr_storage ss;
  socklen_t len;
} addr_t;

static addr_t loopback(int family, uint16_t port) {
  addr_t a;
  memset(&a, 0, sizeof a);
  if (family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&a.ss;
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.len = sizeof *in;
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    in6->sin6_addr = in6addr_loopback;
    a.len = sizeof *in6;
  }
  return a;
}

static const struct sockaddr *sa(const addr_t *a) { return (const struct sockaddr *)&a->ss; }

/* A socket bound to loopback (port chosen by the kernel); *bound gets its address. */
static fdk_fd *bound_socket(int family, int type, addr_t *bound) {
  fdk_fd *s;
  assert_int_equal(fdk_socket(&s, family, type, 0), 0);
  addr_t any = loopback(family, 0);
  assert_int_equal(fdk_bind(s, sa(&any), any.len), 0);
  bound->len = sizeof bound->ss;
  assert_int_equal(fdk_getsockname(s, (struct sockaddr *)&bound->ss, &bound->len), 0);
  return s;
}

static fdk_fd *tcp_listener(int family, int backlog, addr_t *bound) {
  fdk_fd *l = bound_socket(family, SOCK_STREAM, bound);
  assert_int_equal(fdk_listen(l, backlog), 0);
  return l;
}

/* A directory for unix socket paths, removed with everything in it by unix_dir_done. */
typedef struct {
  char dir[64];
} unix_dir;

static void unix_dir_new(unix_dir *d) {
  snprintf(d->dir, sizeof d->dir, "/tmp/fdkit-net-XXXXXX");
  assert_non_null(mkdtemp(d->dir));
}

static addr_t unix_addr(const unix_dir *d, const char *name) {
  addr_t a;
  memset(&a, 0, sizeof a);
  struct sockaddr_un *un = (struct sockaddr_un *)&a.ss;
  un->sun_family = AF_UNIX;
  snprintf(un->sun_path, sizeof un->sun_path, "%s/%s", d->dir, name);
  a.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un->sun_path) + 1);
  return a;
}

static void unix_dir_done(unix_dir *d, const char *const *names) {
  for (; *names; names++) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", d->dir, *names);
    unlink(path);
  }
  assert_int_equal(rmdir(d->dir), 0);
}

static fdk_fd *unix_bound(const unix_dir *d, const char *name, int type) {
  fdk_fd *s;
  assert_int_equal(fdk_socket(&s, AF_UNIX, type, 0), 0);
  addr_t a = unix_addr(d, name);
  assert_int_equal(fdk_bind(s, sa(&a), a.len), 0);
  return s;
}

static int same_addr(const addr_t *a, const struct sockaddr_storage *b, socklen_t blen) {
  return a->len == blen && memcmp(&a->ss, b, blen) == 0;
}

static ssize_t send_bytes(fdk_fd *fd, const void *buf, size_t len) {
  struct iovec v = {(void *)buf, len};
  return fdk_send_msg(fd, &v, 1, NULL, 0, NULL, 0);
}

static ssize_t recv_bytes(fdk_fd *fd, void *buf, size_t len) {
  struct iovec v = {buf, len};
  return fdk_recv_msg(fd, &v, 1, NULL, NULL, NULL, NULL, NULL);
}

/* Receives exactly len bytes from a stream socket. */
static void recv_all(fdk_fd *fd, char *buf, size_t len) {
  for (size_t got = 0; got < len;) {
    ssize_t n = recv_bytes(fd, buf + got, len - got);
    assert_true(n > 0);
    got += (size_t)n;
  }
}

/* A connected pair over a listener of the given family (stream). */
static void tcp_pair(int family, fdk_fd **client, fdk_fd **server) {
  addr_t a;
  fdk_fd *l = tcp_listener(family, 8, &a);
  assert_int_equal(fdk_socket(client, family, SOCK_STREAM, 0), 0);
  assert_int_equal(fdk_connect(*client, sa(&a), a.len), 0);
  assert_int_equal(fdk_accept(server, l, NULL, NULL), 0);
  fdk_fd_unref(l);
}

static void assert_cloexec_nonblock(fdk_fd *fd) {
  int raw = fdk_fd_raw(fd);
  assert_true(fcntl(raw, F_GETFD) & FD_CLOEXEC);
  assert_true(fcntl(raw, F_GETFL) & O_NONBLOCK);
  assert_int_equal(fdk_fd_is_blocking(fd), 0);
}

typedef struct {
  int calls;
  int result;
  fdk_fd *conn;
  char detail[256];
} accept_result;

static void record_accept(int result, fdk_fd *conn, void *data) {
  accept_result *r = data;
  r->calls++;
  r->result = result;
  r->conn = conn;
  snprintf(r->detail, sizeof r->detail, "%s", result < 0 ? fdk_last_error() : "");
}

/* SIGPIPE watch: counts deliveries while a test runs. */
static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int sig) {
  (void)sig;
  sigpipes++;
}

typedef struct {
  struct sigaction old;
} sigpipe_watch;

static void sigpipe_watch_start(sigpipe_watch *w) {
  struct sigaction sa_new;
  memset(&sa_new, 0, sizeof sa_new);
  sa_new.sa_handler = on_sigpipe;
  sigpipes = 0;
  assert_int_equal(sigaction(SIGPIPE, &sa_new, &w->old), 0);
}

static void sigpipe_watch_stop(sigpipe_watch *w) {
  sigset_t pending;
  sigpending(&pending);
  assert_false(sigismember(&pending, SIGPIPE));
  assert_int_equal(sigpipes, 0);
  sigaction(SIGPIPE, &w->old, NULL);
}

/* basics --------------------------------------------------------------------------- */

static void test_socket_flags(void **state) {
  (void)state;
  fdk_fd *s, *a, *b;
  assert_int_equal(fdk_socket(&s, AF_INET, SOCK_STREAM, 0), 0);
  assert_cloexec_nonblock(s);
  int type = 0;
  assert_int_equal(fdk_getsockopt_int(s, SOL_SOCKET, SO_TYPE, &type), 0);
  assert_int_equal(type, SOCK_STREAM);
  fdk_fd_unref(s);
  assert_int_equal(fdk_socketpair(&a, &b, AF_UNIX, SOCK_SEQPACKET, 0), 0);
  assert_cloexec_nonblock(a);
  assert_cloexec_nonblock(b);
  fdk_fd_unref(a);
  fdk_fd_unref(b);
  s = NULL;
  assert_int_equal(fdk_socket(&s, 12345, SOCK_STREAM, 0), -EAFNOSUPPORT);
  assert_null(s);
  assert_non_null(strstr(fdk_last_error(), "socket"));
}

static void test_sockopts(void **state) {
  (void)state;
  fdk_fd *s;
  assert_int_equal(fdk_socket(&s, AF_INET6, SOCK_STREAM, 0), 0);
  int v = -1;
  assert_int_equal(fdk_setsockopt_int(s, SOL_SOCKET, SO_REUSEADDR, 1), 0);
  assert_int_equal(fdk_getsockopt_int(s, SOL_SOCKET, SO_REUSEADDR, &v), 0);
  assert_int_equal(v, 1);
  assert_int_equal(fdk_setsockopt_int(s, IPPROTO_TCP, TCP_NODELAY, 1), 0);
  assert_int_equal(fdk_getsockopt_int(s, IPPROTO_TCP, TCP_NODELAY, &v), 0);
  assert_int_equal(v, 1);
  assert_int_equal(fdk_setsockopt_int(s, IPPROTO_IPV6, IPV6_V6ONLY, 1), 0);
  assert_int_equal(fdk_getsockopt_int(s, IPPROTO_IPV6, IPV6_V6ONLY, &v), 0);
  assert_int_equal(v, 1);
  assert_int_equal(fdk_getsockopt_int(s, SOL_SOCKET, 99999, &v), -ENOPROTOOPT);
  assert_non_null(strstr(fdk_last_error(), "getsockopt"));
  fdk_fd_unref(s);
}

/* Connect, accept with the peer's address, both names, bytes both ways, end of stream. */
static void stream_roundtrip(int family) {
  addr_t a;
  fdk_fd *l = tcp_listener(family, 8, &a), *c, *s;
  assert_int_equal(fdk_socket(&c, family, SOCK_STREAM, 0), 0);
  assert_int_equal(fdk_connect(c, sa(&a), a.len), 0);
  addr_t peer = {.len = sizeof peer.ss};
  assert_int_equal(fdk_accept(&s, l, (struct sockaddr *)&peer.ss, &peer.len), 0);
  assert_cloexec_nonblock(s);
  addr_t local = {.len = sizeof local.ss}, remote = {.len = sizeof remote.ss};
  assert_int_equal(fdk_getsockname(c, (struct sockaddr *)&local.ss, &local.len), 0);
  assert_true(same_addr(&local, &peer.ss, peer.len));
  assert_int_equal(fdk_getpeername(c, (struct sockaddr *)&remote.ss, &remote.len), 0);
  assert_true(same_addr(&a, &remote.ss, remote.len));

  assert_int_equal(send_bytes(c, "ping", 4), 4);
  char buf[16];
  recv_all(s, buf, 4);
  assert_memory_equal(buf, "ping", 4);
  struct iovec out[2] = {{"po", 2}, {"ng", 2}};
  assert_int_equal(fdk_send_msg(s, out, 2, NULL, 0, NULL, 0), 4);
  recv_all(c, buf, 4);
  assert_memory_equal(buf, "pong", 4);
  fdk_fd_unref(s);
  assert_int_equal(recv_bytes(c, buf, sizeof buf), 0);
  fdk_fd_unref(c);
  fdk_fd_unref(l);
}

static void test_tcp4(void **state) {
  (void)state;
  stream_roundtrip(AF_INET);
}

static void test_tcp6(void **state) {
  (void)state;
  stream_roundtrip(AF_INET6);
}

/* Datagrams with the sender's address, and a datagram cut short by small buffers. */
static void udp_roundtrip(int family) {
  addr_t ra, sa_;
  fdk_fd *r = bound_socket(family, SOCK_DGRAM, &ra);
  fdk_fd *s = bound_socket(family, SOCK_DGRAM, &sa_);
  struct iovec v = {"hello", 5};
  assert_int_equal(fdk_send_msg(s, &v, 1, sa(&ra), ra.len, NULL, 0), 5);
  char buf[32];
  struct iovec in = {buf, sizeof buf};
  struct sockaddr_storage from;
  socklen_t fromlen = sizeof from;
  unsigned flags = 99;
  assert_int_equal(fdk_recv_msg(r, &in, 1, (struct sockaddr *)&from, &fromlen, NULL, NULL, &flags), 5);
  assert_memory_equal(buf, "hello", 5);
  assert_true(same_addr(&sa_, &from, fromlen));
  assert_int_equal(flags, 0);

  char big[100];
  memset(big, 'x', sizeof big);
  struct iovec bv = {big, sizeof big};
  assert_int_equal(fdk_send_msg(s, &bv, 1, sa(&ra), ra.len, NULL, 0), 100);
  struct iovec small = {buf, 10};
  assert_int_equal(fdk_recv_msg(r, &small, 1, NULL, NULL, NULL, NULL, &flags), 10);
  assert_int_equal(flags, FDK_MSG_TRUNC);
  /* An empty datagram is a message too. */
  assert_int_equal(fdk_send_msg(s, NULL, 0, sa(&ra), ra.len, NULL, 0), 0);
  assert_int_equal(fdk_recv_msg(r, &in, 1, NULL, NULL, NULL, NULL, &flags), 0);
  assert_int_equal(flags, 0);
  fdk_fd_unref(r);
  fdk_fd_unref(s);
}

static void test_udp4(void **state) {
  (void)state;
  udp_roundtrip(AF_INET);
}

static void test_udp6(void **state) {
  (void)state;
  udp_roundtrip(AF_INET6);
}

/* unix sockets --------------------------------------------------------------------- */

static void unix_connected(int type) {
  unix_dir d;
  unix_dir_new(&d);
  fdk_fd *l = unix_bound(&d, "l", type), *c, *s;
  assert_int_equal(fdk_listen(l, 4), 0);
  assert_int_equal(fdk_socket(&c, AF_UNIX, type, 0), 0);
  addr_t a = unix_addr(&d, "l");
  assert_int_equal(fdk_connect(c, sa(&a), a.len), 0);
  struct sockaddr_storage peer;
  socklen_t peerlen = sizeof peer;
  assert_int_equal(fdk_accept(&s, l, (struct sockaddr *)&peer, &peerlen), 0);
  /* An unbound client has no name: just the family. */
  assert_int_equal(peerlen, sizeof(sa_family_t));
  assert_int_equal(send_bytes(c, "abc", 3), 3);
  assert_int_equal(send_bytes(c, "defg", 4), 4);
  char buf[16];
  if (type == SOCK_SEQPACKET) {
    /* Message boundaries hold. */
    assert_int_equal(recv_bytes(s, buf, sizeof buf), 3);
    assert_int_equal(recv_bytes(s, buf, sizeof buf), 4);
    assert_memory_equal(buf, "defg", 4);
  } else {
    recv_all(s, buf, 7);
    assert_memory_equal(buf, "abcdefg", 7);
  }
  fdk_fd_unref(c);
  assert_int_equal(recv_bytes(s, buf, sizeof buf), 0);
  fdk_fd_unref(s);
  fdk_fd_unref(l);
  unix_dir_done(&d, (const char *[]){"l", NULL});
}

static void test_unix_stream(void **state) {
  (void)state;
  unix_connected(SOCK_STREAM);
}

static void test_unix_seqpacket(void **state) {
  (void)state;
  unix_connected(SOCK_SEQPACKET);
}

static void test_unix_dgram(void **state) {
  (void)state;
  unix_dir d;
  unix_dir_new(&d);
  fdk_fd *r = unix_bound(&d, "r", SOCK_DGRAM), *s = unix_bound(&d, "s", SOCK_DGRAM);
  addr_t ra = unix_addr(&d, "r"), sa_ = unix_addr(&d, "s");
  struct iovec v = {"datagram", 8};
  assert_int_equal(fdk_send_msg(s, &v, 1, sa(&ra), ra.len, NULL, 0), 8);
  char buf[16];
  struct iovec in = {buf, sizeof buf};
  struct sockaddr_storage from;
  socklen_t fromlen = sizeof from;
  assert_int_equal(fdk_recv_msg(r, &in, 1, (struct sockaddr *)&from, &fromlen, NULL, NULL, NULL), 8);
  assert_true(same_addr(&sa_, &from, fromlen));
  /* Connected datagram sockets need no destination. */
  assert_int_equal(fdk_connect(s, sa(&ra), ra.len), 0);
  assert_int_equal(send_bytes(s, "again", 5), 5);
  assert_int_equal(recv_bytes(r, buf, sizeof buf), 5);
  fdk_fd_unref(r);
  fdk_fd_unref(s);
  unix_dir_done(&d, (const char *[]){"r", "s", NULL});
}

static void test_socketpair(void **state) {
  (void)state;
  static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  for (size_t i = 0; i < 3; i++) {
    fdk_fd *a, *b;
    assert_int_equal(fdk_socketpair(&a, &b, AF_UNIX, types[i], 0), 0);
    assert_int_equal(send_bytes(a, "12345", 5), 5);
    assert_int_equal(send_bytes(b, "xy", 2), 2);
    char buf[8];
    assert_int_equal(recv_bytes(b, buf, sizeof buf), 5);
    assert_memory_equal(buf, "12345", 5);
    assert_int_equal(recv_bytes(a, buf, sizeof buf), 2);
    fdk_fd_unref(a);
    fdk_fd_unref(b);
  }
  fdk_fd *a = NULL, *b = NULL;
  assert_int_equal(fdk_socketpair(&a, &b, AF_INET, SOCK_STREAM, 0), -EOPNOTSUPP);
  assert_null(a);
  assert_null(b);
}

/* failures ------------------------------------------------------------------------- */

typedef struct {
  fdkt_result r;
  int done;
} waited;

static void on_waited(int64_t result, void *data) {
  waited *w = data;
  fdkt_record(result, &w->r);
  w->done = 1;
}

/* Runs fdk_connect_async to completion and returns its result. */
static int64_t connect_on_loop(fdk_fd *s, const addr_t *a) {
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  waited w = {{0}, 0};
  assert_int_equal(fdk_connect_async(loop, s, sa(a), a->len, on_waited, &w, NULL), 0);
  assert_int_equal(w.done, 0);
  fdkt_run_until(loop, &w.done, 10000);
  assert_int_equal(w.r.calls, 1);
  assert_int_equal(fdk_loop_free(loop), 0);
  return w.r.result;
}

static void test_connect_refused(void **state) {
  (void)state;
  static const int families[] = {AF_INET, AF_INET6};
  for (size_t i = 0; i < 2; i++) {
    /* A bound socket that does not listen keeps the port ours and refuses. */
    addr_t a;
    fdk_fd *holder = bound_socket(families[i], SOCK_STREAM, &a);
    fdk_fd *c;
    assert_int_equal(fdk_socket(&c, families[i], SOCK_STREAM, 0), 0);
    assert_int_equal(fdk_connect(c, sa(&a), a.len), -ECONNREFUSED);
    assert_non_null(strstr(fdk_last_error(), "connect"));
    assert_int_equal(fdk_fd_close(c), 0);
    fdk_fd_unref(c);
    assert_int_equal(fdk_socket(&c, families[i], SOCK_STREAM, 0), 0);
    assert_int_equal(connect_on_loop(c, &a), -ECONNREFUSED);
    assert_int_equal(fdk_fd_close(c), 0);
    fdk_fd_unref(c);
    fdk_fd_unref(holder);
  }
}

/* A listener whose accept queue is full drops SYNs: with one SYN retry allowed
 * (TCP_SYNCNT) the connect gives up after about 3 s with -ETIMEDOUT. */
static void test_connect_timed_out(void **state) {
  (void)state;
  addr_t a;
  fdk_fd *l = tcp_listener(AF_INET, 0, &a);
  enum { FILLERS = 3 };
  int fillers[FILLERS];
  for (int i = 0; i < FILLERS; i++) {
    fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fillers[i] >= 0);
    assert_true(connect(fillers[i], sa(&a), a.len) == 0 || errno == EINPROGRESS);
  }
  usleep(100000); /* the handshakes that fit complete; the queue is full */
  fdk_fd *c;
  assert_int_equal(fdk_socket(&c, AF_INET, SOCK_STREAM, 0), 0);
  assert_int_equal(fdk_setsockopt_int(c, IPPROTO_TCP, TCP_SYNCNT, 1), 0);
  int64_t t0 = fdk_now_ns();
  assert_int_equal(connect_on_loop(c, &a), -ETIMEDOUT);
  assert_true(fdk_now_ns() - t0 > 1000000000LL);
  assert_int_equal(fdk_fd_close(c), 0);
  fdk_fd_unref(c);
  for (int i = 0; i < FILLERS; i++) close(fillers[i]);
  fdk_fd_unref(l);
}

static void test_connect_missing_unix_path(void **state) {
  (void)state;
  unix_dir d;
  unix_dir_new(&d);
  addr_t a = unix_addr(&d, "missing");
  fdk_fd *c;
  assert_int_equal(fdk_socket(&c, AF_UNIX, SOCK_STREAM, 0), 0);
  assert_int_equal(fdk_connect(c, sa(&a), a.len), -ENOENT);
  assert_int_equal(connect_on_loop(c, &a), -ENOENT);
  assert_int_equal(fdk_fd_close(c), 0);
  fdk_fd_unref(c);
  unix_dir_done(&d, (const char *[]){NULL});
}

/* A full AF_UNIX backlog answers -EAGAIN at once, in both forms, instead of spinning
 * on a socket that polls writable. SIGALRM's default action ends a test that spins. */
static void test_unix_backlog_full(void **state) {
  (void)state;
  unix_dir d;
  unix_dir_new(&d);
  fdk_fd *l = unix_bound(&d, "l", SOCK_STREAM);
  assert_int_equal(fdk_listen(l, 0), 0);
  addr_t a = unix_addr(&d, "l");
  enum { MAX_CLIENTS = 16 };
  fdk_fd *clients[MAX_CLIENTS];
  int n = 0, r = 0;
  alarm(20);
  int64_t t0 = fdk_now_ns();
  for (; n < MAX_CLIENTS; n++) {
    assert_int_equal(fdk_socket(&clients[n], AF_UNIX, SOCK_STREAM, 0), 0);
    r = fdk_connect(clients[n], sa(&a), a.len);
    if (r < 0) break;
  }
  assert_int_equal(r, -EAGAIN);
  assert_non_null(strstr(fdk_last_error(), "backlog"));
  assert_true(n >= 1 && n < MAX_CLIENTS);
  /* The same socket, asynchronously: the callback gets -EAGAIN with the detail. */
  assert_int_equal(connect_on_loop(clients[n], &a), -EAGAIN);
  alarm(0);
  assert_true(fdk_now_ns() - t0 < 5000000000LL);
  /* Once the listener takes one, there is room again. */
  fdk_fd *s;
  assert_int_equal(fdk_accept(&s, l, NULL, NULL), 0);
  assert_int_equal(fdk_connect(clients[n], sa(&a), a.len), 0);
  for (int i = 0; i <= n; i++) fdk_fd_unref(clients[i]);
  fdk_fd_unref(s);
  fdk_fd_unref(l);
  unix_dir_done(&d, (const char *[]){"l", NULL});
}

/* Sending to a gone peer: -EPIPE or -ECONNRESET, in both forms, and no SIGPIPE. */
static void test_gone_peer_no_sigpipe(void **state) {
  (void)state;
  sigpipe_watch w;
  sigpipe_watch_start(&w);
  fdk_fd *a, *b;
  assert_int_equal(fdk_socketpair(&a, &b, AF_UNIX, SOCK_STREAM, 0), 0);
  fdk_fd_unref(b);
  assert_int_equal(send_bytes(a, "x", 1), -EPIPE);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  waited wt = {{0}, 0};
  struct iovec v = {"x", 1};
  assert_int_equal(fdk_send_msg_async(loop, a, &v, 1, NULL, 0, NULL, 0, on_waited, &wt, NULL), 0);
  fdkt_run_until(loop, &wt.done, 5000);
  assert_int_equal(wt.r.result, -EPIPE);
  fdk_fd_unref(a);

  /* TCP: the peer closes with unread data, which resets the connection. */
  fdk_fd *c, *s;
  tcp_pair(AF_INET, &c, &s);
  assert_int_equal(send_bytes(c, "unread", 6), 6);
  fdk_fd_unref(s);
  char buf[8];
  assert_int_equal(recv_bytes(c, buf, sizeof buf), -ECONNRESET);
  wt.done = 0;
  assert_int_equal(fdk_send_msg_async(loop, c, &v, 1, NULL, 0, NULL, 0, on_waited, &wt, NULL), 0);
  fdkt_run_until(loop, &wt.done, 5000);
  assert_true(wt.r.result == -EPIPE || wt.r.result == -ECONNRESET);
  ssize_t r = send_bytes(c, "x", 1);
  assert_true(r == -EPIPE || r == -ECONNRESET);
  fdk_fd_unref(c);
  assert_int_equal(fdk_loop_free(loop), 0);
  sigpipe_watch_stop(&w);
}

/* The peer resets while a receive waits: the receive completes with -ECONNRESET. */
static void test_peer_reset_async(void **state) {
  (void)state;
  fdk_fd *c, *s;
  tcp_pair(AF_INET6, &c, &s);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  char buf[8];
  struct iovec in = {buf, sizeof buf};
  waited w = {{0}, 0};
  assert_int_equal(fdk_recv_msg_async(loop, c, &in, 1, NULL, NULL, NULL, NULL, NULL, on_waited, &w, NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  /* Unread data at close makes the kernel reset rather than end the stream. */
  assert_int_equal(send_bytes(c, "unread", 6), 6);
  struct pollfd p = {fdk_fd_raw(s), POLLIN, 0};
  assert_int_equal(poll(&p, 1, 5000), 1);
  fdk_fd_unref(s);
  fdkt_run_until(loop, &w.done, 5000);
  assert_int_equal(w.r.result, -ECONNRESET);
  assert_non_null(strstr(w.r.detail, "recv_msg"));
  assert_int_equal(fdk_loop_free(loop), 0);
  fdk_fd_unref(c);
}

/* Half-close: the writer shuts down its sending side (asynchronously), the reader sees
 * end of stream and can still answer. */
static void test_half_close(void **state) {
  (void)state;
  fdk_fd *c, *s;
  tcp_pair(AF_INET, &c, &s);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  assert_int_equal(send_bytes(c, "last", 4), 4);
  waited w = {{0}, 0};
  assert_int_equal(fdk_shutdown_async(loop, c, FDK_SHUT_WR, on_waited, &w, NULL), 0);
  assert_int_equal(w.done, 0);
  fdkt_run_until(loop, &w.done, 5000);
  assert_int_equal(w.r.result, 0);
  char buf[8];
  recv_all(s, buf, 4);
  assert_int_equal(recv_bytes(s, buf, sizeof buf), 0);
  assert_int_equal(send_bytes(c, "x", 1), -EPIPE);
  assert_int_equal(send_bytes(s, "reply", 5), 5);
  recv_all(c, buf, 5);
  assert_memory_equal(buf, "reply", 5);
  assert_int_equal(fdk_shutdown(s, FDK_SHUT_RDWR), 0);
  assert_int_equal(recv_bytes(c, buf, sizeof buf), 0);
  fdk_fd_unref(c);
  fdk_fd_unref(s);
  assert_int_equal(fdk_loop_free(loop), 0);
}

static void test_closed_handle(void **state) {
  (void)state;
  fdk_fd *a, *b, *p;
  assert_int_equal(fdk_socketpair(&a, &b, AF_UNIX, SOCK_STREAM, 0), 0);
  assert_int_equal(fdk_socket(&p, AF_UNIX, SOCK_DGRAM, 0), 0);
  assert_int_equal(fdk_fd_close(p), 0);
  /* A closed handle among the descriptors to pass fails the send; nothing is sent. */
  struct iovec v = {"x", 1};
  assert_int_equal(fdk_send_msg(a, &v, 1, NULL, 0, &p, 1), -EBADF);
  char buf[4];
  assert_int_equal(recv(fdk_fd_raw(b), buf, sizeof buf, MSG_DONTWAIT), -1);
  assert_int_equal(errno, EAGAIN);
  fdk_fd_close(a);
  assert_int_equal(send_bytes(a, "x", 1), -EBADF);
  assert_int_equal(fdk_shutdown(a, FDK_SHUT_WR), -EBADF);
  int v2;
  assert_int_equal(fdk_getsockopt_int(a, SOL_SOCKET, SO_TYPE, &v2), -EBADF);
  fdk_fd_unref(a);
  fdk_fd_unref(b);
  fdk_fd_unref(p);
}

/* descriptor passing ---------------------------------------------------------------- */

/* n pipe read ends, each holding one byte (its index) and then end of file; odd ones
 * in blocking mode, so the receiver's handles must read the mode from each. */
static void make_passable(fdk_fd **fds, int n) {
  for (int i = 0; i < n; i++) {
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC | (i % 2 ? 0 : O_NONBLOCK)), 0);
    unsigned char byte = (unsigned char)i;
    assert_int_equal(write(p[1], &byte, 1), 1);
    close(p[1]);
    assert_int_equal(fdk_fd_adopt(&fds[i], p[0], 0), 0);
  }
}

static void check_received(fdk_fd **fds, int n) {
  for (int i = 0; i < n; i++) {
    int raw = fdk_fd_raw(fds[i]);
    assert_true(fcntl(raw, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(fdk_fd_is_blocking(fds[i]), i % 2);
    unsigned char byte;
    assert_int_equal(fdk_read(fds[i], &byte, 1), 1);
    assert_int_equal(byte, (unsigned char)i);
    assert_int_equal(fdk_read(fds[i], &byte, 1), 0);
    fdk_fd_unref(fds[i]);
  }
}

static void unref_all(fdk_fd **fds, int n) {
  for (int i = 0; i < n; i++) fdk_fd_unref(fds[i]);
}

static void test_pass_fds_sync(void **state) {
  (void)state;
  static const int counts[] = {1, 2, 3, 17, 64, 250};
  static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  static fdk_fd *out[253], *in[253];
  for (size_t t = 0; t < 3; t++) {
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
      int n = counts[k];
      fdk_fd *a, *b;
      assert_int_equal(fdk_socketpair(&a, &b, AF_UNIX, types[t], 0), 0);
      make_passable(out, n);
      struct iovec v = {"fds", 3};
      assert_int_equal(fdk_send_msg(a, &v, 1, NULL, 0, out, n), 3);
      unref_all(out, n);
      char buf[8];
      struct iovec iv = {buf, sizeof buf};
      /* Room for exactly n, or for the most a message can carry. */
      int room = k % 2 ? n : 253;
      unsigned flags = 99;
      assert_int_equal(fdk_recv_msg(b, &iv, 1, NULL, NULL, in, &room, &flags), 3);
      assert_memory_equal(buf, "fds", 3);
      assert_int_equal(flags, 0);
      assert_int_equal(room, n);
      check_received(in, n);
      fdk_fd_unref(a);
      fdk_fd_unref(b);
    }
  }
}

static void test_pass_fds_async(void **state) {
  (void)state;
  static const int counts[] = {1, 5, 250};
  static fdk_fd *out[250], *in[250];
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  for (size_t k = 0; k < 3; k++) {
    int n = counts[k];
    fdk_fd *a, *b;
    assert_int_equal(fdk_socketpair(&a, &b, AF_UNIX, SOCK_SEQPACKET, 0), 0);
    char buf[8];
    struct iovec iv = {buf, sizeof buf};
    int room = n;
    unsigned flags = 99;
    waited got = {{0}, 0}, sent = {{0}, 0};
    /* The receive waits first; the send copies the list and holds the handles, so the
     * caller drops its references at once. */
    assert_int_equal(fdk_recv_msg_async(loop, b, &iv, 1, NULL, NULL, in, &room, &flags, on_waited, &got, NULL), 0);
    make_passable(out, n);
    struct iovec v = {"async", 5};
    assert_int_equal(fdk_send_msg_async(loop, a, &v, 1, NULL, 0, out, n, on_waited, &sent, NULL), 0);
    unref_all(out, n);
    fdkt_run_until(loop, &got.done, 5000);
    fdkt_run_until(loop, &sent.done, 5000);
    assert_int_equal(sent.r.result, 5);
    assert_int_equal(got.r.result, 5);
    assert_memory_equal(buf, "async", 5);
    assert_int_equal(room, n);
    assert_int_equal(flags, 0);
    check_received(in, n);
    fdk_fd_unref(a);
    fdk_fd_unref(b);
  }
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* More descriptors than room: the bytes come, every descriptor that arrived is closed
 * and FDK_MSG_CTRUNC says so. room 3 for 4 also covers CMSG_SPACE's rounding, which
 * lets the kernel fit a fourth. */
static void test_truncated_control(void **state) {
  (void)state;
  static const int sent_counts[] = {5, 4, 1, 250};
  static const int rooms[] = {2, 3, 0, 100};
  static fdk_fd *out[250];
  for (size_t k = 0; k < 4; k++) {
    fdk_fd *a, *b;
    assert_int_equal(fdk_socketpair(&a, &b, AF_UNIX, k % 2 ? SOCK_DGRAM : SOCK_STREAM, 0), 0);
    int before = fdkt_count_fds();
    make_passable(out, sent_counts[k]);
    struct iovec v = {"payload", 7};
    assert_int_equal(fdk_send_msg(a, &v, 1, NULL, 0, out, sent_counts[k]), 7);
    unref_all(out, sent_counts[k]);
    char buf[16];
    struct iovec iv = {buf, sizeof buf};
    fdk_fd *in[100];
    int room = rooms[k];
    unsigned flags = 0;
    ssize_t r = room ? fdk_recv_msg(b, &iv, 1, NULL, NULL, in, &room, &flags)
                     : fdk_recv_msg(b, &iv, 1, NULL, NULL, NULL, NULL, &flags);
    assert_int_equal(r, 7);
    assert_memory_equal(buf, "payload", 7);
    assert_int_equal(flags, FDK_MSG_CTRUNC);
    assert_int_equal(room, 0);
    assert_int_equal(fdkt_count_fds(), before);
    fdk_fd_unref(a);
    fdk_fd_unref(b);
  }
}

/* A blocking-mode socket adopted from outside: async receive waits for readiness, then
 * reads without blocking. */
static void test_blocking_mode_socket(void **state) {
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  fdk_fd *a, *b;
  assert_int_equal(fdk_fd_adopt(&a, sv[0], FDK_FD_BLOCKING), 0);
  assert_int_equal(fdk_fd_adopt(&b, sv[1], FDK_FD_BLOCKING), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  char buf[8];
  struct iovec iv = {buf, sizeof buf};
  waited w = {{0}, 0};
  assert_int_equal(fdk_recv_msg_async(loop, b, &iv, 1, NULL, NULL, NULL, NULL, NULL, on_waited, &w, NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(send_bytes(a, "blk", 3), 3);
  fdkt_run_until(loop, &w.done, 5000);
  assert_int_equal(w.r.result, 3);
  /* Still blocking: fdkit never changes the mode. */
  assert_int_equal(fcntl(sv[1], F_GETFL) & O_NONBLOCK, 0);

  /* Connect on a blocking TCP socket runs on the worker pool. */
  addr_t la;
  fdk_fd *l = tcp_listener(AF_INET, 4, &la);
  int raw = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  fdk_fd *c;
  assert_int_equal(fdk_fd_adopt(&c, raw, FDK_FD_BLOCKING), 0);
  assert_int_equal(connect_on_loop(c, &la), 0);
  fdk_fd *s;
  assert_int_equal(fdk_accept(&s, l, NULL, NULL), 0);
  fdk_fd_unref(s);
  fdk_fd_unref(c);
  fdk_fd_unref(l);
  fdk_fd_unref(a);
  fdk_fd_unref(b);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* cancellation --------------------------------------------------------------------- */

static void test_cancel_accept(void **state) {
  (void)state;
  addr_t a;
  fdk_fd *l = tcp_listener(AF_INET, 4, &a);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  accept_result r = {0, 0, NULL, ""};
  fdk_op *op = NULL;
  assert_int_equal(fdk_accept_async(loop, l, NULL, NULL, record_accept, &r, &op), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(fdk_op_cancel(op), 0);
  fdkt_run_until(loop, &r.calls, 5000);
  assert_int_equal(r.result, -ECANCELED);
  assert_null(r.conn);
  /* The listener still works, asynchronously too. */
  fdk_fd *c;
  assert_int_equal(fdk_socket(&c, AF_INET, SOCK_STREAM, 0), 0);
  assert_int_equal(fdk_connect(c, sa(&a), a.len), 0);
  struct sockaddr_storage peer;
  socklen_t peerlen = sizeof peer;
  r.calls = 0;
  assert_int_equal(fdk_accept_async(loop, l, (struct sockaddr *)&peer, &peerlen, record_accept, &r, NULL), 0);
  fdkt_run_until(loop, &r.calls, 5000);
  assert_int_equal(r.result, 0);
  assert_non_null(r.conn);
  assert_int_equal(peerlen, sizeof(struct sockaddr_in));
  assert_cloexec_nonblock(r.conn);
  fdk_fd_unref(r.conn);
  fdk_fd_unref(c);
  fdk_fd_unref(l);
  assert_int_equal(fdk_loop_free(loop), 0);
}

static void test_cancel_recv(void **state) {
  (void)state;
  fdk_fd *a, *b;
  assert_int_equal(fdk_socketpair(&a, &b, AF_UNIX, SOCK_STREAM, 0), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  char buf[8];
  struct iovec iv = {buf, sizeof buf};
  fdk_fd *in[4];
  int room = 4;
  waited w = {{0}, 0};
  fdk_op *op;
  assert_int_equal(fdk_recv_msg_async(loop, b, &iv, 1, NULL, NULL, in, &room, NULL, on_waited, &w, &op), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(fdk_op_cancel(op), 0);
  fdkt_run_until(loop, &w.done, 5000);
  assert_int_equal(w.r.result, -ECANCELED);
  assert_int_equal(room, 4); /* untouched: out-parameters are written on success only */
  /* Nothing was consumed: what is sent now is received whole. */
  assert_int_equal(send_bytes(a, "after", 5), 5);
  w.done = 0;
  assert_int_equal(fdk_recv_msg_async(loop, b, &iv, 1, NULL, NULL, in, &room, NULL, on_waited, &w, NULL), 0);
  fdkt_run_until(loop, &w.done, 5000);
  assert_int_equal(w.r.result, 5);
  assert_memory_equal(buf, "after", 5);
  assert_int_equal(room, 0);
  fdk_fd_unref(a);
  fdk_fd_unref(b);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* A listener with backlog 0 and one connection waiting drops further SYNs, so a second
 * connect stays pending until the kernel retries it (about a second later). */
static void test_cancel_connect(void **state) {
  (void)state;
  addr_t a;
  fdk_fd *l = tcp_listener(AF_INET, 0, &a), *first, *second;
  assert_int_equal(fdk_socket(&first, AF_INET, SOCK_STREAM, 0), 0);
  assert_int_equal(fdk_connect(first, sa(&a), a.len), 0);
  assert_int_equal(fdk_socket(&second, AF_INET, SOCK_STREAM, 0), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  waited w = {{0}, 0};
  fdk_op *op;
  assert_int_equal(fdk_connect_async(loop, second, sa(&a), a.len, on_waited, &w, &op), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(fdk_op_cancel(op), 0);
  fdkt_run_until(loop, &w.done, 5000);
  assert_int_equal(w.r.result, -ECANCELED);
  /* Make room; connecting again waits for the attempt still under way in the kernel. */
  fdk_fd *s1, *s2;
  assert_int_equal(fdk_accept(&s1, l, NULL, NULL), 0);
  w.done = 0;
  assert_int_equal(fdk_connect_async(loop, second, sa(&a), a.len, on_waited, &w, NULL), 0);
  fdkt_run_until(loop, &w.done, 15000);
  assert_int_equal(w.r.result, 0);
  assert_int_equal(fdk_accept(&s2, l, NULL, NULL), 0);
  assert_int_equal(send_bytes(second, "ok", 2), 2);
  char buf[2];
  recv_all(s2, buf, 2);
  fdk_fd_unref(s1);
  fdk_fd_unref(s2);
  fdk_fd_unref(first);
  fdk_fd_unref(second);
  fdk_fd_unref(l);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* Freeing the loop under a pending accept and receive completes them with -ECANCELED. */
static void test_loop_free_cancels(void **state) {
  (void)state;
  addr_t a;
  fdk_fd *l = tcp_listener(AF_INET6, 4, &a), *x, *y;
  assert_int_equal(fdk_socketpair(&x, &y, AF_UNIX, SOCK_DGRAM, 0), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  accept_result r = {0, 0, NULL, ""};
  waited w = {{0}, 0};
  char buf[4];
  struct iovec iv = {buf, sizeof buf};
  assert_int_equal(fdk_accept_async(loop, l, NULL, NULL, record_accept, &r, NULL), 0);
  assert_int_equal(fdk_recv_msg_async(loop, y, &iv, 1, NULL, NULL, NULL, NULL, NULL, on_waited, &w, NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(fdk_loop_free(loop), 0);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.result, -ECANCELED);
  assert_int_equal(w.done, 1);
  assert_int_equal(w.r.result, -ECANCELED);
  fdk_fd_unref(l);
  fdk_fd_unref(x);
  fdk_fd_unref(y);
}

/* threads ------------------------------------------------------------------------- */

typedef struct {
  fdk_fd *listener;
  int result;
} sync_server;

/* A blocking server on its own thread: accept, take a descriptor, write through it,
 * answer, wait for the end of the stream. */
static void *serve_once(void *arg) {
  sync_server *srv = arg;
  fdk_fd *conn, *passed[2];
  srv->result = -1;
  if (fdk_accept(&conn, srv->listener, NULL, NULL) < 0) return NULL;
  char buf[8];
  struct iovec iv = {buf, sizeof buf};
  int room = 2;
  unsigned flags;
  if (fdk_recv_msg(conn, &iv, 1, NULL, NULL, passed, &room, &flags) == 4 && room == 1 && flags == 0) {
    if (fdk_write(passed[0], "via", 3) == 3 && send_bytes(conn, "done", 4) == 4 &&
        recv_bytes(conn, buf, sizeof buf) == 0)
      srv->result = 0;
    fdk_fd_unref(passed[0]);
  }
  fdk_fd_unref(conn);
  return NULL;
}

static void *cancel_from_thread(void *arg) {
  fdk_op_cancel(arg);
  return NULL;
}

static void *close_from_thread(void *arg) {
  fdk_fd_close(arg);
  return NULL;
}

/* Synchronous calls on another thread against asynchronous ones on the loop; cancel and
 * close from other threads while operations wait. */
static void test_threads(void **state) {
  (void)state;
  unix_dir d;
  unix_dir_new(&d);
  sync_server srv = {unix_bound(&d, "l", SOCK_STREAM), 1};
  assert_int_equal(fdk_listen(srv.listener, 4), 0);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, serve_once, &srv), 0);

  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdk_fd *c, *r, *w;
  assert_int_equal(fdk_socket(&c, AF_UNIX, SOCK_STREAM, 0), 0);
  addr_t a = unix_addr(&d, "l");
  waited cw = {{0}, 0};
  assert_int_equal(fdk_connect_async(loop, c, sa(&a), a.len, on_waited, &cw, NULL), 0);
  fdkt_run_until(loop, &cw.done, 5000);
  assert_int_equal(cw.r.result, 0);
  assert_int_equal(fdk_pipe(&r, &w), 0);
  struct iovec v = {"pass", 4};
  waited sw = {{0}, 0}, rw = {{0}, 0};
  assert_int_equal(fdk_send_msg_async(loop, c, &v, 1, NULL, 0, &w, 1, on_waited, &sw, NULL), 0);
  fdk_fd_unref(w);
  char buf[8];
  struct iovec iv = {buf, sizeof buf};
  assert_int_equal(fdk_recv_msg_async(loop, c, &iv, 1, NULL, NULL, NULL, NULL, NULL, on_waited, &rw, NULL), 0);
  fdkt_run_until(loop, &rw.done, 5000);
  assert_int_equal(sw.r.result, 4);
  assert_int_equal(rw.r.result, 4);
  assert_memory_equal(buf, "done", 4);
  assert_int_equal(fdk_read(r, buf, sizeof buf), 3);
  assert_memory_equal(buf, "via", 3);
  assert_int_equal(fdk_shutdown(c, FDK_SHUT_WR), 0);
  pthread_join(t, NULL);
  assert_int_equal(srv.result, 0);

  /* A pending accept cancelled from another thread. */
  accept_result ar = {0, 0, NULL, ""};
  fdk_op *op;
  assert_int_equal(fdk_accept_async(loop, srv.listener, NULL, NULL, record_accept, &ar, &op), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(pthread_create(&t, NULL, cancel_from_thread, op), 0);
  fdkt_run_until(loop, &ar.calls, 5000);
  pthread_join(t, NULL);
  assert_int_equal(ar.result, -ECANCELED);

  /* A pending receive whose socket another thread closes. */
  fdk_fd *x, *y;
  assert_int_equal(fdk_socketpair(&x, &y, AF_UNIX, SOCK_SEQPACKET, 0), 0);
  rw.done = 0;
  assert_int_equal(fdk_recv_msg_async(loop, y, &iv, 1, NULL, NULL, NULL, NULL, NULL, on_waited, &rw, NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(pthread_create(&t, NULL, close_from_thread, y), 0);
  fdkt_run_until(loop, &rw.done, 5000);
  pthread_join(t, NULL);
  assert_int_equal(rw.r.result, -ECANCELED);

  assert_int_equal(fdk_loop_free(loop), 0);
  fdk_fd_unref(x);
  fdk_fd_unref(y);
  fdk_fd_unref(c);
  fdk_fd_unref(r);
  fdk_fd_unref(srv.listener);
  unix_dir_done(&d, (const char *[]){"l", NULL});
}

/* echo under many connections --------------------------------------------------------- */

enum { ECHO_CONNS = 300, ECHO_LEN = 3000 };

typedef struct echo_world echo_world;

typedef struct {
  echo_world *w;
  fdk_fd *fd;
  char buf[1024];
  size_t have, sent;
} echo_conn;

typedef struct {
  echo_world *w;
  fdk_fd *fd;
  char out[ECHO_LEN], in[ECHO_LEN];
  size_t sent, got;
} echo_client;

struct echo_world {
  fdk_loop *loop;
  fdk_fd *listener;
  addr_t addr;
  int family;
  int accepted, closed_server, finished, failures;
  echo_client clients[ECHO_CONNS];
};

static void server_recv(echo_conn *c);

static void server_on_sent(int64_t n, void *data) {
  echo_conn *c = data;
  if (n < 0) {
    c->w->failures++;
    return;
  }
  c->sent += (size_t)n;
  if (c->sent < c->have) {
    struct iovec v = {c->buf + c->sent, c->have - c->sent};
    fdk_send_msg_async(c->w->loop, c->fd, &v, 1, NULL, 0, NULL, 0, server_on_sent, c, NULL);
    return;
  }
  server_recv(c);
}

static void server_on_recv(int64_t n, void *data) {
  echo_conn *c = data;
  if (n <= 0) {
    if (n < 0) c->w->failures++;
    c->w->closed_server++;
    fdk_fd_unref(c->fd);
    free(c);
    return;
  }
  c->have = (size_t)n;
  c->sent = 0;
  server_on_sent(0, c);
}

static void server_recv(echo_conn *c) {
  struct iovec v = {c->buf, sizeof c->buf};
  if (fdk_recv_msg_async(c->w->loop, c->fd, &v, 1, NULL, NULL, NULL, NULL, NULL, server_on_recv, c, NULL) < 0)
    c->w->failures++;
}

static void on_echo_accept(int result, fdk_fd *conn, void *data) {
  echo_world *w = data;
  if (result < 0) {
    w->failures++;
    return;
  }
  echo_conn *c = calloc(1, sizeof *c);
  c->w = w;
  c->fd = conn;
  server_recv(c);
  if (++w->accepted < ECHO_CONNS) fdk_accept_async(w->loop, w->listener, NULL, NULL, on_echo_accept, w, NULL);
}

static void client_step(echo_client *c);

static void client_on_recv(int64_t n, void *data) {
  echo_client *c = data;
  if (n <= 0) {
    c->w->failures++;
    return;
  }
  c->got += (size_t)n;
  client_step(c);
}

static void client_on_sent(int64_t n, void *data) {
  echo_client *c = data;
  if (n <= 0) {
    c->w->failures++;
    return;
  }
  c->sent += (size_t)n;
  client_step(c);
}

static void client_on_connected(int64_t r, void *data) {
  echo_client *c = data;
  if (r < 0) {
    c->w->failures++;
    return;
  }
  client_step(c);
}

/* Writes the whole message, then reads the whole echo, then closes. */
static void client_step(echo_client *c) {
  echo_world *w = c->w;
  if (c->sent < ECHO_LEN) {
    struct iovec v = {c->out + c->sent, ECHO_LEN - c->sent};
    fdk_send_msg_async(w->loop, c->fd, &v, 1, NULL, 0, NULL, 0, client_on_sent, c, NULL);
  } else if (c->got < ECHO_LEN) {
    struct iovec v = {c->in + c->got, ECHO_LEN - c->got};
    fdk_recv_msg_async(w->loop, c->fd, &v, 1, NULL, NULL, NULL, NULL, NULL, client_on_recv, c, NULL);
  } else {
    if (memcmp(c->in, c->out, ECHO_LEN) != 0) w->failures++;
    fdk_fd_unref(c->fd);
    w->finished++;
  }
}

static void echo_many(echo_world *w) {
  assert_int_equal(fdk_loop_new(&w->loop), 0);
  assert_int_equal(fdk_accept_async(w->loop, w->listener, NULL, NULL, on_echo_accept, w, NULL), 0);
  for (int i = 0; i < ECHO_CONNS; i++) {
    echo_client *c = &w->clients[i];
    c->w = w;
    for (int j = 0; j < ECHO_LEN; j++) c->out[j] = (char)(i * 31 + j);
    assert_int_equal(fdk_socket(&c->fd, w->family, SOCK_STREAM, 0), 0);
    assert_int_equal(fdk_connect_async(w->loop, c->fd, sa(&w->addr), w->addr.len, client_on_connected, c, NULL), 0);
  }
  int64_t deadline = fdk_now_ns() + 30000000000LL;
  while ((w->finished < ECHO_CONNS || w->closed_server < ECHO_CONNS) && w->failures == 0) {
    assert_true(fdk_now_ns() < deadline);
    assert_true(fdk_loop_run(w->loop, FDK_RUN_ONCE) >= 0);
  }
  assert_int_equal(w->failures, 0);
  assert_int_equal(w->accepted, ECHO_CONNS);
  assert_int_equal(fdk_loop_free(w->loop), 0);
  fdk_fd_unref(w->listener);
}

static void test_echo_many_tcp(void **state) {
  (void)state;
  echo_world *w = calloc(1, sizeof *w);
  w->family = AF_INET;
  w->listener = tcp_listener(AF_INET, ECHO_CONNS, &w->addr);
  echo_many(w);
  free(w);
}

static void test_echo_many_unix(void **state) {
  (void)state;
  echo_world *w = calloc(1, sizeof *w);
  unix_dir d;
  unix_dir_new(&d);
  w->family = AF_UNIX;
  w->listener = unix_bound(&d, "echo", SOCK_STREAM);
  assert_int_equal(fdk_listen(w->listener, ECHO_CONNS), 0);
  w->addr = unix_addr(&d, "echo");
  echo_many(w);
  unix_dir_done(&d, (const char *[]){"echo", NULL});
  free(w);
}

/* name resolution ------------------------------------------------------------------- */

static void test_getaddrinfo(void **state) {
  (void)state;
  fdk_addrinfo *ai;
  assert_int_equal(fdk_getaddrinfo(&ai, "127.0.0.1", "8080", AF_UNSPEC, SOCK_STREAM, 0,
                                   FDK_AI_NUMERICHOST | FDK_AI_NUMERICSERV),
                   0);
  assert_int_equal(fdk_addrinfo_count(ai), 1);
  int family, socktype, protocol;
  const struct sockaddr *addr;
  socklen_t len;
  assert_int_equal(fdk_addrinfo_entry(ai, 0, &family, &socktype, &protocol, &addr, &len), 0);
  assert_int_equal(family, AF_INET);
  assert_int_equal(socktype, SOCK_STREAM);
  assert_int_equal(protocol, IPPROTO_TCP);
  assert_int_equal(len, sizeof(struct sockaddr_in));
  addr_t want = loopback(AF_INET, 8080);
  assert_true(same_addr(&want, (const struct sockaddr_storage *)addr, len));
  assert_int_equal(fdk_addrinfo_entry(ai, 1, NULL, NULL, NULL, NULL, NULL), -EINVAL);
  assert_null(fdk_addrinfo_canonname(ai));
  assert_null(fdk_addrinfo_free(ai));

  /* The result can be connected to: a listener found through the resolver. */
  assert_int_equal(fdk_getaddrinfo(&ai, "::1", NULL, AF_INET6, SOCK_DGRAM, 0, FDK_AI_NUMERICHOST), 0);
  assert_int_equal(fdk_addrinfo_entry(ai, 0, &family, NULL, NULL, &addr, &len), 0);
  assert_int_equal(family, AF_INET6);
  want = loopback(AF_INET6, 0);
  assert_true(same_addr(&want, (const struct sockaddr_storage *)addr, len));
  fdk_addrinfo_free(ai);

  /* localhost comes from /etc/hosts: no query leaves the machine. */
  assert_int_equal(fdk_getaddrinfo(&ai, "localhost", "80", AF_INET, SOCK_STREAM, 0, FDK_AI_CANONNAME), 0);
  assert_true(fdk_addrinfo_count(ai) >= 1);
  assert_int_equal(fdk_addrinfo_entry(ai, 0, NULL, NULL, NULL, &addr, &len), 0);
  assert_int_equal(((const struct sockaddr_in *)addr)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  assert_non_null(fdk_addrinfo_canonname(ai));
  fdk_addrinfo_free(ai);

  ai = NULL;
  assert_int_equal(fdk_getaddrinfo(&ai, "not-an-address", NULL, AF_UNSPEC, 0, 0, FDK_AI_NUMERICHOST), -ENOENT);
  assert_null(ai);
  assert_non_null(strstr(fdk_last_error(), "not-an-address"));
  assert_int_equal(fdk_getaddrinfo(&ai, "127.0.0.1", "http-not-a-port", AF_UNSPEC, 0, 0,
                                   FDK_AI_NUMERICHOST | FDK_AI_NUMERICSERV),
                   -ENOENT);
  assert_int_equal(fdk_getaddrinfo(&ai, "127.0.0.1", NULL, AF_UNIX, 0, 0, FDK_AI_NUMERICHOST), -EAFNOSUPPORT);
  assert_int_equal(fdk_getaddrinfo(&ai, "127.0.0.1", NULL, AF_INET, 12345, 0, FDK_AI_NUMERICHOST),
                   -ESOCKTNOSUPPORT);
  assert_null(ai);
  assert_null(fdk_addrinfo_free(NULL));
  assert_int_equal(fdk_addrinfo_count(NULL), 0);
}

typedef struct {
  int calls, result;
  fdk_addrinfo *res;
} resolved;

static void on_resolved(int result, fdk_addrinfo *res, void *data) {
  resolved *r = data;
  r->calls++;
  r->result = result;
  r->res = res;
}

static void test_getaddrinfo_async(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  resolved r = {0, 0, NULL};
  char host[] = "::1";
  assert_int_equal(fdk_getaddrinfo_async(loop, host, "443", AF_UNSPEC, SOCK_STREAM, 0,
                                         FDK_AI_NUMERICHOST | FDK_AI_NUMERICSERV, on_resolved, &r, NULL),
                   0);
  host[0] = 'x'; /* copied by the call */
  assert_int_equal(r.calls, 0);
  fdkt_run_until(loop, &r.calls, 10000);
  assert_int_equal(r.result, 0);
  const struct sockaddr *addr;
  socklen_t len;
  assert_int_equal(fdk_addrinfo_entry(r.res, 0, NULL, NULL, NULL, &addr, &len), 0);
  addr_t want = loopback(AF_INET6, 443);
  assert_true(same_addr(&want, (const struct sockaddr_storage *)addr, len));
  fdk_addrinfo_free(r.res);

  r.calls = 0;
  assert_int_equal(fdk_getaddrinfo_async(loop, "bad host", NULL, AF_UNSPEC, 0, 0, FDK_AI_NUMERICHOST, on_resolved,
                                         &r, NULL),
                   0);
  fdkt_run_until(loop, &r.calls, 10000);
  assert_int_equal(r.result, -ENOENT);
  assert_null(r.res);
  assert_non_null(strstr(fdk_last_error(), "bad host"));

  /* Cancelled at once: either the cancel wins or the result comes; nothing leaks. */
  for (int i = 0; i < 20; i++) {
    fdk_op *op;
    r.calls = 0;
    assert_int_equal(fdk_getaddrinfo_async(loop, "127.0.0.1", NULL, AF_INET, 0, 0, FDK_AI_NUMERICHOST, on_resolved,
                                           &r, &op),
                     0);
    assert_int_equal(fdk_op_cancel(op), 0);
    fdkt_run_until(loop, &r.calls, 10000);
    assert_int_equal(r.calls, 1);
    assert_true(r.result == 0 || r.result == -ECANCELED);
    assert_true((r.result == 0) == (r.res != NULL));
    fdk_addrinfo_free(r.res);
  }
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* arguments ------------------------------------------------------------------------ */

static void never_called(int64_t result, void *data) {
  (void)result;
  (void)data;
  fail_msg("callback of a call that failed");
}

static void never_accepted(int result, fdk_fd *conn, void *data) {
  (void)result;
  (void)conn;
  (void)data;
  fail_msg("callback of a call that failed");
}

static void test_bad_arguments(void **state) {
  (void)state;
  fdk_fd *a, *b, *x = NULL;
  assert_int_equal(fdk_socketpair(&a, &b, AF_UNIX, SOCK_STREAM, 0), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  addr_t lo = loopback(AF_INET, 1);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  struct iovec v = {"x", 1};
  int room = 1, value;
  fdk_fd *in[1];

  assert_int_equal(fdk_socket(NULL, AF_INET, SOCK_STREAM, 0), -EINVAL);
  assert_int_equal(fdk_socketpair(&x, NULL, AF_UNIX, SOCK_STREAM, 0), -EINVAL);
  assert_null(x);
  assert_int_equal(fdk_bind(NULL, sa(&lo), lo.len), -EINVAL);
  assert_int_equal(fdk_bind(a, NULL, 16), -EINVAL);
  assert_int_equal(fdk_bind(a, sa(&lo), 0), -EINVAL);
  assert_int_equal(fdk_bind(a, sa(&lo), sizeof(struct sockaddr_storage) + 1), -EINVAL);
  assert_int_equal(fdk_listen(NULL, 1), -EINVAL);
  assert_int_equal(fdk_getsockname(a, NULL, &len), -EINVAL);
  assert_int_equal(fdk_getpeername(a, (struct sockaddr *)&ss, NULL), -EINVAL);
  assert_int_equal(fdk_setsockopt_int(NULL, SOL_SOCKET, SO_REUSEADDR, 1), -EINVAL);
  assert_int_equal(fdk_getsockopt_int(a, SOL_SOCKET, SO_TYPE, NULL), -EINVAL);
  assert_int_equal(fdk_connect(a, NULL, 0), -EINVAL);
  assert_int_equal(fdk_connect_async(loop, a, sa(&lo), lo.len, NULL, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_connect_async(NULL, a, sa(&lo), lo.len, never_called, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_accept(NULL, a, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_accept(&x, a, (struct sockaddr *)&ss, NULL), -EINVAL);
  assert_int_equal(fdk_accept(&x, a, NULL, &len), -EINVAL);
  assert_int_equal(fdk_accept_async(loop, NULL, NULL, NULL, never_accepted, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_accept_async(loop, a, NULL, NULL, NULL, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_shutdown(a, 0), -EINVAL);
  assert_int_equal(fdk_shutdown(a, 4), -EINVAL);
  assert_int_equal(fdk_shutdown_async(loop, a, 7, never_called, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_send_msg(NULL, &v, 1, NULL, 0, NULL, 0), -EINVAL);
  assert_int_equal(fdk_send_msg(a, NULL, 1, NULL, 0, NULL, 0), -EINVAL);
  assert_int_equal(fdk_send_msg(a, &v, -1, NULL, 0, NULL, 0), -EINVAL);
  assert_int_equal(fdk_send_msg(a, &v, 1, NULL, 16, NULL, 0), -EINVAL);
  assert_int_equal(fdk_send_msg(a, &v, 1, NULL, 0, NULL, 1), -EINVAL);
  assert_int_equal(fdk_send_msg(a, &v, 1, NULL, 0, &x, 1), -EINVAL); /* x is NULL */
  assert_int_equal(fdk_send_msg(a, &v, 1, NULL, 0, &b, 254), -EINVAL);
  assert_int_equal(fdk_send_msg(a, &v, 1, NULL, 0, &b, -1), -EINVAL);
  assert_int_equal(fdk_send_msg_async(loop, a, &v, 1, NULL, 0, NULL, 0, NULL, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_recv_msg(a, &v, 1, (struct sockaddr *)&ss, NULL, NULL, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_recv_msg(a, &v, 1, NULL, NULL, in, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_recv_msg(a, &v, 1, NULL, NULL, NULL, &room, NULL), -EINVAL);
  room = -1;
  assert_int_equal(fdk_recv_msg(a, &v, 1, NULL, NULL, in, &room, NULL), -EINVAL);
  assert_int_equal(fdk_recv_msg_async(NULL, a, &v, 1, NULL, NULL, NULL, NULL, NULL, never_called, NULL, NULL),
                   -EINVAL);
  fdk_addrinfo *ai = NULL;
  assert_int_equal(fdk_getaddrinfo(NULL, "::1", NULL, 0, 0, 0, 0), -EINVAL);
  assert_int_equal(fdk_getaddrinfo(&ai, NULL, NULL, 0, 0, 0, 0), -EINVAL);
  assert_int_equal(fdk_getaddrinfo(&ai, "::1", NULL, 0, 0, 0, 0x80), -EINVAL);
  assert_int_equal(fdk_getaddrinfo_async(loop, "::1", NULL, 0, 0, 0, 0, NULL, NULL, NULL), -EINVAL);
  assert_null(ai);
  assert_int_equal(fdk_getsockopt_int(a, SOL_SOCKET, SO_TYPE, &value), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 0);
  assert_int_equal(fdk_loop_free(loop), 0);
  fdk_fd_unref(a);
  fdk_fd_unref(b);
}

/* addresses at the edge of mapped memory -------------------------------------------- */

/* Two pages, the second inaccessible: an address copied to the end of the first has
 * nothing readable behind it, so reading past its size faults. */
typedef struct {
  char *pages;
  size_t page;
} edge_t;

static const struct sockaddr *at_edge(edge_t *e, const addr_t *a) {
  e->page = (size_t)sysconf(_SC_PAGESIZE);
  e->pages = mmap(NULL, 2 * e->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(e->pages != MAP_FAILED);
  assert_int_equal(mprotect(e->pages + e->page, e->page, PROT_NONE), 0);
  char *at = e->pages + e->page - a->len;
  memcpy(at, &a->ss, a->len);
  return (const struct sockaddr *)at;
}

static void edge_done(edge_t *e) { munmap(e->pages, 2 * e->page); }

/* An addrlen larger than the address (up to sockaddr_storage) is read only as far as the
 * family needs; one the family cannot have is -EINVAL. */
static void test_address_length_beyond_buffer(void **state) {
  (void)state;
  const socklen_t big = sizeof(struct sockaddr_storage);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
    addr_t bound;
    fdk_fd *l = tcp_listener(family, 4, &bound), *c, *c2, *s;
    edge_t e;
    const struct sockaddr *edge = at_edge(&e, &bound);
    assert_int_equal(fdk_socket(&c, family, SOCK_STREAM, 0), 0);
    assert_int_equal(fdk_connect(c, edge, big), 0);
    assert_int_equal(fdk_socket(&c2, family, SOCK_STREAM, 0), 0);
    fdkt_result res = {0};
    assert_int_equal(fdk_connect_async(loop, c2, edge, big, fdkt_record, &res, NULL), 0);
    fdkt_run_until(loop, &res.calls, 5000);
    assert_int_equal(res.result, 0);
    for (int i = 0; i < 2; i++) {
      assert_int_equal(fdk_accept(&s, l, NULL, NULL), 0);
      fdk_fd_unref(s);
    }
    edge_done(&e);
    fdk_fd_unref(c);
    fdk_fd_unref(c2);
    fdk_fd_unref(l);

    /* Datagrams to a destination at the edge, both forms. */
    addr_t dest;
    fdk_fd *rx = bound_socket(family, SOCK_DGRAM, &dest), *tx;
    assert_int_equal(fdk_socket(&tx, family, SOCK_DGRAM, 0), 0);
    edge = at_edge(&e, &dest);
    struct iovec v = {"ping", 4};
    assert_int_equal(fdk_send_msg(tx, &v, 1, edge, big, NULL, 0), 4);
    res.calls = 0;
    assert_int_equal(fdk_send_msg_async(loop, tx, &v, 1, edge, big, NULL, 0, fdkt_record, &res, NULL), 0);
    fdkt_run_until(loop, &res.calls, 5000);
    assert_int_equal(res.result, 4);
    char buf[8];
    assert_int_equal(recv_bytes(rx, buf, sizeof buf), 4);
    assert_int_equal(recv_bytes(rx, buf, sizeof buf), 4);
    edge_done(&e);
    fdk_fd_unref(tx);
    fdk_fd_unref(rx);
  }
  /* A unix address longer than sockaddr_un, or a length too short to hold a family. */
  fdk_fd *u;
  assert_int_equal(fdk_socket(&u, AF_UNIX, SOCK_DGRAM, 0), 0);
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_family = AF_UNIX;
  assert_int_equal(fdk_connect(u, (struct sockaddr *)&ss, sizeof(struct sockaddr_un) + 1), -EINVAL);
  assert_int_equal(fdk_connect(u, (struct sockaddr *)&ss, 1), -EINVAL);
  struct iovec v = {"x", 1};
  assert_int_equal(fdk_send_msg(u, &v, 1, (struct sockaddr *)&ss, sizeof(struct sockaddr_un) + 1, NULL, 0), -EINVAL);
  fdkt_result res = {0};
  assert_int_equal(fdk_connect_async(loop, u, (struct sockaddr *)&ss, 1, fdkt_record, &res, NULL), -EINVAL);
  fdk_fd_unref(u);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 0);
  assert_int_equal(res.calls, 0);
  fdk_loop_free(loop);
}

/* slow lookups and the worker pool ------------------------------------------------- */

static void lookup_done(int result, fdk_addrinfo *res, void *data) {
  fdk_addrinfo_free(res);
  fdkt_record(result, data);
}

/* Lookups that take long hold at most half the pool: a getrandom queued behind as many
 * slow lookups as the pool has threads still runs at once. */
static void test_slow_lookups_leave_pool_room(void **state) {
  (void)state;
  enum { POOL = 4, SLOW_MS = 1500 };
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdkt_result lookups[POOL];
  memset(lookups, 0, sizeof lookups);
  char host[64];
  for (int i = 0; i < POOL; i++)
    assert_int_equal(fdk_getaddrinfo_async(loop, fdkt_slow_host(SLOW_MS, host, sizeof host), NULL, AF_UNSPEC, 0, 0,
                                           0, lookup_done, &lookups[i], NULL),
                     0);
  usleep(50000); /* the lookups have taken their threads */
  char rnd[16];
  fdkt_result random = {0};
  int64_t t0 = fdk_now_ns();
  assert_int_equal(fdk_getrandom_async(loop, rnd, sizeof rnd, 0, fdkt_record, &random, NULL), 0);
  fdkt_run_until(loop, &random.calls, 10000);
  int64_t waited = fdk_now_ns() - t0;
  assert_int_equal(random.result, sizeof rnd);
  if (waited > 500000000) fail_msg("getrandom waited %lld ms behind slow lookups", (long long)(waited / 1000000));
  for (int i = 0; i < POOL; i++) {
    fdkt_run_until(loop, &lookups[i].calls, 3 * SLOW_MS + 5000);
    assert_int_equal(lookups[i].result, -ENOENT);
  }
  fdk_loop_free(loop);
}

int main(void) {
  /* The pool size the slow-lookup test counts on, set before the pool starts. */
  setenv("UV_THREADPOOL_SIZE", "4", 1);
  const struct CMUnitTest tests[] = {
      fdkt_test(test_socket_flags),
      fdkt_test(test_sockopts),
      fdkt_test(test_tcp4),
      fdkt_test(test_tcp6),
      fdkt_test(test_udp4),
      fdkt_test(test_udp6),
      fdkt_test(test_unix_stream),
      fdkt_test(test_unix_seqpacket),
      fdkt_test(test_unix_dgram),
      fdkt_test(test_socketpair),
      fdkt_test(test_connect_refused),
      fdkt_test(test_connect_timed_out),
      fdkt_test(test_connect_missing_unix_path),
      fdkt_test(test_unix_backlog_full),
      fdkt_test(test_gone_peer_no_sigpipe),
      fdkt_test(test_peer_reset_async),
      fdkt_test(test_half_close),
      fdkt_test(test_closed_handle),
      fdkt_test(test_pass_fds_sync),
      fdkt_test(test_pass_fds_async),
      fdkt_test(test_truncated_control),
      fdkt_test(test_blocking_mode_socket),
      fdkt_test(test_cancel_accept),
      fdkt_test(test_cancel_recv),
      fdkt_test(test_cancel_connect),
      fdkt_test(test_loop_free_cancels),
      fdkt_test(test_threads),
      fdkt_test(test_echo_many_tcp),
      fdkt_test(test_echo_many_unix),
      fdkt_test(test_getaddrinfo),
      fdkt_test(test_getaddrinfo_async),
      fdkt_test(test_bad_arguments),
      fdkt_test(test_address_length_beyond_buffer),
      fdkt_test(test_slow_lookups_leave_pool_room),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
