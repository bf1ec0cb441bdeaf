/* SPDX-License-Identifier: MIT */
/* Echo round trips over sockets, fdkit against the alternatives in the same run.
 *
 * Cases: loopback TCP (127.0.0.1, TCP_NODELAY) and unix stream sockets, with 1 and 64
 * connections at once. Each connection carries one 64-byte message at a time: the
 * client sends it, the server echoes it, the client reads the whole echo and sends the
 * next. Both ends of every connection are served by the implementation measured, on one
 * thread:
 * - raw: one level-triggered epoll set, read and write straight from its events;
 * - fdkit: fdk_send_msg_async / fdk_recv_msg_async on one fdk_loop;
 * - libuv: uv_tcp_t / uv_pipe_t streams, uv_read_start and uv_write, one uv_loop_t.
 * The connections are made before the clock starts (for unix sockets, socketpair), so
 * only the round trips are timed.
 *
 * usage: bench_net [REPETITIONS] [ROUND_TRIPS]   (defaults 5, 20000 per case)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <fdkit.h>

enum { MSG = 64, MAX_CONNS = 64 };

static const char message[MSG] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static int total_round_trips = 20000;

static double now_s(void) { return (double)fdk_now_ns() / 1e9; }

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* connections --------------------------------------------------------------------- */

typedef struct {
  int n;
  int client[MAX_CONNS], server[MAX_CONNS];
} conns;

static void make_conns(conns *c, int tcp, int n) {
  c->n = n;
  if (!tcp) {
    for (int i = 0; i < n; i++) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) die("socketpair");
      c->client[i] = sv[0];
      c->server[i] = sv[1];
    }
    return;
  }
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, MAX_CONNS) < 0) die("listen");
  getsockname(l, (struct sockaddr *)&a, &len);
  int one = 1;
  for (int i = 0; i < n; i++) {
    c->client[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(c->client[i], (struct sockaddr *)&a, sizeof a) < 0) die("connect");
    c->server[i] = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c->server[i] < 0) die("accept");
    fcntl(c->client[i], F_SETFL, O_NONBLOCK);
    setsockopt(c->client[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c->server[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  close(l);
}

/* raw epoll -------------------------------------------------------------------------- */

static double echo_raw(conns *c, int rounds) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int left[MAX_CONNS], got[MAX_CONNS];
  char in[MAX_CONNS][MSG];
  for (int i = 0; i < c->n; i++) {
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->client[i], &e);
    e.data.u32 = (uint32_t)(MAX_CONNS + i);
    epoll_ctl(ep, EPOLL_CTL_ADD, c->server[i], &e);
    left[i] = rounds;
    got[i] = 0;
  }
  double t0 = now_s();
  for (int i = 0; i < c->n; i++)
    if (write(c->client[i], message, MSG) != MSG) die("write");
  int done = 0;
  struct epoll_event ev[2 * MAX_CONNS];
  while (done < c->n) {
    int k = epoll_wait(ep, ev, 2 * MAX_CONNS, -1);
    for (int j = 0; j < k; j++) {
      uint32_t id = ev[j].data.u32;
      if (id >= MAX_CONNS) {
        int fd = c->server[id - MAX_CONNS];
        char buf[MSG];
        ssize_t n = read(fd, buf, sizeof buf);
        /* One message in flight: its echo always fits the socket buffer. */
        if (n > 0 && write(fd, buf, (size_t)n) != n) die("echo write");
        continue;
      }
      ssize_t n = read(c->client[id], in[id] + got[id], (size_t)(MSG - got[id]));
      if (n <= 0) continue;
      if ((got[id] += (int)n) < MSG) continue;
      got[id] = 0;
      if (--left[id] == 0) done++;
      else if (write(c->client[id], message, MSG) != MSG) die("write");
    }
  }
  double secs = now_s() - t0;
  close(ep);
  for (int i = 0; i < c->n; i++) {
    close(c->client[i]);
    close(c->server[i]);
  }
  return (double)rounds * c->n / secs;
}

/* fdkit ------------------------------------------------------------------------------ */

typedef struct fdk_world fdk_world;

typedef struct {
  fdk_world *w;
  fdk_fd *fd;
  char buf[MSG];
} fdk_server;

typedef struct {
  fdk_world *w;
  fdk_fd *fd;
  int left, got;
  char in[MSG];
} fdk_client;

struct fdk_world {
  fdk_loop *loop;
  int done, n;
  double end;
  fdk_server servers[MAX_CONNS];
  fdk_client clients[MAX_CONNS];
};

static void fdk_server_recv(fdk_server *s);

static void fdk_server_sent(int64_t r, void *data) {
  if (r < 0) return; /* cancelled at teardown */
  fdk_server_recv(data);
}

