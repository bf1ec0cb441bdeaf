/* SPDX-License-Identifier: MIT */
/* I/O: sync and async forms, short transfers, worker-pool paths, blocking-mode
 * descriptors, SIGPIPE, EINTR, bad arguments. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "old_kernel_filter.h"
#include "testutil.h"

static fdk_fd *temp_file(void) {
  char path[] = "/tmp/fdkit-io-XXXXXX";
  int raw = mkostemp(path, O_CLOEXEC);
  assert_true(raw >= 0);
  unlink(path);
  fdk_fd *fd;
  assert_int_equal(fdk_fd_adopt(&fd, raw, FDK_FD_BLOCKING), 0);
  return fd;
}

static void test_sync_roundtrip_and_short_read(void **state) {
  (void)state;
  fdk_fd *r, *w;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  assert_int_equal(fdk_write(w, "hello", 5), 5);
  char buf[100];
  /* One call: what is there, not what was asked for. */
  assert_int_equal(fdk_read(r, buf, sizeof buf), 5);
  assert_memory_equal(buf, "hello", 5);
  fdk_fd_unref(w);
  assert_int_equal(fdk_read(r, buf, sizeof buf), 0);
  fdk_fd_unref(r);
}

static void test_vectored(void **state) {
  (void)state;
  fdk_fd *r, *w;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  struct iovec out[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
  assert_int_equal(fdk_writev(w, out, 3), 5);
  char x[2], y[10];
  struct iovec in[2] = {{x, 2}, {y, 10}};
  assert_int_equal(fdk_readv(r, in, 2), 5);
  assert_memory_equal(x, "ab", 2);
  assert_memory_equal(y, "cde", 3);
  fdk_fd_unref(r);
  fdk_fd_unref(w);
}

static void test_file_calls(void **state) {
  (void)state;
  fdk_fd *f = temp_file();
  struct iovec out[2] = {{"0123", 4}, {"456789", 6}};
  assert_int_equal(fdk_pwritev(f, out, 2, 10), 10);
  assert_int_equal(fdk_lseek(f, 0, FDK_SEEK_END), 20);
  assert_int_equal(fdk_lseek(f, 3, FDK_SEEK_SET), 3);
  assert_int_equal(fdk_lseek(f, 2, FDK_SEEK_CUR), 5);
  char buf[6];
  struct iovec in = {buf, 6};
  assert_int_equal(fdk_preadv(f, &in, 1, 12), 6);
  assert_memory_equal(buf, "234567", 6);
  /* preadv does not move the offset. */
  assert_int_equal(fdk_lseek(f, 0, FDK_SEEK_CUR), 5);
  assert_int_equal(fdk_ftruncate(f, 12), 0);
  assert_int_equal(fdk_lseek(f, 0, FDK_SEEK_END), 12);
  assert_int_equal(fdk_fsync(f, 0), 0);
  assert_int_equal(fdk_fsync(f, FDK_FSYNC_DATA), 0);
  assert_int_equal(fdk_preadv(f, &in, 1, 100), 0);
  fdk_fd_unref(f);
}

static void test_errors(void **state) {
  (void)state;
  fdk_fd *r, *w;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  char buf[4];
  struct iovec iov = {buf, 4};
  assert_int_equal(fdk_read(NULL, buf, 4), -EINVAL);
  assert_int_equal(fdk_read(r, NULL, 4), -EINVAL);
  assert_int_equal(fdk_write(w, NULL, 1), -EINVAL);
  assert_int_equal(fdk_readv(r, &iov, 0), -EINVAL);
  assert_int_equal(fdk_readv(r, NULL, 1), -EINVAL);
  assert_int_equal(fdk_writev(w, &iov, IOV_MAX + 1), -EINVAL);
  assert_int_equal(fdk_preadv(r, &iov, 1, -1), -EINVAL);
  assert_int_equal(fdk_lseek(r, 0, 3), -EINVAL);
  assert_int_equal(fdk_fsync(r, 0x10), -EINVAL);
  assert_int_equal(fdk_ftruncate(w, -1), -EINVAL);
  assert_int_equal(fdk_getrandom(NULL, 4, 0), -EINVAL);
  assert_int_equal(fdk_getrandom(buf, 4, 0x10), -EINVAL);
  /* Errors the kernel gives come back as they are, with a detail naming the call. */
  assert_int_equal(fdk_lseek(r, 0, FDK_SEEK_SET), -ESPIPE);
  assert_non_null(strstr(fdk_last_error(), "lseek"));
  assert_int_equal(fdk_preadv(r, &iov, 1, 0), -ESPIPE);
  assert_int_equal(fdk_write(r, "x", 1), -EBADF);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  assert_int_equal(fdk_read_async(loop, r, buf, 4, NULL, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_read_async(NULL, r, buf, 4, fdkt_record, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_writev_async(loop, w, &iov, 0, fdkt_record, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_pwritev_async(loop, w, &iov, 1, -5, fdkt_record, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_lseek_async(loop, w, 0, 9, fdkt_record, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_fsync_async(loop, w, 0x8, fdkt_record, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_ftruncate_async(loop, w, -1, fdkt_record, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_getrandom_async(loop, NULL, 1, 0, fdkt_record, NULL, NULL), -EINVAL);
  fdk_loop_free(loop);
  fdk_fd_unref(r);
  fdk_fd_unref(w);
}

static void test_getrandom(void **state) {
  (void)state;
  unsigned char a[64], b[64];
  assert_int_equal(fdk_getrandom(a, sizeof a, 0), 64);
  assert_int_equal(fdk_getrandom(b, sizeof b, FDK_RANDOM_NONBLOCK), 64);
  assert_memory_not_equal(a, b, sizeof a);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdkt_result res = {0};
  assert_int_equal(fdk_getrandom_async(loop, a, sizeof a, 0, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.result, 64);
  assert_memory_not_equal(a, b, sizeof a);
  fdk_loop_free(loop);
}

/* Async read, write, readv, writev through a pipe, larger than the pipe buffer, so the
 * writer has to wait for the reader. */
typedef struct {
  fdk_loop *loop;
  fdk_fd *r, *w;
  unsigned char *src, *dst;
  size_t total, written, read;
  int done, failed;
} transfer;

static void on_written(int64_t result, void *data);
static void on_read_chunk(int64_t result, void *data);

static void write_more(transfer *t) {
  struct iovec iov[2] = {{t->src + t->written, (t->total - t->written) / 2},
                         {t->src + t->written + (t->total - t->written) / 2, (t->total - t->written + 1) / 2}};
  assert_int_equal(fdk_writev_async(t->loop, t->w, iov, 2, on_written, t, NULL), 0);
}

static void on_written(int64_t result, void *data) {
  transfer *t = data;
  if (result <= 0) {
    t->failed = 1;
    return;
  }
  t->written += (size_t)result;
  if (t->written < t->total) write_more(t);
}

static void read_more(transfer *t) {
  size_t left = t->total - t->read;
  size_t n = left < 100000 ? left : 100000;
  assert_int_equal(fdk_read_async(t->loop, t->r, t->dst + t->read, n, on_read_chunk, t, NULL), 0);
}

static void on_read_chunk(int64_t result, void *data) {
  transfer *t = data;
  if (result <= 0) {
    t->failed = 1;
    return;
  }
  t->read += (size_t)result;
  if (t->read < t->total) read_more(t);
  else t->done = 1;
}

static void test_async_transfer(void **state) {
  (void)state;
  transfer t = {0};
  t.total = 4 << 20;
  t.src = malloc(t.total);
  t.dst = malloc(t.total);
  for (size_t i = 0; i < t.total; i++) t.src[i] = (unsigned char)(i * 7 + (i >> 12));
  assert_int_equal(fdk_loop_new(&t.loop), 0);
  assert_int_equal(fdk_pipe(&t.r, &t.w), 0);
  write_more(&t);
  read_more(&t);
  int64_t deadline = fdk_now_ns() + 20000000000LL;
  while (!t.done && !t.failed && fdk_now_ns() < deadline) fdk_loop_run(t.loop, FDK_RUN_ONCE);
  assert_false(t.failed);
  assert_true(t.done);
  assert_memory_equal(t.src, t.dst, t.total);
  fdk_fd_unref(t.r);
  fdk_fd_unref(t.w);
  fdk_loop_free(t.loop);
  free(t.src);
  free(t.dst);
}

/* Regular files cannot be polled: their async I/O runs on the worker pool. */
static void test_async_regular_file(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdk_fd *f = temp_file();
  fdkt_result res = {0};
  struct iovec out = {"worker pool", 11};
  assert_int_equal(fdk_pwritev_async(loop, f, &out, 1, 0, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.result, 11);
  char buf[32] = {0};
  memset(&res, 0, sizeof res);
  assert_int_equal(fdk_read_async(loop, f, buf, sizeof buf, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.result, 11);
  assert_string_equal(buf, "worker pool");
  memset(&res, 0, sizeof res);
  struct iovec in = {buf, 6};
  assert_int_equal(fdk_preadv_async(loop, f, &in, 1, 7, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.result, 4);
  assert_memory_equal(buf, "pool", 4);
  memset(&res, 0, sizeof res);
  assert_int_equal(fdk_write_async(loop, f, "!", 1, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.result, 1);
  memset(&res, 0, sizeof res);
  assert_int_equal(fdk_readv_async(loop, f, &in, 1, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.result, 0);
  memset(&res, 0, sizeof res);
  assert_int_equal(fdk_writev_async(loop, f, &out, 1, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.result, 11);
  memset(&res, 0, sizeof res);
  assert_int_equal(fdk_lseek_async(loop, f, 0, FDK_SEEK_END, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.result, 23);
  memset(&res, 0, sizeof res);
  assert_int_equal(fdk_ftruncate_async(loop, f, 3, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.result, 0);
  assert_int_equal(fdk_lseek(f, 0, FDK_SEEK_END), 3);
  memset(&res, 0, sizeof res);
  assert_int_equal(fdk_fsync_async(loop, f, FDK_FSYNC_DATA, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.result, 0);
  /* A closed handle fails on the worker with -EBADF. */
  fdk_fd_close(f);
  memset(&res, 0, sizeof res);
  assert_int_equal(fdk_fsync_async(loop, f, 0, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.result, -EBADF);
  fdk_fd_unref(f);
  fdk_loop_free(loop);
}

/* fsync_async answers as fsync does on every engine (io_uring's FSYNC included): -EINVAL
 * with a detail for a pipe, never inside the starting call; a cancelled fsync followed by
 * a close calls back once (done or -ECANCELED) and the descriptor is closed only after. */
static void test_async_fsync_answers_as_fsync(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  fdk_fd *r;
  assert_int_equal(fdk_fd_adopt(&r, p[0], FDK_FD_BLOCKING), 0);
  close(p[1]);
  assert_int_equal(fdk_fsync(r, 0), -EINVAL);
  fdkt_result res = {0};
  assert_int_equal(fdk_fsync_async(loop, r, 0, fdkt_record, &res, NULL), 0);
  assert_int_equal(res.calls, 0);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.result, -EINVAL);
  assert_non_null(strstr(res.detail, "fsync"));
  fdk_fd_unref(r);

  fdk_fd *f = temp_file();
  int raw = fdk_fd_raw(f);
  fdk_op *op;
  memset(&res, 0, sizeof res);
  assert_int_equal(fdk_fsync_async(loop, f, 0, fdkt_record, &res, &op), 0);
  fdk_op_cancel(op);
  fdk_fd_close(f);
  fdkt_run_until(loop, &res.calls, 5000);
  assert_int_equal(res.calls, 1);
  assert_true(res.result == 0 || res.result == -ECANCELED);
  assert_int_equal(fcntl(raw, F_GETFD), -1);
  fdk_fd_unref(f);
  fdk_loop_free(loop);
}

/* A read that follows another one waits for the loop's readiness report before its
 * first attempt (it would most likely find nothing): data left over from an earlier
 * report must still be found, without any new data arriving. */
static void test_async_reads_of_leftover_data(void **state) {
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  fdk_fd *a;
  assert_int_equal(fdk_fd_adopt(&a, sv[0], 0), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  assert_int_equal(write(sv[1], "0123456789", 10), 10);
  char buf[4];
  const int64_t expect[] = {4, 4, 2};
  for (int i = 0; i < 3; i++) {
    fdkt_result res = {0};
    assert_int_equal(fdk_read_async(loop, a, buf, sizeof buf, fdkt_record, &res, NULL), 0);
    fdkt_run_until(loop, &res.calls, 2000);
    assert_int_equal(res.result, expect[i]);
  }
  assert_memory_equal(buf, "89", 2);
  /* Nothing left: the next read waits until the peer writes. */
  fdkt_result res = {0};
  assert_int_equal(fdk_read_async(loop, a, buf, sizeof buf, fdkt_record, &res, NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(res.calls, 0);
  assert_int_equal(write(sv[1], "ab", 2), 2);
  fdkt_run_until(loop, &res.calls, 2000);
  assert_int_equal(res.result, 2);
  assert_memory_equal(buf, "ab", 2);
  fdk_fd_unref(a);
  close(sv[1]);
  assert_int_equal(fdk_loop_free(loop), 0);
}

typedef struct {
  fdk_loop *loop;
  fdk_fd *fd;
  char buf[4096];
  size_t want; /* the size of each read */
  int full;    /* reads that filled the buffer */
  int64_t last;
  int poke_fd; /* when > 0, a byte is written to it after the second full read */
} chained_reader;

static void read_again_while_full(int64_t n, void *data) {
  chained_reader *c = data;
  c->last = n;
  if (n != (int64_t)c->want) return;
  c->full++;
  if (c->poke_fd > 0 && c->full == 2) assert_int_equal(write(c->poke_fd, "x", 1), 1);
  assert_int_equal(fdk_read_async(c->loop, c->fd, c->buf, c->want, read_again_while_full, c, NULL), 0);
}

/* A read that fills a buffer of 4 KiB or more leaves the readiness unspent: the read
 * started again from its callback tries at once, without waiting for the loop's next
 * report, so one turn of the loop takes all the data there is. A smaller buffer filled
 * still makes the next read wait for the report: one read per turn. */
static void test_full_reads_read_again_at_once(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdk_fd *r, *w;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  static char data[3 * 4096 + 100];
  memset(data, 'd', sizeof data);
  chained_reader c = {.loop = loop, .fd = r, .want = 4096};
  /* The first read finds nothing: the loop watches the pipe from then on. */
  assert_int_equal(fdk_read_async(loop, r, c.buf, c.want, read_again_while_full, &c, NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(write(fdk_fd_raw(w), data, sizeof data), (ssize_t)sizeof data);
  /* One turn: three full reads, then the short one, which ends the chain. */
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 0);
  assert_int_equal(c.full, 3);
  assert_int_equal(c.last, 100);

  c.want = 4;
  c.full = 0;
  c.last = -1;
  assert_int_equal(fdk_read_async(loop, r, c.buf, c.want, read_again_while_full, &c, NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(write(fdk_fd_raw(w), data, 16), 16);
  for (int turn = 1; turn <= 4; turn++) {
    assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
    assert_int_equal(c.full, turn);
  }
  fdk_fd_close(w); /* the pending read's end of file */
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(c.last, 0);
  fdk_fd_unref(w);
  fdk_fd_unref(r);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* A pipe holding 1 MiB read 4 KiB at a time, each read started from the last one's
 * callback, gives the loop's other handles their turn: a byte written to a second pipe
 * during the chain is read within 96 of those reads (three runs of 32), not after the 256
 * it takes to drain the first. */
typedef struct {
  chained_reader *busy;
  int busy_reads_before;
  int64_t result;
} bystander;

static void bystander_read(int64_t n, void *data) {
  bystander *b = data;
  b->result = n;
  b->busy_reads_before = b->busy->full;
}

static void test_full_reads_leave_other_handles_a_turn(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdk_fd *r, *w, *r2, *w2;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  assert_int_equal(fdk_pipe(&r2, &w2), 0);
  enum { kBytes = 1 << 20 };
  assert_true(fcntl(fdk_fd_raw(w), F_SETPIPE_SZ, kBytes) >= kBytes);
  static char data[kBytes];
  memset(data, 'd', sizeof data);
  chained_reader c = {.loop = loop, .fd = r, .want = 4096, .poke_fd = fdk_fd_raw(w2)};
  bystander b = {.busy = &c, .busy_reads_before = -1, .result = -1};
  char one;
  assert_int_equal(fdk_read_async(loop, r2, &one, 1, bystander_read, &b, NULL), 0);
  assert_int_equal(fdk_read_async(loop, r, c.buf, c.want, read_again_while_full, &c, NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(write(fdk_fd_raw(w), data, sizeof data), (ssize_t)sizeof data);
  while (b.result < 0) assert_true(fdk_loop_run(loop, FDK_RUN_ONCE) >= 0);
  assert_int_equal(b.result, 1);
  /* The byte comes during the first run of 32; the report after it may deliver the busy
   * pipe's next run first (with libuv's poll handles, each descriptor's reads are delivered
   * as libuv reports it). */
  assert_true(b.busy_reads_before <= 3 * 32);
  fdk_fd_close(w); /* the busy pipe's end of file ends its chain */
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(c.full, kBytes / 4096);
  assert_int_equal(c.last, 0);
  fdk_fd_unref(w);
  fdk_fd_unref(r);
  fdk_fd_unref(w2);
  fdk_fd_unref(r2);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* Whether the kernel takes preadv2(RWF_NOWAIT) for a pipe (not under the old-kernel run). */
static int nowait_reads_of_pipes(void) {
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  char c;
  struct iovec iov = {&c, 1};
  int refused = preadv2(p[0], &iov, 1, -1, RWF_NOWAIT) < 0 && errno == EOPNOTSUPP;
  close(p[0]);
  close(p[1]);
  return !refused;
}

static int wait_for(fdk_loop *loop, const int *flag) {
  for (int i = 0; i < 5000 && !*flag; i++) fdk_loop_run(loop, FDK_RUN_ONCE);
  return *flag;
}

/* Adopted descriptors of unknown kind and mode (an eventfd, a blocking-mode pipe, a stream
 * socket), each with its peer end and its handle. */
typedef struct {
  fdk_loop *loop;
  int raw[3], peer[3];
  fdk_fd *fd[3];
  uint64_t buf[3];
  fdkt_result res[3];
} unknown_kinds;

static int unknown_kinds_open(unknown_kinds *u) {
  memset(u, 0, sizeof *u);
  if (fdk_loop_new(&u->loop) < 0) return 1;
  int p[2], sv[2];
  u->raw[0] = u->peer[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (u->raw[0] < 0 || pipe2(p, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return 2;
  u->raw[1] = p[0], u->peer[1] = p[1], u->raw[2] = sv[0], u->peer[2] = sv[1];
  for (int i = 0; i < 3; i++)
    if (fdk_fd_adopt(&u->fd[i], u->raw[i], 0) < 0) return 3;
  alarm(20); /* a blocked loop ends the child */
  return 0;
}

/* Writes a value to each peer and starts a read of each handle. */
static int unknown_kinds_write(unknown_kinds *u) {
  uint64_t one = 1;
  for (int i = 0; i < 3; i++)
    if (write(u->peer[i], &one, sizeof one) != sizeof one) return 7;
  return 0;
}
static int unknown_kinds_read(unknown_kinds *u) {
  for (int i = 0; i < 3; i++) {
    u->buf[i] = 0;
    u->res[i].calls = 0;
    if (fdk_read_async(u->loop, u->fd[i], &u->buf[i], sizeof u->buf[i], fdkt_record, &u->res[i], NULL) != 0) return 4;
  }
  return 0;
}
static int unknown_kinds_delivered(unknown_kinds *u) {
  for (int i = 0; i < 3; i++)
    if (!wait_for(u->loop, &u->res[i].calls) || u->res[i].result != 8 || u->buf[i] != 1) return 8;
  return 0;
}

/* Child body: first reads of descriptors of unknown kind and mode that find data at once
 * ask neither (no fstat, no fcntl: the process dies at either). Where the kernel refuses
 * RWF_NOWAIT for them (the old-kernel run), fdkit has to ask: the rest holds all the same. */
static int first_reads_with_data_ask_nothing(void *arg) {
  (void)arg;
  unknown_kinds u;
  if (unknown_kinds_open(&u)) return 1;
  if (nowait_reads_of_pipes() && fdkt_kill_on_kind_and_mode_calls(1) < 0) return 9;
  int r = unknown_kinds_write(&u);
  if (!r) r = unknown_kinds_read(&u);
  return r ? r : unknown_kinds_delivered(&u);
}

/* Child body: first reads that find nothing ask not the kind; they wait without blocking
 * the loop (whose registration of the descriptor reads the mode, once), read once data
 * comes, and afterwards neither fdk_fd_is_blocking nor the next reads ask the mode again. */
static int first_reads_that_wait_ask_the_mode_once(void *arg) {
  (void)arg;
  int forbid = nowait_reads_of_pipes();
  unknown_kinds u;
  if (unknown_kinds_open(&u)) return 1;
  if (forbid && fdkt_kill_on_kind_and_mode_calls(0) < 0) return 9;
  int r = unknown_kinds_read(&u);
  if (r) return r;
  if (fdk_loop_run(u.loop, FDK_RUN_NOWAIT) != 1) return 5;
  for (int i = 0; i < 3; i++)
    if (u.res[i].calls != 0) return 6;
  if ((r = unknown_kinds_write(&u)) || (r = unknown_kinds_delivered(&u))) return r;
  if (forbid && fdkt_kill_on_kind_and_mode_calls(1) < 0) return 9;
  const int blocking[3] = {0, 1, 1};
  for (int i = 0; i < 3; i++)
    if (fdk_fd_is_blocking(u.fd[i]) != blocking[i]) return 10;
  if ((r = unknown_kinds_read(&u)) || (r = unknown_kinds_write(&u))) return r;
  return unknown_kinds_delivered(&u);
}

static void test_first_read_asks_neither_kind_nor_mode(void **state) {
  (void)state;
  fdkt_in_child(first_reads_with_data_ask_nothing, NULL, 0);
  fdkt_in_child(first_reads_that_wait_ask_the_mode_once, NULL, 0);
}

/* Child body: where preadv2 answers ENOSYS (kernels before 4.6, some sandboxes' filters),
 * a read of a descriptor of unknown mode goes on without the no-wait flag, as where the
 * kernel refuses the flag: the data, never ENOSYS. */
static int reads_without_preadv2(void *arg) {
  (void)arg;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return 1;
  fdk_loop *loop;
  fdk_fd *fd;
  if (fdk_loop_new(&loop) < 0 || fdk_fd_adopt(&fd, p[0], 0) < 0) return 2;
  alarm(20); /* a blocked loop ends the child */
  if (fdkt_preadv2_enosys() < 0) return 3;
  char buf[8] = {0};
  fdkt_result res = {0};
  if (fdk_read_async(loop, fd, buf, sizeof buf, fdkt_record, &res, NULL) != 0) return 4;
  if (write(p[1], "hello", 5) != 5) return 5;
  if (!wait_for(loop, &res.calls)) return 6;
  if (res.result != 5 || memcmp(buf, "hello", 5) != 0) return 7;
  fdk_fd_unref(fd);
  close(p[1]);
  return fdk_loop_free(loop) == 0 ? 0 : 8;
}

static void test_read_where_preadv2_is_unknown(void **state) {
  (void)state;
  fdkt_in_child(reads_without_preadv2, NULL, 0);
}

/* A regular file of an ext4-like file system (RWF_NOWAIT reads answer EAGAIN for data
 * not cached; tmpfs refuses the flag), holding len bytes of a pattern, its data dropped
 * from the page cache when cold; adopted without its kind or mode. */
static fdk_fd *file_of_pattern(size_t len, int cold, int *raw_out) {
  char path[] = "/var/tmp/fdkit-io-XXXXXX";
  int raw = mkostemp(path, O_CLOEXEC);
  assert_true(raw >= 0);
  unlink(path);
  unsigned char *data = malloc(len);
  for (size_t i = 0; i < len; i++) data[i] = (unsigned char)(i * 13 + (i >> 9));
  assert_int_equal(pwrite(raw, data, len, 0), (ssize_t)len);
  free(data);
  if (cold) {
    assert_int_equal(fdatasync(raw), 0);
    assert_int_equal(posix_fadvise(raw, 0, 0, POSIX_FADV_DONTNEED), 0);
  }
  fdk_fd *fd;
  assert_int_equal(fdk_fd_adopt(&fd, raw, 0), 0);
  if (raw_out) *raw_out = raw;
  return fd;
}

static void assert_pattern(const unsigned char *buf, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (buf[i] != (unsigned char)(i * 13 + (i >> 9))) fail_msg("byte %zu differs", i);
}

/* A regular file adopted without its kind reads right whether its data is cached (the
 * first try reads it) or not (the try finds nothing, epoll refuses the file when it is
 * registered, and the same operation goes on on the file engines), and every later read
 * too. */
static void test_file_adopted_unknown_reads(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  const size_t len = 1 << 20;
  unsigned char *buf = malloc(len);
  for (int cold = 0; cold < 2; cold++) {
    fdk_fd *f = file_of_pattern(len, cold, NULL);
    for (size_t done = 0; done < len;) {
      fdkt_result res = {0};
      fdk_op *op = NULL;
      size_t want = done == 0 ? 4096 : len - done;
      assert_int_equal(fdk_read_async(loop, f, buf + done, want, fdkt_record, &res, &op), 0);
      assert_non_null(op);
      assert_int_equal(res.calls, 0);
      fdkt_run_until(loop, &res.calls, 10000);
      assert_true(res.result > 0);
      done += (size_t)res.result;
    }
    assert_pattern(buf, len);
    fdkt_result end = {0};
    assert_int_equal(fdk_read_async(loop, f, buf, 16, fdkt_record, &end, NULL), 0);
    fdkt_run_until(loop, &end.calls, 10000);
    assert_int_equal(end.result, 0);
    fdk_fd_unref(f);
  }
  free(buf);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* Reads started together are registered together before the loop polls; one whose
 * registration is refused there (a second handle of a descriptor number the loop already
 * watches: EEXIST) fails alone, between reads whose registrations go on, and the
 * FDK_RUN_ONCE run that made them returns with its callback rather than block. */
static void test_registration_refused_among_others(void **state) {
  (void)state;
  const char *readiness = getenv("FDKIT_READINESS");
  if (readiness && !strcmp(readiness, "mixed")) skip(); /* mixed takes the number in its epoll set */
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdk_fd *r[3], *w[3];
  for (int i = 0; i < 3; i++) assert_int_equal(fdk_pipe(&r[i], &w[i]), 0);
  fdk_fd *twin;
  assert_int_equal(fdk_fd_adopt(&twin, fdk_fd_raw(r[1]), FDK_FD_BORROW), 0);
  char c[3], ct;
  fdkt_result res[3] = {{0}}, rest = {0};
  /* The newest watch is registered first: r[2], the twin, then r[1] (refused), r[0]. */
  assert_int_equal(fdk_read_async(loop, r[0], &c[0], 1, fdkt_record, &res[0], NULL), 0);
  assert_int_equal(fdk_read_async(loop, r[1], &c[1], 1, fdkt_record, &res[1], NULL), 0);
  assert_int_equal(fdk_read_async(loop, twin, &ct, 1, fdkt_record, &rest, NULL), 0);
  assert_int_equal(fdk_read_async(loop, r[2], &c[2], 1, fdkt_record, &res[2], NULL), 0);
  /* The run that registers them returns with the refusal's callback, not blocking. */
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_ONCE), 1);
  assert_int_equal(res[1].calls, 1);
  assert_int_equal(res[1].result, -EEXIST);
  assert_int_equal(res[0].calls + rest.calls + res[2].calls, 0);
  assert_int_equal(fdk_write(w[0], "a", 1), 1);
  assert_int_equal(fdk_write(w[1], "b", 1), 1);
  assert_int_equal(fdk_write(w[2], "c", 1), 1);
  fdkt_run_until(loop, &res[0].calls, 1000);
  fdkt_run_until(loop, &rest.calls, 1000);
  fdkt_run_until(loop, &res[2].calls, 1000);
  assert_int_equal(res[0].result, 1);
  assert_int_equal(rest.result, 1);
  assert_int_equal(res[2].result, 1);
  assert_int_equal(c[0], 'a');
  assert_int_equal(ct, 'b');
  assert_int_equal(c[2], 'c');
  fdk_fd_unref(twin);
  for (int i = 0; i < 3; i++) {
    fdk_fd_unref(r[i]);
    fdk_fd_unref(w[i]);
  }
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* A cancel or a close while a first read of an uncached file is rerouted (before the
 * loop registered it, then while the file engine moves its bytes): one callback, -ECANCELED
 * or the bytes (or -EBADF for the close), never after the loop stopped reporting, and the
 * descriptor closed only after. */
static void stop_rerouted_read(int stop_at_turn, int by_close) {
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  const size_t len = 1 << 20;
  unsigned char *buf = malloc(len);
  int raw;
  fdk_fd *f = file_of_pattern(len, 1, &raw);
  fdkt_result res = {0};
  fdk_op *op;
  assert_int_equal(fdk_read_async(loop, f, buf, len, fdkt_record, &res, &op), 0);
  for (int i = 0; i < stop_at_turn && !res.calls; i++) fdk_loop_run(loop, FDK_RUN_NOWAIT);
  int done_before = res.calls;
  if (by_close) assert_int_equal(fdk_fd_close(f), 0);
  else if (!done_before) assert_int_equal(fdk_op_cancel(op), 0);
  fdkt_run_until(loop, &res.calls, 10000);
  if (res.result > 0) assert_pattern(buf, (size_t)res.result);
  else if (by_close) assert_true(res.result == -ECANCELED || res.result == -EBADF);
  else assert_int_equal(res.result, -ECANCELED);
  if (stop_at_turn == 0 && !by_close) assert_int_equal(res.result, -ECANCELED);
  for (int i = 0; i < 5; i++) fdk_loop_run(loop, FDK_RUN_NOWAIT);
  assert_int_equal(res.calls, 1);
  fdk_fd_unref(f);
  assert_int_equal(fdk_loop_free(loop), 0);
  assert_int_equal(fcntl(raw, F_GETFD), -1);
  free(buf);
}

static void test_rerouted_read_cancelled(void **state) {
  (void)state;
  for (int turn = 0; turn < 3; turn++) stop_rerouted_read(turn, 0);
}

static void test_rerouted_read_closed(void **state) {
  (void)state;
  for (int turn = 0; turn < 3; turn++) stop_rerouted_read(turn, 1);
}

static void on_sleep_done(int64_t result, void *data) {
  (void)result;
  *(int *)data = 1;
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Readiness is level-triggered: a descriptor still watched after its last read, whose
 * peer then hangs up while nothing waits on it, must not be reported at every poll (the
 * loop would spin for as long as the handle stays open). */
static void test_unwaited_hangup_keeps_loop_idle(void **state) {
  fdkt_pipe *p = *state;
  assert_int_equal(fdk_write(p->w, "x", 1), 1);
  fdkt_run_until(p->loop, &p->res.calls, 2000);
  assert_int_equal(p->res.result, 1);
  /* The watch stays; the writer goes, and for 200 ms nothing reads. */
  assert_int_equal(fdk_fd_close(p->w), 0);
  int slept = 0;
  double cpu0 = cpu_seconds();
  assert_int_equal(fdk_sleep_until(p->loop, fdk_now_ns() + 200000000, on_sleep_done, &slept, NULL), 0);
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(slept, 1);
  assert_true(cpu_seconds() - cpu0 < 0.1);
  /* The hang-up is still there for the next read. */
  p->res = (fdkt_result){0};
  fdkt_pipe_start_read(p);
  fdkt_run_until(p->loop, &p->res.calls, 2000);
  assert_int_equal(p->res.result, 0);
}

typedef struct {
  int fired;
  fdkt_result *read_res;
  int read_done_at_fire;
} tick;

static void on_tick(int64_t result, void *data) {
  (void)result;
  tick *t = data;
  t->fired = 1;
  t->read_done_at_fire = t->read_res->calls;
}

/* A blocking-mode pipe is waited on, not read on the loop thread: timers keep running
 * while the read waits, and fdkit never switches the descriptor to non-blocking. */
static void blocking_mode_pipe_read(unsigned adopt_flags) {
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  fdk_fd *r, *w;
  assert_int_equal(fdk_fd_adopt(&r, p[0], adopt_flags), 0);
  assert_int_equal(fdk_fd_adopt(&w, p[1], FDK_FD_BLOCKING), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  char buf[64];
  fdkt_result res = {0};
  assert_int_equal(fdk_read_async(loop, r, buf, sizeof buf, fdkt_record, &res, NULL), 0);
  tick t = {0, &res, 0};
  assert_int_equal(fdk_sleep_until(loop, fdk_now_ns() + 20000000, on_tick, &t, NULL), 0);
  fdkt_run_until(loop, &t.fired, 2000);
  assert_int_equal(t.read_done_at_fire, 0);
  assert_false(fcntl(p[0], F_GETFL) & O_NONBLOCK);
  assert_int_equal(write(p[1], "late", 4), 4);
  fdkt_run_until(loop, &res.calls, 2000);
  assert_int_equal(res.result, 4);
  assert_false(fcntl(p[0], F_GETFL) & O_NONBLOCK);
  fdk_fd_unref(r);
  fdk_fd_unref(w);
  fdk_loop_free(loop);
}

/* Told the mode, or left to find it out (a first read need not ask: see doc/io.md). */
static void test_blocking_mode_pipe_read(void **state) {
  (void)state;
  blocking_mode_pipe_read(FDK_FD_BLOCKING);
  blocking_mode_pipe_read(0);
}

/* An async write to a blocking-mode pipe never blocks the loop: at most PIPE_BUF bytes
 * go per call, and a full pipe makes it wait. */
static void test_blocking_mode_pipe_write(void **state) {
  (void)state;
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  fdk_fd *w;
  assert_int_equal(fdk_fd_adopt(&w, p[1], FDK_FD_BLOCKING), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  static char big[1 << 20];
  fdkt_result res = {0};
  assert_int_equal(fdk_write_async(loop, w, big, sizeof big, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 2000);
  assert_true(res.result > 0 && res.result <= PIPE_BUF);
  /* Fill the pipe; the next write must wait, not block. */
  size_t filled = (size_t)res.result;
  while (1) {
    memset(&res, 0, sizeof res);
    assert_int_equal(fdk_write_async(loop, w, big, sizeof big, fdkt_record, &res, NULL), 0);
    tick t = {0, &res, 0};
    assert_int_equal(fdk_sleep_until(loop, fdk_now_ns() + 10000000, on_tick, &t, NULL), 0);
    fdkt_run_until(loop, &t.fired, 2000);
    if (!res.calls) break;
    assert_true(res.result > 0 && res.result <= PIPE_BUF);
    filled += (size_t)res.result;
    assert_true(filled <= (1 << 20));
  }
  /* Drain: the pending write then goes through. */
  char sink[1 << 16];
  fcntl(p[0], F_SETFL, O_NONBLOCK); /* the reader's own description, not the writer's */
  int64_t deadline = fdk_now_ns() + 2000000000LL;
  while (!res.calls && fdk_now_ns() < deadline) {
    ssize_t drained = read(p[0], sink, sizeof sink);
    (void)drained;
    fdk_loop_run(loop, FDK_RUN_NOWAIT);
  }
  assert_int_equal(res.calls, 1);
  assert_true(res.result > 0 && res.result <= PIPE_BUF);
  assert_false(fcntl(p[1], F_GETFL) & O_NONBLOCK);
  fdk_fd_unref(w);
  close(p[0]);
  fdk_loop_free(loop);
}

static volatile sig_atomic_t sigpipe_seen;
static void on_sigpipe(int sig) {
  (void)sig;
  sigpipe_seen = 1;
}

/* A gone reader gives -EPIPE and no SIGPIPE, for pipes and sockets, sync and async; a
 * handler the host installed proves no signal was delivered. */
static void test_epipe_without_sigpipe(void **state) {
  (void)state;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigpipe;
  sigaction(SIGPIPE, &sa, &old);
  sigpipe_seen = 0;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);

  fdk_fd *r, *w;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  fdk_fd_unref(r);
  assert_int_equal(fdk_write(w, "x", 1), -EPIPE);
  fdkt_result res = {0};
  assert_int_equal(fdk_write_async(loop, w, "x", 1, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 1000);
  assert_int_equal(res.result, -EPIPE);
  struct iovec two[2] = {{"x", 1}, {"y", 1}};
  assert_int_equal(fdk_writev(w, two, 2), -EPIPE);
  memset(&res, 0, sizeof res);
  assert_int_equal(fdk_writev_async(loop, w, two, 2, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 1000);
  assert_int_equal(res.result, -EPIPE);
  fdk_fd_unref(w);

  /* A blocking-mode pipe of unknown kind: its async writes take at most PIPE_BUF bytes. */
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  close(p[0]);
  assert_int_equal(fdk_fd_adopt(&w, p[1], FDK_FD_BLOCKING), 0);
  assert_int_equal(fdk_write(w, "x", 1), -EPIPE);
  memset(&res, 0, sizeof res);
  assert_int_equal(fdk_write_async(loop, w, "x", 1, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 1000);
  assert_int_equal(res.result, -EPIPE);
  fdk_fd_unref(w);

  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
  close(sv[1]);
  fdk_fd *s;
  assert_int_equal(fdk_fd_adopt(&s, sv[0], 0), 0);
  assert_int_equal(fdk_write(s, "x", 1), -EPIPE);
  struct iovec iov = {"xy", 2};
  assert_int_equal(fdk_writev(s, &iov, 1), -EPIPE);
  fdk_fd_unref(s);

  /* The thread's signal mask is as it was. */
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, NULL, &mask);
  assert_false(sigismember(&mask, SIGPIPE));
  fdk_loop_free(loop);
  sigaction(SIGPIPE, &old, NULL);
  assert_int_equal(sigpipe_seen, 0);
}

/* Whether this kernel writes with pwritev2(RWF_NOSIGNAL), asked of a pipe of our own (the
 * old-kernel runs refuse it, so fdkit must hold SIGPIPE back around its writes there). */
static int kernel_takes_nosignal(void) {
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  struct iovec one = {"x", 1};
  ssize_t r = pwritev2(p[1], &one, 1, -1, 0x100 /* RWF_NOSIGNAL */);
  int err = errno;
  close(p[0]);
  close(p[1]);
  if (r == 1) return 1;
  assert_int_equal(err, EOPNOTSUPP);
  return 0;
}

/* Takes every SIGPIPE pending for this thread (which blocks it); the number taken. */
static int take_pending_sigpipes(void) {
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  struct timespec zero = {0, 0};
  int n = 0;
  while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE) n++;
  return n;
}

/* A gone reader's -EPIPE to a thread that blocks SIGPIPE itself, sync and async, write and
 * writev: the thread keeps its mask, and a SIGPIPE pending for it stays pending, once
 * (fdkit consumes only the signals its own blocking held back). Where the kernel takes
 * RWF_NOSIGNAL the write raises nothing at all; where it does not, fdkit holds SIGPIPE back
 * and the signal the write raised joins the thread's pending set. */
static void test_epipe_with_sigpipe_blocked(void **state) {
  (void)state;
  int nosignal = kernel_takes_nosignal();
  if (getenv("FDKIT_TEST_OLD_KERNEL")) assert_false(nosignal);
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  take_pending_sigpipes();
  fdk_loop *loop = fdkt_loop_new();
  fdk_fd *r, *w;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  fdk_fd_unref(r);

  /* Nothing pending: which way the write went shows. */
  assert_int_equal(fdk_write(w, "x", 1), -EPIPE);
  assert_int_equal(take_pending_sigpipes(), nosignal ? 0 : 1);

  /* One pending already: it stays, whatever the writes do. */
  assert_int_equal(pthread_kill(pthread_self(), SIGPIPE), 0);
  assert_int_equal(fdk_write(w, "x", 1), -EPIPE);
  struct iovec two[2] = {{"x", 1}, {"y", 1}};
  assert_int_equal(fdk_writev(w, two, 2), -EPIPE);
  fdkt_result res = {0};
  assert_int_equal(fdk_write_async(loop, w, "x", 1, fdkt_record, &res, NULL), 0);
  fdkt_run_until(loop, &res.calls, 1000);
  assert_int_equal(res.result, -EPIPE);
  sigset_t mask, pending;
  pthread_sigmask(SIG_BLOCK, NULL, &mask);
  assert_true(sigismember(&mask, SIGPIPE));
  sigpending(&pending);
  assert_true(sigismember(&pending, SIGPIPE));
  assert_int_equal(take_pending_sigpipes(), 1);

  fdk_fd_unref(w);
  fdk_loop_free(loop);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* A file whose kernel side has no write_iter (/proc/<tid>/comm) refuses RWF_NOSIGNAL by
 * itself: its writes still go through, and the refusal stays its own, so pipe writes after
 * it still raise nothing where the kernel takes the flag. */
static void test_write_to_file_refusing_nosignal(void **state) {
  (void)state;
  int nosignal = kernel_takes_nosignal();
  int raw = open("/proc/thread-self/comm", O_RDWR | O_CLOEXEC);
  assert_true(raw >= 0);
  char name[32] = {0};
  assert_true(pread(raw, name, sizeof name - 1, 0) > 0);
  fdk_fd *comm;
  assert_int_equal(fdk_fd_adopt(&comm, raw, FDK_FD_BLOCKING), 0);
  for (int i = 0; i < 2; i++) { /* the second write goes the learned way at once */
    assert_int_equal(fdk_write(comm, "fdkt-comm", 9), 9);
    char now[32] = {0};
    assert_true(pread(raw, now, sizeof now - 1, 0) > 0);
    assert_string_equal(now, "fdkt-comm\n");
  }
  assert_int_equal(fdk_write(comm, name, strcspn(name, "\n")), (ssize_t)strcspn(name, "\n"));
  fdk_fd_unref(comm);

  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  take_pending_sigpipes();
  fdk_fd *r, *w;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  fdk_fd_unref(r);
  assert_int_equal(fdk_write(w, "x", 1), -EPIPE);
  assert_int_equal(take_pending_sigpipes(), nosignal ? 0 : 1);
  fdk_fd_unref(w);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void on_alarm(int sig) { (void)sig; }

typedef struct {
  int raw;
} late_writer;

static void *write_after(void *data) {
  late_writer *lw = data;
  usleep(120000);
  assert_int_equal(write(lw->raw, "ok", 2), 2);
  return NULL;
}

/* A signal that interrupts a waiting sync read does not surface as -EINTR. */
static void test_sync_read_retries_eintr(void **state) {
  (void)state;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm; /* no SA_RESTART: poll and read see EINTR */
  sigaction(SIGALRM, &sa, &old);
  fdk_fd *r, *w;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  late_writer lw = {fdk_fd_raw(w)};
  pthread_t t;
  pthread_create(&t, NULL, write_after, &lw);
  struct itimerval it = {{0, 10000}, {0, 10000}};
  setitimer(ITIMER_REAL, &it, NULL);
  char buf[4];
  ssize_t n = fdk_read(r, buf, sizeof buf);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  pthread_join(t, NULL);
  sigaction(SIGALRM, &old, NULL);
  assert_int_equal(n, 2);
  assert_memory_equal(buf, "ok", 2);
  fdk_fd_unref(r);
  fdk_fd_unref(w);
}

/* Many readers waiting on one pipe each get woken and served. */
static void test_many_waiters_one_descriptor(void **state) {
  (void)state;
  fdk_loop *loop;
  fdk_fd *r, *w;
  assert_int_equal(fdk_loop_new(&loop), 0);
  assert_int_equal(fdk_pipe(&r, &w), 0);
  enum { N = 16 };
  char c[N];
  fdkt_result res[N];
  memset(res, 0, sizeof res);
  for (int i = 0; i < N; i++) assert_int_equal(fdk_read_async(loop, r, &c[i], 1, fdkt_record, &res[i], NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(fdk_write(w, "abcdefghijklmnop", N), N);
  int64_t deadline = fdk_now_ns() + 2000000000LL;
  int done = 0;
  while (done < N && fdk_now_ns() < deadline) {
    fdk_loop_run(loop, FDK_RUN_ONCE);
    done = 0;
    for (int i = 0; i < N; i++) done += res[i].calls;
  }
  assert_int_equal(done, N);
  int seen = 0;
  for (int i = 0; i < N; i++) {
    assert_int_equal(res[i].result, 1);
    seen |= 1 << (c[i] - 'a');
  }
  assert_int_equal(seen, (1 << N) - 1);
  fdk_fd_unref(r);
  fdk_fd_unref(w);
  fdk_loop_free(loop);
}

/* More handles readable at once than the loop takes from its epoll set in one call (1024,
 * as libuv), each keeping data after its read: the set is asked again in the same turn,
 * before any callback ran, and reports the completed reads' handles again. A completed
 * read must let such a report drop its direction, or the set reports them again and again
 * and the turn never ends (SIGALRM then kills the test). */
enum { REPORTED_AGAIN = 1100 };

typedef struct {
  fdk_loop *loop;
  fdk_fd *fd;
  char byte;
  int reads;
  int failures;
} reported_again_channel;

static void reported_again_on_read(int64_t result, void *data) {
  reported_again_channel *c = data;
  if (result != 1) c->failures++;
  if (++c->reads == 1 && fdk_read_async(c->loop, c->fd, &c->byte, 1, reported_again_on_read, c, NULL) < 0)
    c->failures++;
}

static void test_completed_reads_reported_again(void **state) {
  (void)state;
  /* Two descriptors per handle: the soft limit is raised as far as the hard one allows. */
  struct rlimit lim;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &lim), 0);
  if (lim.rlim_max < 2 * REPORTED_AGAIN + 64) skip();
  if (lim.rlim_cur < 2 * REPORTED_AGAIN + 64) {
    lim.rlim_cur = lim.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
  }
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  static reported_again_channel ch[REPORTED_AGAIN];
  fdk_fd *writers[REPORTED_AGAIN];
  for (int i = 0; i < REPORTED_AGAIN; i++) {
    ch[i] = (reported_again_channel){.loop = loop};
    assert_int_equal(fdk_pipe(&ch[i].fd, &writers[i]), 0);
    assert_int_equal(fdk_read_async(loop, ch[i].fd, &ch[i].byte, 1, reported_again_on_read, &ch[i], NULL), 0);
  }
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  for (int i = 0; i < REPORTED_AGAIN; i++) assert_int_equal(fdk_write(writers[i], "ab", 2), 2);
  alarm(20);
  int64_t deadline = fdk_now_ns() + 10000000000LL;
  int done = 0;
  while (done < REPORTED_AGAIN && fdk_now_ns() < deadline) {
    fdk_loop_run(loop, FDK_RUN_ONCE);
    done = 0;
    for (int i = 0; i < REPORTED_AGAIN; i++) done += ch[i].reads == 2;
  }
  alarm(0);
  assert_int_equal(done, REPORTED_AGAIN);
  for (int i = 0; i < REPORTED_AGAIN; i++) {
    assert_int_equal(ch[i].failures, 0);
    fdk_fd_unref(ch[i].fd);
    fdk_fd_unref(writers[i]);
  }
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* re-armed reads --------------------------------------------------------------------- */

/* A read started from the callback of a read of the same handle (a handle that keeps
 * reading) takes over the finished read's operation: each step below is what such a
 * callback does after its read completed. */
enum rearm_step { REARM_ONE, REARM_TWO_IOVECS, REARM_THEN_CANCEL, REARM_THEN_CLOSE, CLOSE_THEN_REARM,
                  REARM_ON_OTHER_LOOP, REARM_AFTER_CANCEL_FROM_THREAD, CLOSE_FROM_THREAD_THEN_REARM,
                  READ_OTHER_HANDLE, STOP };

typedef struct {
  fdk_loop *loop, *other;
  fdk_fd *fd;
  fdk_fd *other_fd;             /* a second handle, for READ_OTHER_HANDLE */
  const enum rearm_step *steps; /* what the callback of the n-th read does */
  int n;                        /* reads completed */
  int64_t results[16];
  char got[16][4];              /* the bytes each read put in its buffers */
  char buf[16][4];
  fdk_op *op[16];               /* the operation each read was started as */
  int starting;                 /* set while a read is being started */
  int inside;                   /* a callback ran inside the call that started its read */
  int start_result;             /* of the last start made by a callback */
} rearm_ctx;

static void rearm_on_read(int64_t result, void *data);

static int rearm_start(rearm_ctx *c, fdk_loop *loop, int i, int two_iovecs) {
  memset(c->buf[i], 0, sizeof c->buf[i]);
  c->starting = 1;
  int r;
  if (two_iovecs) {
    struct iovec v[2] = {{c->buf[i], 1}, {c->buf[i] + 1, 2}};
    r = fdk_readv_async(loop, c->fd, v, 2, rearm_on_read, c, &c->op[i]);
  } else {
    r = fdk_read_async(loop, c->fd, c->buf[i], 1, rearm_on_read, c, &c->op[i]);
  }
  c->starting = 0;
  return r;
}

static int cancel_on_thread(void *arg) { return fdk_op_cancel(arg); }
static int close_on_thread(void *arg) { return fdk_fd_close(arg); }

static void rearm_on_read(int64_t result, void *data) {
  rearm_ctx *c = data;
  if (c->starting) c->inside = 1;
  int i = c->n++;
  c->results[i] = result;
  memcpy(c->got[i], c->buf[i], sizeof c->got[i]);
  switch (c->steps[i]) {
    case REARM_ONE: c->start_result = rearm_start(c, c->loop, i + 1, 0); break;
    case REARM_TWO_IOVECS: c->start_result = rearm_start(c, c->loop, i + 1, 1); break;
    case REARM_THEN_CANCEL:
      c->start_result = rearm_start(c, c->loop, i + 1, 0);
      fdk_op_cancel(c->op[i + 1]);
      break;
    case REARM_THEN_CLOSE:
      c->start_result = rearm_start(c, c->loop, i + 1, 0);
      fdk_fd_close(c->fd);
      break;
    case CLOSE_THEN_REARM:
      fdk_fd_close(c->fd);
      c->start_result = rearm_start(c, c->loop, i + 1, 0);
      break;
    case REARM_ON_OTHER_LOOP: c->start_result = rearm_start(c, c->other, i + 1, 0); break;
    case REARM_AFTER_CANCEL_FROM_THREAD: {
      /* A cancel of the finished read, asked from another thread and not yet run by the
       * loop, must not land on the read started next. */
      fdkt_later later;
      fdkt_later_start(&later, 0, cancel_on_thread, c->op[i]);
      fdkt_later_join(&later);
      c->start_result = rearm_start(c, c->loop, i + 1, 0);
      break;
    }
    case CLOSE_FROM_THREAD_THEN_REARM: {
      /* The loop's watch outlives that close until the loop drops it, but the handle
       * takes no new read: the re-arm fails as a fresh read would. */
      fdkt_later later;
      fdkt_later_start(&later, 0, close_on_thread, c->fd);
      assert_int_equal(fdkt_later_join(&later), 0);
      c->start_result = rearm_start(c, c->loop, i + 1, 0);
      break;
    }
    case READ_OTHER_HANDLE:
      memset(c->buf[i + 1], 0, sizeof c->buf[i + 1]);
      c->start_result = fdk_read_async(c->loop, c->other_fd, c->buf[i + 1], 1, rearm_on_read, c, &c->op[i + 1]);
      break;
    case STOP: break;
  }
}

/* A loop (and another), a socketpair whose near end is c->fd, before written to it (or
 * NULL), and the first read started. */
static int rearm_open(rearm_ctx *c, const enum rearm_step *steps, int *peer, const char *before) {
  memset(c, 0, sizeof *c);
  c->steps = steps;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  assert_int_equal(fdk_fd_adopt(&c->fd, sv[0], 0), 0);
  *peer = sv[1];
  assert_int_equal(fdk_loop_new(&c->loop), 0);
  assert_int_equal(fdk_loop_new(&c->other), 0);
  if (before) assert_int_equal(write(sv[1], before, strlen(before)), (ssize_t)strlen(before));
  return rearm_start(c, c->loop, 0, 0);
}

static void rearm_run(rearm_ctx *c, int reads) {
  int64_t deadline = fdk_now_ns() + 2000000000LL;
  while (c->n < reads && fdk_now_ns() < deadline) fdk_loop_run(c->loop, FDK_RUN_ONCE);
  assert_int_equal(c->n, reads);
  assert_int_equal(c->inside, 0);
}

static void rearm_close(rearm_ctx *c, int peer) {
  fdk_fd_unref(c->fd);
  close(peer);
  assert_int_equal(fdk_loop_free(c->other), 0);
  assert_int_equal(fdk_loop_free(c->loop), 0);
}

/* The first read started, then "ab" written by the peer; runs until reads completed. */
static void rearm_ab(rearm_ctx *c, const enum rearm_step *steps, int *peer, int reads) {
  assert_int_equal(rearm_open(c, steps, peer, NULL), 0);
  assert_int_equal(write(*peer, "ab", 2), 2);
  rearm_run(c, reads);
}

/* Data already there before the first read: each re-armed read keeps the operation, is
 * tried first (the loop never had to watch the descriptor) and still never calls back
 * inside the call that started it, takes a new buffer and length each time (one buffer,
 * then two), and the one that finds nothing waits until the peer writes. */
static void test_rearmed_reads_keep_the_operation(void **state) {
  (void)state;
  static const enum rearm_step steps[] = {REARM_TWO_IOVECS, REARM_ONE, REARM_TWO_IOVECS, REARM_ONE, STOP};
  rearm_ctx c;
  int peer;
  assert_int_equal(rearm_open(&c, steps, &peer, "abcdefgh"), 0);
  rearm_run(&c, 4);
  const int64_t expect[] = {1, 3, 1, 3};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(c.results[i], expect[i]);
    assert_ptr_equal(c.op[i + 1], c.op[0]);
  }
  assert_memory_equal(c.got[0], "a", 1);
  assert_memory_equal(c.got[1], "bcd", 3);
  assert_memory_equal(c.got[2], "e", 1);
  assert_memory_equal(c.got[3], "fgh", 3);
  assert_int_equal(fdk_loop_run(c.loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(c.n, 4);
  assert_int_equal(write(peer, "z", 1), 1);
  rearm_run(&c, 5);
  assert_int_equal(c.results[4], 1);
  assert_memory_equal(c.got[4], "z", 1);
  rearm_close(&c, peer);
}

/* A re-armed read cancelled from the callback that started it completes with -ECANCELED,
 * once, after that callback; a read re-armed from that one reads on. */
static void test_rearmed_read_cancelled(void **state) {
  (void)state;
  static const enum rearm_step steps[] = {REARM_THEN_CANCEL, REARM_ONE, STOP};
  rearm_ctx c;
  int peer;
  rearm_ab(&c, steps, &peer, 3);
  assert_int_equal(c.results[0], 1);
  assert_int_equal(c.results[1], -ECANCELED);
  assert_int_equal(c.results[2], 1);
  assert_memory_equal(c.got[2], "b", 1);
  assert_int_equal(fdk_loop_run(c.loop, FDK_RUN_NOWAIT), 0);
  rearm_close(&c, peer);
}

/* The handle closed from the callback after the re-arm: the re-armed read completes with
 * -ECANCELED and the descriptor is closed once it did; closed before: the re-arm fails
 * with -EBADF and no callback runs. */
static void test_rearmed_read_handle_closed(void **state) {
  (void)state;
  static const enum rearm_step after[] = {REARM_THEN_CLOSE, STOP};
  rearm_ctx c;
  int peer;
  rearm_ab(&c, after, &peer, 2);
  assert_int_equal(c.start_result, 0);
  assert_int_equal(c.results[1], -ECANCELED);
  assert_int_equal(fdk_loop_run(c.loop, FDK_RUN_NOWAIT), 0);
  rearm_close(&c, peer);

  static const enum rearm_step before[] = {CLOSE_THEN_REARM, STOP};
  rearm_ab(&c, before, &peer, 1);
  assert_int_equal(c.start_result, -EBADF);
  assert_int_equal(fdk_loop_run(c.loop, FDK_RUN_NOWAIT), 0);
  assert_int_equal(c.n, 1);
  rearm_close(&c, peer);
}

/* A read of the same handle started on another loop from the callback is that loop's
 * own: it completes there, and the first loop has nothing left. */
static void test_rearm_on_another_loop(void **state) {
  (void)state;
  static const enum rearm_step steps[] = {REARM_ON_OTHER_LOOP, STOP};
  rearm_ctx c;
  int peer;
  rearm_ab(&c, steps, &peer, 1);
  assert_int_equal(c.start_result, 0);
  assert_int_equal(fdk_loop_run(c.loop, FDK_RUN_NOWAIT), 0);
  int64_t deadline = fdk_now_ns() + 2000000000LL;
  while (c.n < 2 && fdk_now_ns() < deadline) fdk_loop_run(c.other, FDK_RUN_ONCE);
  assert_int_equal(c.n, 2);
  assert_int_equal(c.results[1], 1);
  assert_memory_equal(c.got[1], "b", 1);
  rearm_close(&c, peer);
}

/* The handle closed from another thread while the callback runs, before the callback
 * starts the next read: that read fails with -EBADF at once, no callback runs for it, and
 * the loop still ends its watch (the descriptor is closed once it did). */
static void test_rearm_after_close_from_another_thread(void **state) {
  (void)state;
  static const enum rearm_step steps[] = {CLOSE_FROM_THREAD_THEN_REARM, STOP};
  rearm_ctx c;
  int peer;
  rearm_ab(&c, steps, &peer, 1);
  assert_int_equal(c.start_result, -EBADF);
  for (int i = 0; i < 10; i++) fdk_loop_run(c.loop, FDK_RUN_NOWAIT);
  assert_int_equal(c.n, 1);
  assert_int_equal(fdk_fd_raw(c.fd), -EBADF);
  fdk_fd_unref(c.fd);
  assert_int_equal(fdk_loop_free(c.other), 0);
  assert_int_equal(fdk_loop_free(c.loop), 0);
  /* The loop ended its watch and the descriptor is closed, with "b" unread: the peer's
   * connection is reset. */
  char byte;
  assert_int_equal(read(peer, &byte, 1), -1);
  assert_int_equal(errno, ECONNRESET);
  close(peer);
}

/* The callback of a read of one handle starts a read of another: that read is an
 * operation of its own, on the other handle, and reads what arrives there. The other
 * handle is a pipe fdkit made, known pollable and non-blocking from the start, as the
 * first one is by then: nothing but the handle tells the two reads apart. */
static void test_read_of_another_handle_from_callback(void **state) {
  (void)state;
  static const enum rearm_step steps[] = {READ_OTHER_HANDLE, STOP};
  rearm_ctx c;
  int peer;
  assert_int_equal(rearm_open(&c, steps, &peer, NULL), 0);
  fdk_fd *other_wr;
  assert_int_equal(fdk_pipe(&c.other_fd, &other_wr), 0);
  assert_int_equal(write(peer, "ab", 2), 2);
  assert_int_equal(fdk_write(other_wr, "x", 1), 1);
  rearm_run(&c, 2);
  assert_int_equal(c.start_result, 0);
  assert_true(c.op[1] != c.op[0]);
  assert_int_equal(c.results[1], 1);
  assert_memory_equal(c.got[1], "x", 1);
  /* "b" is still unread on the first handle. */
  char byte;
  assert_int_equal(read(fdk_fd_raw(c.fd), &byte, 1), 1);
  assert_int_equal(byte, 'b');
  fdk_fd_unref(c.other_fd);
  fdk_fd_unref(other_wr);
  rearm_close(&c, peer);
}

/* A cancel of the finished read asked from another thread while its callback runs (the
 * op is still valid then) has no effect: the read re-armed after it reads on. */
static void test_rearm_after_cancel_from_another_thread(void **state) {
  (void)state;
  static const enum rearm_step steps[] = {REARM_AFTER_CANCEL_FROM_THREAD, STOP};
  rearm_ctx c;
  int peer;
  rearm_ab(&c, steps, &peer, 2);
  assert_int_equal(c.results[0], 1);
  assert_int_equal(c.results[1], 1);
  assert_memory_equal(c.got[1], "b", 1);
  rearm_close(&c, peer);
}

/* ordered, complete writes --------------------------------------------------------- */

typedef struct {
  int calls;
  int64_t result;
  int order; /* position among the completions */
} write_done;

static int completions;

static void record_write(int64_t result, void *data) {
  write_done *d = data;
  d->calls++;
  d->result = result;
  d->order = completions++;
}

/* Reads everything from fd into buf on the loop, chaining async reads. */
typedef struct {
  fdk_loop *loop;
  fdk_fd *fd;
  char *buf;
  size_t want, got;
  int done;
} drain;

static void drain_more(drain *d);

static void drained(int64_t result, void *data) {
  drain *d = data;
  assert_true(result > 0);
  d->got += (size_t)result;
  if (d->got == d->want) d->done = 1;
  else drain_more(d);
}

static void drain_more(drain *d) {
  size_t chunk = d->want - d->got < 65536 ? d->want - d->got : 65536;
  assert_int_equal(fdk_read_async(d->loop, d->fd, d->buf + d->got, chunk, drained, d, NULL), 0);
}

/* Eight concurrent 1 MiB writes on one stream each complete in full, in order, and the
 * bytes arrive whole and in submission order. */
static void test_write_all_ordered(void **state) {
  (void)state;
  enum { N = 8, MIB = 1 << 20 };
  fdk_loop *loop;
  fdk_fd *a, *b;
  assert_int_equal(fdk_loop_new(&loop), 0);
  assert_int_equal(fdk_socketpair(&a, &b, AF_UNIX, SOCK_STREAM, 0), 0);
  char *out = malloc((size_t)N * MIB), *in = malloc((size_t)N * MIB);
  write_done done[N];
  memset(done, 0, sizeof done);
  completions = 0;
  for (int i = 0; i < N; i++) {
    memset(out + (size_t)i * MIB, 'a' + i, MIB);
    if (i % 2) {
      /* Vectored too: the 1 MiB in three pieces. */
      struct iovec v[3] = {{out + (size_t)i * MIB, 1000}, {out + (size_t)i * MIB + 1000, 0},
                           {out + (size_t)i * MIB + 1000, MIB - 1000}};
      assert_int_equal(fdk_writev_all_async(loop, a, v, 3, record_write, &done[i], NULL), 0);
    } else {
      assert_int_equal(fdk_write_all_async(loop, a, out + (size_t)i * MIB, MIB, record_write, &done[i], NULL), 0);
    }
  }
  int64_t queued = fdk_write_queue_size(loop, a);
  assert_true(queued > (int64_t)(N - 1) * MIB && queued <= (int64_t)N * MIB);
  assert_int_equal(fdk_write_queue_size(loop, b), 0);
  drain d = {loop, b, in, (size_t)N * MIB, 0, 0};
  drain_more(&d);
  fdkt_run_until(loop, &d.done, 30000);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  for (int i = 0; i < N; i++) {
    assert_int_equal(done[i].calls, 1);
    assert_int_equal(done[i].result, MIB);
    assert_int_equal(done[i].order, i);
  }
  assert_memory_equal(in, out, (size_t)N * MIB);
  assert_int_equal(fdk_write_queue_size(loop, a), 0);
  free(out);
  free(in);
  fdk_fd_unref(a);
  fdk_fd_unref(b);
  fdk_loop_free(loop);
}

/* A write that has not started leaves the queue alone when cancelled; the head cancelled
 * after its first bytes takes the writes behind it along. */
static void test_write_all_cancel(void **state) {
  (void)state;
  enum { MIB = 1 << 20 };
  fdk_loop *loop;
  fdk_fd *r, *w;
  assert_int_equal(fdk_loop_new(&loop), 0);
  assert_int_equal(fdk_pipe(&r, &w), 0);
  char *buf = malloc(3 * MIB), *in = malloc(2 * MIB);
  memset(buf, 'A', MIB);
  memset(buf + MIB, 'B', MIB);
  memset(buf + 2 * MIB, 'C', MIB);
  write_done da = {0}, db = {0}, dc = {0};
  fdk_op *op_b;
  assert_int_equal(fdk_write_all_async(loop, w, buf, MIB, record_write, &da, NULL), 0);
  assert_int_equal(fdk_write_all_async(loop, w, buf + MIB, MIB, record_write, &db, &op_b), 0);
  assert_int_equal(fdk_write_all_async(loop, w, buf + 2 * MIB, MIB, record_write, &dc, NULL), 0);
  assert_int_equal(fdk_op_cancel(op_b), 0);
  assert_true(fdk_write_queue_size(loop, w) <= 2 * MIB);
  drain d = {loop, r, in, 2 * MIB, 0, 0};
  drain_more(&d);
  fdkt_run_until(loop, &d.done, 30000);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(da.calls, 1);
  assert_int_equal(da.result, MIB);
  assert_int_equal(db.calls, 1);
  assert_int_equal(db.result, -ECANCELED);
  assert_int_equal(dc.calls, 1);
  assert_int_equal(dc.result, MIB);
  assert_memory_equal(in, buf, MIB);
  assert_memory_equal(in + MIB, buf + 2 * MIB, MIB);

  /* The head has written part of its bytes (the pipe is full): cancelling it ends the
   * write behind it too. */
  write_done dh = {0}, dn = {0};
  fdk_op *head;
  assert_int_equal(fdk_write_all_async(loop, w, buf, MIB, record_write, &dh, &head), 0);
  assert_int_equal(fdk_write_all_async(loop, w, buf + MIB, MIB, record_write, &dn, NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_true(fdk_write_queue_size(loop, w) < 2 * MIB);
  assert_int_equal(fdk_op_cancel(head), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(dh.calls, 1);
  assert_int_equal(dh.result, -ECANCELED);
  assert_int_equal(dn.calls, 1);
  assert_int_equal(dn.result, -ECANCELED);
  assert_int_equal(fdk_write_queue_size(loop, w), 0);
  free(buf);
  free(in);
  fdk_fd_unref(r);
  fdk_fd_unref(w);
  fdk_loop_free(loop);
}

/* Closing the handle completes every queued write with -ECANCELED, exactly once; a write
 * on the closed handle then fails at once without its callback. */
static void test_write_all_close(void **state) {
  (void)state;
  enum { N = 3, MIB = 1 << 20 };
  fdk_loop *loop;
  fdk_fd *r, *w;
  assert_int_equal(fdk_loop_new(&loop), 0);
  assert_int_equal(fdk_pipe(&r, &w), 0);
  char *buf = calloc(1, MIB);
  write_done done[N];
  memset(done, 0, sizeof done);
  for (int i = 0; i < N; i++)
    assert_int_equal(fdk_write_all_async(loop, w, buf, MIB, record_write, &done[i], NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(fdk_fd_close(w), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  for (int i = 0; i < N; i++) {
    assert_int_equal(done[i].calls, 1);
    assert_int_equal(done[i].result, -ECANCELED);
  }
  write_done late = {0};
  assert_int_equal(fdk_write_all_async(loop, w, buf, 1, record_write, &late, NULL), -EBADF);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(late.calls, 0);
  assert_int_equal(fdk_write_queue_size(loop, w), 0);
  /* Queued writes still pending at free end the same way. */
  fdk_fd *r2, *w2;
  assert_int_equal(fdk_pipe(&r2, &w2), 0);
  memset(done, 0, sizeof done);
  for (int i = 0; i < N; i++)
    assert_int_equal(fdk_write_all_async(loop, w2, buf, MIB, record_write, &done[i], NULL), 0);
  assert_int_equal(fdk_loop_free(loop), 0);
  for (int i = 0; i < N; i++) {
    assert_int_equal(done[i].calls, 1);
    assert_int_equal(done[i].result, -ECANCELED);
  }
  free(buf);
  fdk_fd_unref(r);
  fdk_fd_unref(w);
  fdk_fd_unref(r2);
  fdk_fd_unref(w2);
}

/* A descriptor epoll refuses (a regular file) writes its queue on the worker pool, in
 * order; bad arguments are refused. */
static void test_write_all_regular_file(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdk_fd *f = temp_file();
  write_done d1 = {0}, d2 = {0};
  completions = 0;
  assert_int_equal(fdk_write_all_async(loop, f, "first,", 6, record_write, &d1, NULL), 0);
  assert_int_equal(fdk_write_all_async(loop, f, "second", 6, record_write, &d2, NULL), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(d1.result, 6);
  assert_int_equal(d2.result, 6);
  assert_true(d1.order < d2.order);
  char buf[16];
  struct iovec v = {buf, sizeof buf};
  assert_int_equal(fdk_preadv(f, &v, 1, 0), 12);
  assert_memory_equal(buf, "first,second", 12);
  assert_int_equal(fdk_write_all_async(NULL, f, "x", 1, record_write, &d1, NULL), -EINVAL);
  assert_int_equal(fdk_write_all_async(loop, f, NULL, 1, record_write, &d1, NULL), -EINVAL);
  assert_int_equal(fdk_writev_all_async(loop, f, NULL, 1, record_write, &d1, NULL), -EINVAL);
  assert_int_equal(fdk_write_queue_size(NULL, f), -EINVAL);
  assert_int_equal(fdk_write_queue_size(loop, NULL), -EINVAL);
  fdk_fd_unref(f);
  fdk_loop_free(loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      fdkt_test(test_sync_roundtrip_and_short_read),
      fdkt_test(test_vectored),
      fdkt_test(test_file_calls),
      fdkt_test(test_errors),
      fdkt_test(test_getrandom),
      fdkt_test(test_async_transfer),
      fdkt_test(test_async_regular_file),
      fdkt_test(test_async_fsync_answers_as_fsync),
      fdkt_test(test_async_reads_of_leftover_data),
      fdkt_test(test_full_reads_read_again_at_once),
      fdkt_test(test_full_reads_leave_other_handles_a_turn),
      fdkt_pipe_reading_test(test_unwaited_hangup_keeps_loop_idle),
      fdkt_test(test_blocking_mode_pipe_read),
      fdkt_test(test_blocking_mode_pipe_write),
      fdkt_test(test_epipe_without_sigpipe),
      fdkt_test(test_epipe_with_sigpipe_blocked),
      fdkt_test(test_write_to_file_refusing_nosignal),
      fdkt_test(test_sync_read_retries_eintr),
      fdkt_test(test_many_waiters_one_descriptor),
      fdkt_test(test_completed_reads_reported_again),
      fdkt_test(test_write_all_ordered),
      fdkt_test(test_write_all_cancel),
      fdkt_test(test_write_all_close),
      fdkt_test(test_write_all_regular_file),
      fdkt_test(test_first_read_asks_neither_kind_nor_mode),
      fdkt_test(test_read_where_preadv2_is_unknown),
      fdkt_test(test_file_adopted_unknown_reads),
      fdkt_test(test_registration_refused_among_others),
      fdkt_test(test_rerouted_read_cancelled),
      fdkt_test(test_rerouted_read_closed),
      fdkt_test(test_rearmed_reads_keep_the_operation),
      fdkt_test(test_rearmed_read_cancelled),
      fdkt_test(test_rearmed_read_handle_closed),
      fdkt_test(test_rearm_on_another_loop),
      fdkt_test(test_rearm_after_cancel_from_another_thread),
      fdkt_test(test_rearm_after_close_from_another_thread),
      fdkt_test(test_read_of_another_handle_from_callback),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