static void fdk_server_got(int64_t n, void *data) {
  fdk_server *s = data;
  if (n <= 0) return;
  struct iovec v = {s->buf, (size_t)n};
  fdk_send_msg_async(s->w->loop, s->fd, &v, 1, NULL, 0, NULL, 0, fdk_server_sent, s, NULL);
}

static void fdk_server_recv(fdk_server *s) {
  struct iovec v = {s->buf, sizeof s->buf};
  fdk_recv_msg_async(s->w->loop, s->fd, &v, 1, NULL, NULL, NULL, NULL, NULL, fdk_server_got, s, NULL);
}

static void fdk_client_got(int64_t n, void *data);

static void fdk_client_recv(fdk_client *c) {
  struct iovec v = {c->in + c->got, (size_t)(MSG - c->got)};
  fdk_recv_msg_async(c->w->loop, c->fd, &v, 1, NULL, NULL, NULL, NULL, NULL, fdk_client_got, c, NULL);
}

static void fdk_client_sent(int64_t r, void *data) {
  (void)data;
  if (r != MSG) die("fdk send");
}

/* The send is tried at once and the receive waits beside it, as a reading stream does. */
static void fdk_client_send(fdk_client *c) {
  struct iovec v = {(void *)message, MSG};
  fdk_send_msg_async(c->w->loop, c->fd, &v, 1, NULL, 0, NULL, 0, fdk_client_sent, c, NULL);
  fdk_client_recv(c);
}

static void fdk_client_got(int64_t n, void *data) {
  fdk_client *c = data;
  if (n <= 0) die("fdk recv");
  if ((c->got += (int)n) < MSG) {
    fdk_client_recv(c);
    return;
  }
  c->got = 0;
  if (--c->left > 0) {
    fdk_client_send(c);
  } else if (++c->w->done == c->w->n) {
    c->w->end = now_s();
    fdk_loop_stop(c->w->loop);
  }
}

static double echo_fdkit(conns *c, int rounds) {
  static fdk_world w;
  memset(&w, 0, sizeof w);
  w.n = c->n;
  fdk_loop_new(&w.loop);
  for (int i = 0; i < c->n; i++) {
    w.servers[i].w = &w;
    w.clients[i].w = &w;
    w.clients[i].left = rounds;
    if (fdk_fd_adopt(&w.servers[i].fd, c->server[i], 0) < 0 || fdk_fd_adopt(&w.clients[i].fd, c->client[i], 0) < 0)
      die("adopt");
  }
  double t0 = now_s();
  for (int i = 0; i < c->n; i++) {
    fdk_server_recv(&w.servers[i]);
    fdk_client_send(&w.clients[i]);
  }
  fdk_loop_run(w.loop, FDK_RUN_DEFAULT);
  if (w.done != w.n) die("fdkit run ended early");
  double secs = w.end - t0;
  for (int i = 0; i < c->n; i++) {
    fdk_fd_unref(w.servers[i].fd);
    fdk_fd_unref(w.clients[i].fd);
  }
  fdk_loop_free(w.loop); /* completes the servers' pending receives with -ECANCELED */
  return (double)rounds * c->n / secs;
}

/* libuv ------------------------------------------------------------------------------ */

typedef union {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
} uv_sock;

/* Write requests with room for a copy of the echoed bytes: the server keeps reading
 * while its write is in flight, so it cannot write from its read buffer. */
typedef struct uv_echo_req {
  uv_write_t req;
  struct uv_echo_req *next_free;
  char data[MSG];
} uv_echo_req;

typedef struct uv_world uv_world;

typedef struct {
  uv_sock sock;
  uv_world *w;
  uv_echo_req reqs[4];
  uv_echo_req *free_reqs;
  char buf[65536]; /* the size libuv suggests to alloc callbacks */
  int left, got, client;
} uv_end;

struct uv_world {
  uv_loop_t loop;
  int done, n;
  double end;
  uv_end ends[2 * MAX_CONNS];
};

static uv_echo_req *uv_take_req(uv_end *e) {
  uv_echo_req *r = e->free_reqs;
  if (!r) die("no free write request");
  e->free_reqs = r->next_free;
  return r;
}

static void uv_on_written(uv_write_t *req, int status) {
  if (status < 0) die("uv_write");
  uv_end *e = req->data;
  uv_echo_req *r = (uv_echo_req *)req;
  r->next_free = e->free_reqs;
  e->free_reqs = r;
}

static void uv_send(uv_end *e, const char *data, size_t len) {
  uv_echo_req *r = uv_take_req(e);
  r->req.data = e;
  /* The client's message is a constant; the server's bytes are copied into the request. */
  uv_buf_t b = uv_buf_init(e->client ? (char *)message : memcpy(r->data, data, len), (unsigned)len);
  uv_write(&r->req, &e->sock.stream, &b, 1, uv_on_written);
}

static void uv_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  uv_end *e = h->data;
  *buf = uv_buf_init(e->buf, (unsigned)(size < sizeof e->buf ? size : sizeof e->buf));
}

static void uv_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  uv_end *e = s->data;
  if (n <= 0) {
    if (n < 0) die("uv read");
    return;
  }
  if (!e->client) {
    uv_send(e, e->buf, (size_t)n);
    return;
  }
  if ((e->got += (int)n) < MSG) return;
  if (e->got > MSG) die("uv echo longer than the message");
  e->got = 0;
  if (--e->left > 0) {
    uv_send(e, message, MSG);
  } else {
    uv_read_stop(s);
    if (++e->w->done == e->w->n) {
      e->w->end = now_s();
      uv_stop(&e->w->loop);
    }
  }
}

static double echo_libuv(conns *c, int tcp, int rounds) {
  static uv_world w;
  memset(&w, 0, sizeof w);
  w.n = c->n;
  uv_loop_init(&w.loop);
  for (int i = 0; i < 2 * c->n; i++) {
    uv_end *e = &w.ends[i];
    int fd = i < c->n ? c->client[i] : c->server[i - c->n];
    e->w = &w;
    e->client = i < c->n;
    e->left = rounds;
    for (int r = 0; r < 4; r++) {
      e->reqs[r].next_free = e->free_reqs;
      e->free_reqs = &e->reqs[r];
    }
    if (tcp) {
      uv_tcp_init(&w.loop, &e->sock.tcp);
      uv_tcp_open(&e->sock.tcp, fd);
    } else {
      uv_pipe_init(&w.loop, &e->sock.pipe, 0);
      uv_pipe_open(&e->sock.pipe, fd);
    }
    e->sock.handle.data = e;
  }
  double t0 = now_s();
  for (int i = 0; i < 2 * c->n; i++) uv_read_start(&w.ends[i].sock.stream, uv_alloc, uv_on_read);
  for (int i = 0; i < c->n; i++) uv_send(&w.ends[i], message, MSG);
  uv_run(&w.loop, UV_RUN_DEFAULT);
  if (w.done != w.n) die("libuv run ended early");
  double secs = w.end - t0;
  for (int i = 0; i < 2 * c->n; i++) uv_close(&w.ends[i].sock.handle, NULL);
  uv_run(&w.loop, UV_RUN_DEFAULT);
  uv_loop_close(&w.loop);
  return (double)rounds * c->n / secs;
}

/* driver ------------------------------------------------------------------------------ */

enum { IMPL_FDKIT, IMPL_RAW, IMPL_LIBUV, IMPLS };
static const char *const impl_names[IMPLS] = {"fdkit", "raw", "libuv"};
static const double targets[IMPLS] = {0, 0.8, 1.0};

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void measure(int tcp, int n, int reps) {
  char name[32];
  snprintf(name, sizeof name, "%s-%dconn", tcp ? "tcp" : "unix", n);
  int rounds = total_round_trips / n;
  double v[IMPLS][32], median[IMPLS];
  /* Interleaved repetitions, so drift on the machine hits every contender alike. */
  for (int r = 0; r < reps; r++) {
    for (int i = 0; i < IMPLS; i++) {
      conns c;
      make_conns(&c, tcp, n);
      v[i][r] = i == IMPL_FDKIT ? echo_fdkit(&c, rounds) : i == IMPL_RAW ? echo_raw(&c, rounds)
                                                                         : echo_libuv(&c, tcp, rounds);
    }
  }
  for (int i = 0; i < IMPLS; i++) {
    qsort(v[i], (size_t)reps, sizeof(double), cmp);
    median[i] = v[i][reps / 2];
    printf("{\"bench\":\"net\",\"case\":\"%s\",\"impl\":\"%s\",\"round_trips_per_s\":%.1f}\n", name, impl_names[i],
           median[i]);
  }
  for (int i = 1; i < IMPLS; i++)
    printf("{\"bench\":\"net\",\"case\":\"%s\",\"ratio\":\"fdkit/%s\",\"value\":%.3f,\"target\":%.1f}\n", name,
           impl_names[i], median[IMPL_FDKIT] / median[i], targets[i]);
  fflush(stdout);
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  if (reps < 1 || reps > 32) reps = 5;
  if (argc > 2) total_round_trips = atoi(argv[2]);
  if (total_round_trips < MAX_CONNS) total_round_trips = MAX_CONNS;
  for (int tcp = 1; tcp >= 0; tcp--) {
    measure(tcp, 1, reps);
    measure(tcp, MAX_CONNS, reps);
  }
  return 0;
}
