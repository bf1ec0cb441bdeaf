/* SPDX-License-Identifier: MIT */
/* Every public operation is a trace span: each case runs one operation (sync or async,
 * succeeding or failing) under a process-wide hook and checks that a span of the right
 * name ended with the right result, and that every begin has its end. The last case
 * reads the library's export list: each symbol is either exercised here or listed as
 * deliberately untraced (constructors of plain data, accessors, loop control), so a new
 * export without that decision fails. */
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "testutil.h"

enum { MAX_EVENTS = 4096, MAX_SYMBOLS = 320 };

typedef struct {
  int phase;
  uint64_t id;
  int64_t result;
  char name[32];
  char detail[96];
} event;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static event g_events[MAX_EVENTS];
static int g_count;

static const char *g_exercised[MAX_SYMBOLS];
static int g_nexercised;

static void record(const fdk_trace_event *e, void *data) {
  (void)data;
  pthread_mutex_lock(&g_mu);
  if (g_count < MAX_EVENTS) {
    event *r = &g_events[g_count++];
    r->phase = e->phase;
    r->id = e->span_id;
    r->result = e->result;
    snprintf(r->name, sizeof r->name, "%s", e->name);
    snprintf(r->detail, sizeof r->detail, "%s", e->detail ? e->detail : "");
  }
  pthread_mutex_unlock(&g_mu);
}

static void forget(void) {
  pthread_mutex_lock(&g_mu);
  g_count = 0;
  pthread_mutex_unlock(&g_mu);
}

static void exercised(const char *symbol) {
  for (int i = 0; i < g_nexercised; i++)
    if (!strcmp(g_exercised[i], symbol)) return;
  assert_true(g_nexercised < MAX_SYMBOLS);
  g_exercised[g_nexercised++] = symbol;
}

/* Checks the events since the last forget(): a span named name ended with result, and
 * every span that began also ended. Returns that span's end detail. */
static const char *check_span(const char *symbol, const char *name, int64_t result) {
  static char detail[96];
  exercised(symbol);
  pthread_mutex_lock(&g_mu);
  int found = 0;
  for (int i = 0; i < g_count; i++) {
    int ends = 0;
    for (int j = 0; j < g_count; j++) ends += g_events[j].id == g_events[i].id && g_events[j].phase != g_events[i].phase;
    if (ends != 1) {
      pthread_mutex_unlock(&g_mu);
      fail_msg("%s: span %s (%s) is not matched", symbol, g_events[i].name,
               g_events[i].phase == FDK_TRACE_BEGIN ? "begin" : "end");
    }
    if (g_events[i].phase == FDK_TRACE_END && !strcmp(g_events[i].name, name) && g_events[i].result == result) {
      found = 1;
      snprintf(detail, sizeof detail, "%s", g_events[i].detail);
    }
  }
  if (!found) {
    char seen[1024] = "";
    for (int i = 0; i < g_count; i++)
      if (g_events[i].phase == FDK_TRACE_END)
        snprintf(seen + strlen(seen), sizeof seen - strlen(seen), " %s=%lld", g_events[i].name,
                 (long long)g_events[i].result);
    pthread_mutex_unlock(&g_mu);
    fail_msg("%s: no span %s ending with %lld; ends seen:%s", symbol, name, (long long)result, seen);
  }
  pthread_mutex_unlock(&g_mu);
  return detail;
}

/* One synchronous call: its result must be want, and so must its span's. */
#define SYNC(symbol, name, call, want)                  \
  do {                                                  \
    forget();                                           \
    int64_t got_ = (int64_t)(call);                     \
    assert_int_equal(got_, (int64_t)(want));            \
    check_span(symbol, name, (int64_t)(want));          \
  } while (0)

static fdk_loop *g_loop;
static fdkt_result g_res;

/* One asynchronous call on g_loop with an fdk_result_cb (fdkt_record on g_res). */
#define ASYNC(symbol, name, call, want)                 \
  do {                                                  \
    forget();                                           \
    memset(&g_res, 0, sizeof g_res);                    \
    assert_int_equal((call), 0);                        \
    fdkt_run_until(g_loop, &g_res.calls, 5000);         \
    assert_int_equal(g_res.result, (int64_t)(want));    \
    check_span(symbol, name, (int64_t)(want));          \
  } while (0)

static int setup(void **state) {
  assert_int_equal(fdkt_setup(state), 0);
  assert_int_equal(fdk_loop_new(&g_loop), 0);
  forget();
  assert_int_equal(fdk_trace_set(NULL, record, NULL), 0);
  return 0;
}

static int teardown(void **state) {
  assert_int_equal(fdk_trace_set(NULL, NULL, NULL), 0);
  assert_int_equal(fdk_loop_free(g_loop), 0);
  return fdkt_teardown(state);
}

#define traced_test(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static fdk_fd *temp_file(void) {
  char path[] = "/tmp/fdkit-trace-XXXXXX";
  int raw = mkostemp(path, O_CLOEXEC);
  assert_true(raw >= 0);
  unlink(path);
  fdk_fd *fd;
  assert_int_equal(fdk_fd_adopt(&fd, raw, 0), 0);
  return fd;
}

static void test_io(void **state) {
  (void)state;
  fdk_fd *r, *w;
  SYNC("fdk_pipe", "pipe", fdk_pipe(&r, &w), 0);
  char buf[8];
  struct iovec iov = {buf, sizeof buf};
  SYNC("fdk_write", "write", fdk_write(w, "abc", 3), 3);
  SYNC("fdk_read", "read", fdk_read(r, buf, sizeof buf), 3);
  struct iovec out = {"de", 2};
  SYNC("fdk_writev", "writev", fdk_writev(w, &out, 1), 2);
  SYNC("fdk_readv", "readv", fdk_readv(r, &iov, 1), 2);
  ASYNC("fdk_write_async", "write", fdk_write_async(g_loop, w, "xyz", 3, fdkt_record, &g_res, NULL), 3);
  ASYNC("fdk_read_async", "read", fdk_read_async(g_loop, r, buf, sizeof buf, fdkt_record, &g_res, NULL), 3);
  ASYNC("fdk_writev_async", "writev", fdk_writev_async(g_loop, w, &out, 1, fdkt_record, &g_res, NULL), 2);
  ASYNC("fdk_readv_async", "readv", fdk_readv_async(g_loop, r, &iov, 1, fdkt_record, &g_res, NULL), 2);
  /* Ordered writes: one span per write, named write_all for both forms. */
  ASYNC("fdk_write_all_async", "write_all", fdk_write_all_async(g_loop, w, "xyz", 3, fdkt_record, &g_res, NULL), 3);
  ASYNC("fdk_writev_all_async", "write_all", fdk_writev_all_async(g_loop, w, &out, 1, fdkt_record, &g_res, NULL), 2);
  ASYNC("fdk_read_async", "read", fdk_read_async(g_loop, r, buf, sizeof buf, fdkt_record, &g_res, NULL), 5);
  /* Failures: a pipe cannot seek. */
  SYNC("fdk_lseek", "lseek", fdk_lseek(r, 0, FDK_SEEK_SET), -ESPIPE);
  SYNC("fdk_fsync", "fsync", fdk_fsync(r, 0), -EINVAL);
  SYNC("fdk_fd_close", "close", fdk_fd_close(w), 0);
  SYNC("fdk_write", "write", fdk_write(w, "a", 1), -EBADF);
  fdk_fd_unref(w);
  fdk_fd_unref(r);

  fdk_fd *f = temp_file();
  SYNC("fdk_pwritev", "pwritev", fdk_pwritev(f, &out, 1, 4), 2);
  SYNC("fdk_preadv", "preadv", fdk_preadv(f, &iov, 1, 4), 2);
  SYNC("fdk_lseek", "lseek", fdk_lseek(f, 0, FDK_SEEK_END), 6);
  SYNC("fdk_fsync", "fsync", fdk_fsync(f, 0), 0);
  SYNC("fdk_ftruncate", "ftruncate", fdk_ftruncate(f, 1), 0);
  ASYNC("fdk_pwritev_async", "pwritev", fdk_pwritev_async(g_loop, f, &out, 1, 0, fdkt_record, &g_res, NULL), 2);
  ASYNC("fdk_preadv_async", "preadv", fdk_preadv_async(g_loop, f, &iov, 1, 0, fdkt_record, &g_res, NULL), 2);
  ASYNC("fdk_lseek_async", "lseek", fdk_lseek_async(g_loop, f, 0, FDK_SEEK_END, fdkt_record, &g_res, NULL), 2);
  ASYNC("fdk_fsync_async", "fsync", fdk_fsync_async(g_loop, f, 0, fdkt_record, &g_res, NULL), 0);
  ASYNC("fdk_ftruncate_async", "ftruncate", fdk_ftruncate_async(g_loop, f, 0, fdkt_record, &g_res, NULL), 0);
  fdk_fd_unref(f);

  SYNC("fdk_getrandom", "getrandom", fdk_getrandom(buf, 4, 0), 4);
  ASYNC("fdk_getrandom_async", "getrandom", fdk_getrandom_async(g_loop, buf, 4, 0, fdkt_record, &g_res, NULL), 4);
  ASYNC("fdk_sleep_until", "sleep_until", fdk_sleep_until(g_loop, fdk_now_ns(), fdkt_record, &g_res, NULL), 0);
}

typedef struct {
  int calls, result;
  void *out;
} produced;

static void on_open(int result, fdk_fd *fd, void *data) {
  produced *p = data;
  p->calls++;
  p->result = result;
  p->out = fd;
}
static void on_dir(int result, fdk_dir *dir, void *data) {
  produced *p = data;
  p->calls++;
  p->result = result;
  p->out = dir;
}
static void on_text(ssize_t result, char *text, void *data) {
  produced *p = data;
  p->calls++;
  p->result = (int)result;
  p->out = text;
}
static void on_dirents(int result, fdk_dirents *entries, void *data) {
  produced *p = data;
  p->calls++;
  p->result = result;
  p->out = entries;
}

/* An async call whose callback produces something (on_open, on_dir...). */
#define PRODUCE(symbol, name, call, want)               \
  do {                                                  \
    forget();                                           \
    memset(&got, 0, sizeof got);                        \
    assert_int_equal((call), 0);                        \
    fdkt_run_until(g_loop, &got.calls, 5000);           \
    assert_int_equal(got.result, (want));               \
    check_span(symbol, name, (want));                   \
  } while (0)

static void test_fs(void **state) {
  (void)state;
  char top[] = "/tmp/fdkit-trace-fs-XXXXXX";
  assert_non_null(mkdtemp(top));
  fdk_dir *d;
  SYNC("fdk_dir_open", "dir_open", fdk_dir_open(&d, fdk_dir_fs(), top), 0);
  fdk_fd *f;
  /* Calls that make a descriptor end their span with its number. */
  forget();
  assert_int_equal(fdk_openat(&f, d, "f", FDK_O_WRONLY | FDK_O_CREAT, 0644), 0);
  check_span("fdk_openat", "openat", fdk_fd_raw(f));
  fdk_fd_unref(f);
  forget();
  SYNC("fdk_openat", "openat", fdk_openat(&f, d, "../escape", FDK_O_RDONLY, 0), -EXDEV);
  /* The resolve span inside an openat says which backend ran, and its retries. */
  forget();
  assert_int_equal(fdk_openat(&f, d, "./f", FDK_O_RDONLY, 0), 0);
  if (fdk_resolve_backend() == FDK_RESOLVE_OPENAT2)
    assert_string_equal(check_span("fdk_openat", "resolve", fdk_fd_raw(f)), "backend=openat2 retries=0");
  fdk_fd_unref(f);
  assert_int_equal(fdk_resolve_set_backend(FDK_RESOLVE_FALLBACK), 0);
  forget();
  assert_int_equal(fdk_openat(&f, d, "./f", FDK_O_RDONLY, 0), 0);
  assert_string_equal(check_span("fdk_openat", "resolve", fdk_fd_raw(f)), "backend=walk");
  fdk_fd_unref(f);
  assert_int_equal(fdk_resolve_set_backend(FDK_RESOLVE_AUTO), 0);
  SYNC("fdk_mkdirat", "mkdirat", fdk_mkdirat(d, "sub", 0755), 0);
  SYNC("fdk_mkdirat", "mkdirat", fdk_mkdirat(d, "sub", 0755), -EEXIST);
  SYNC("fdk_symlinkat", "symlinkat", fdk_symlinkat("f", d, "link"), 0);
  char *text;
  SYNC("fdk_readlinkat", "readlinkat", fdk_readlinkat(&text, d, "link"), 1);
  fdk_free(text);
  SYNC("fdk_linkat", "linkat", fdk_linkat(d, "f", d, "hard"), 0);
  SYNC("fdk_renameat", "renameat", fdk_renameat(d, "hard", d, "hard2"), 0);
  SYNC("fdk_renameat2", "renameat", fdk_renameat2(d, "hard2", d, "f", FDK_RENAME_NOREPLACE), -EEXIST);
  SYNC("fdk_chmodat", "chmodat", fdk_chmodat(d, "f", 0600, 0), 0);
  SYNC("fdk_chownat", "chownat", fdk_chownat(d, "f", -1, -1, 0), 0);
  SYNC("fdk_utimensat", "utimensat", fdk_utimensat(d, "f", 0, FDK_UTIME_NOW, 0, FDK_UTIME_OMIT, 0), 0);
  fdk_stat *st;
  assert_int_equal(fdk_stat_new(&st), 0);
  SYNC("fdk_statat", "statat", fdk_statat(st, d, "missing", 0), -ENOENT);
  SYNC("fdk_fstat", "fstat", fdk_fstat(st, fdk_dir_handle(d)), 0);
  fdk_dirents *ents;
  SYNC("fdk_readdir", "readdir", fdk_readdir(&ents, d, ""), 4);
  fdk_dirents_free(ents);
  fdk_dir_iter *it;
  SYNC("fdk_dir_iter_open", "dir_iter_open", fdk_dir_iter_open(&it, d, "sub"), 0);
  fdk_dir_iter_free(it);
  forget();
  ssize_t n = fdk_realpath(&text, d, "sub");
  assert_true(n > 0);
  check_span("fdk_realpath", "realpath", n);
  fdk_free(text);
  fdk_dir *sub;
  fdk_fd *subfd;
  assert_int_equal(fdk_openat(&subfd, d, "sub", FDK_O_DIRECTORY | FDK_O_RDONLY, 0), 0);
  SYNC("fdk_dir_from_fd", "dir_from_fd", fdk_dir_from_fd(&sub, subfd), 0);
  fdk_dir_unref(sub);
  fdk_fd_unref(subfd);
  SYNC("fdk_unlinkat", "unlinkat", fdk_unlinkat(d, "hard2"), 0);
  SYNC("fdk_rmdirat", "rmdirat", fdk_rmdirat(d, "nothere"), -ENOENT);

  produced got;
  PRODUCE("fdk_dir_open_async", "dir_open", fdk_dir_open_async(g_loop, d, "sub", on_dir, &got, NULL), 0);
  fdk_dir_unref(got.out);
  forget();
  memset(&got, 0, sizeof got);
  assert_int_equal(fdk_openat_async(g_loop, d, "f", FDK_O_RDONLY, 0, on_open, &got, NULL), 0);
  fdkt_run_until(g_loop, &got.calls, 5000);
  assert_int_equal(got.result, 0);
  check_span("fdk_openat_async", "openat", fdk_fd_raw(got.out));
  fdk_fd_unref(got.out);
  PRODUCE("fdk_readlinkat_async", "readlinkat", fdk_readlinkat_async(g_loop, d, "link", on_text, &got, NULL), 1);
  fdk_free(got.out);
  PRODUCE("fdk_realpath_async", "realpath", fdk_realpath_async(g_loop, d, "nothere", on_text, &got, NULL), -ENOENT);
  PRODUCE("fdk_readdir_async", "readdir", fdk_readdir_async(g_loop, d, "sub", on_dirents, &got, NULL), 0);
  fdk_dirents_free(got.out);
  ASYNC("fdk_mkdirat_async", "mkdirat", fdk_mkdirat_async(g_loop, d, "a", 0755, fdkt_record, &g_res, NULL), 0);
  ASYNC("fdk_symlinkat_async", "symlinkat", fdk_symlinkat_async(g_loop, "a", d, "al", fdkt_record, &g_res, NULL), 0);
  ASYNC("fdk_linkat_async", "linkat", fdk_linkat_async(g_loop, d, "f", d, "h", fdkt_record, &g_res, NULL), 0);
  ASYNC("fdk_renameat_async", "renameat", fdk_renameat_async(g_loop, d, "h", d, "h2", fdkt_record, &g_res, NULL), 0);
  ASYNC("fdk_renameat2_async", "renameat",
        fdk_renameat2_async(g_loop, d, "h2", d, "f", FDK_RENAME_NOREPLACE, fdkt_record, &g_res, NULL), -EEXIST);
  ASYNC("fdk_chmodat_async", "chmodat", fdk_chmodat_async(g_loop, d, "f", 0644, 0, fdkt_record, &g_res, NULL), 0);
  ASYNC("fdk_chownat_async", "chownat", fdk_chownat_async(g_loop, d, "f", -1, -1, 0, fdkt_record, &g_res, NULL), 0);
  ASYNC("fdk_utimensat_async", "utimensat",
        fdk_utimensat_async(g_loop, d, "f", 0, FDK_UTIME_OMIT, 0, FDK_UTIME_OMIT, 0, fdkt_record, &g_res, NULL), 0);
  ASYNC("fdk_statat_async", "statat", fdk_statat_async(g_loop, st, d, "f", 1, fdkt_record, &g_res, NULL), 0);
  ASYNC("fdk_fstat_async", "fstat", fdk_fstat_async(g_loop, st, fdk_dir_handle(d), fdkt_record, &g_res, NULL), 0);
  ASYNC("fdk_unlinkat_async", "unlinkat", fdk_unlinkat_async(g_loop, d, "h2", fdkt_record, &g_res, NULL), 0);
  ASYNC("fdk_rmdirat_async", "rmdirat", fdk_rmdirat_async(g_loop, d, "a", fdkt_record, &g_res, NULL), 0);
  /* Scoped dirs, tmpfiles, special files, truncate, access and extended attributes. */
  fdk_dir *scoped;
  SYNC("fdk_dir_open2", "dir_open", fdk_dir_open2(&scoped, d, "sub", FDK_DIR_IN_ROOT), 0);
  fdk_dir_unref(scoped);
  PRODUCE("fdk_dir_open2_async", "dir_open",
          fdk_dir_open2_async(g_loop, d, "link", FDK_DIR_NOFOLLOW, on_dir, &got, NULL), -ENOTDIR);
  SYNC("fdk_linkat2", "linkat", fdk_linkat2(d, "link", d, "hard_f", FDK_FOLLOW), 0);
  ASYNC("fdk_linkat2_async", "linkat",
        fdk_linkat2_async(g_loop, d, "link", d, "hard_f", FDK_FOLLOW, fdkt_record, &g_res, NULL), -EEXIST);
  fdk_fd *tmp;
  assert_int_equal(fdk_openat(&tmp, d, "sub", FDK_O_TMPFILE | FDK_O_WRONLY, 0600), 0);
  SYNC("fdk_linkat_fd", "linkat_fd", fdk_linkat_fd(tmp, d, "sub/t1"), 0);
  ASYNC("fdk_linkat_fd_async", "linkat_fd", fdk_linkat_fd_async(g_loop, tmp, d, "sub/t2", fdkt_record, &g_res, NULL),
        0);
  fdk_fd_unref(tmp);
  SYNC("fdk_mknodat", "mknodat", fdk_mknodat(d, "node", FDK_KIND_REGULAR, 0600, 0), 0);
  ASYNC("fdk_mknodat_async", "mknodat",
        fdk_mknodat_async(g_loop, d, "node", FDK_KIND_FIFO, 0600, 0, fdkt_record, &g_res, NULL), -EEXIST);
  SYNC("fdk_mkfifoat", "mknodat", fdk_mkfifoat(d, "fifo", 0600), 0);
  ASYNC("fdk_mkfifoat_async", "mknodat", fdk_mkfifoat_async(g_loop, d, "fifo2", 0600, fdkt_record, &g_res, NULL), 0);
  SYNC("fdk_truncateat", "truncateat", fdk_truncateat(d, "f", 3), 0);
  ASYNC("fdk_truncateat_async", "truncateat", fdk_truncateat_async(g_loop, d, "fifo", 3, fdkt_record, &g_res, NULL),
        -EINVAL);
  SYNC("fdk_faccessat", "faccessat", fdk_faccessat(d, "f", FDK_ACCESS_READ, 0), 0);
  ASYNC("fdk_faccessat_async", "faccessat",
        fdk_faccessat_async(g_loop, d, "missing", FDK_ACCESS_EXISTS, 0, fdkt_record, &g_res, NULL), -ENOENT);
  SYNC("fdk_setxattrat", "setxattrat", fdk_setxattrat(d, "f", "user.t", "v", 1, 0), 0);
  ASYNC("fdk_setxattrat_async", "setxattrat",
        fdk_setxattrat_async(g_loop, d, "f", "user.u", "uv", 2, FDK_XATTR_CREATE, fdkt_record, &g_res, NULL), 0);
  SYNC("fdk_getxattrat", "getxattrat", fdk_getxattrat(&text, d, "f", "user.t", 0), 1);
  fdk_free(text);
  PRODUCE("fdk_getxattrat_async", "getxattrat",
          fdk_getxattrat_async(g_loop, d, "link", "user.u", FDK_FOLLOW, on_text, &got, NULL), 2);
  fdk_free(got.out);
  SYNC("fdk_listxattrat", "listxattrat", fdk_listxattrat(&text, d, "f", 0), 14);
  fdk_free(text);
  PRODUCE("fdk_listxattrat_async", "listxattrat", fdk_listxattrat_async(g_loop, d, "f", 0, on_text, &got, NULL), 14);
  fdk_free(got.out);
  SYNC("fdk_removexattrat", "removexattrat", fdk_removexattrat(d, "f", "user.t", 0), 0);
  ASYNC("fdk_removexattrat_async", "removexattrat",
        fdk_removexattrat_async(g_loop, d, "f", "user.t", 0, fdkt_record, &g_res, NULL), -ENODATA);
  const char *made[] = {"hard_f", "sub/t1", "sub/t2", "node", "fifo", "fifo2", NULL};
  for (int i = 0; made[i]; i++) assert_int_equal(fdk_unlinkat(d, made[i]), 0);
  fdk_stat_free(st);
  const char *names[] = {"f", "link", "al", "sub", NULL};
  for (int i = 0; names[i]; i++) fdk_unlinkat(d, names[i]);
  fdk_rmdirat(d, "sub");
  fdk_dir_unref(d);
  assert_int_equal(rmdir(top), 0);
}

static void on_accept(int result, fdk_fd *conn, void *data) {
  produced *p = data;
  p->calls++;
  p->result = result;
  p->out = conn;
}
static void on_addrinfo(int result, fdk_addrinfo *res, void *data) {
  produced *p = data;
  p->calls++;
  p->result = result;
  p->out = res;
}

static void test_net(void **state) {
  (void)state;
  fdk_fd *l, *c, *s;
  SYNC("fdk_socket", "socket", fdk_socket(&l, AF_INET, SOCK_STREAM, 0), 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  SYNC("fdk_bind", "bind", fdk_bind(l, (struct sockaddr *)&a, sizeof a), 0);
  SYNC("fdk_listen", "listen", fdk_listen(l, 8), 0);
  SYNC("fdk_getsockname", "getsockname", fdk_getsockname(l, (struct sockaddr *)&a, &len), 0);
  SYNC("fdk_setsockopt_int", "setsockopt", fdk_setsockopt_int(l, SOL_SOCKET, SO_REUSEADDR, 1), 0);
  int v;
  SYNC("fdk_getsockopt_int", "getsockopt", fdk_getsockopt_int(l, SOL_SOCKET, 12345, &v), -ENOPROTOOPT);
  SYNC("fdk_socket", "socket", fdk_socket(&c, AF_INET, SOCK_STREAM, 0), 0);
  SYNC("fdk_connect", "connect", fdk_connect(c, (struct sockaddr *)&a, sizeof a), 0);
  forget();
  assert_int_equal(fdk_accept(&s, l, NULL, NULL), 0);
  check_span("fdk_accept", "accept", fdk_fd_raw(s));
  struct sockaddr_in peer;
  socklen_t peer_len = sizeof peer;
  SYNC("fdk_getpeername", "getpeername", fdk_getpeername(s, (struct sockaddr *)&peer, &peer_len), 0);
  struct iovec out = {"ping", 4};
  char buf[8];
  struct iovec in = {buf, sizeof buf};
  SYNC("fdk_send_msg", "send_msg", fdk_send_msg(c, &out, 1, NULL, 0, NULL, 0), 4);
  SYNC("fdk_recv_msg", "recv_msg", fdk_recv_msg(s, &in, 1, NULL, NULL, NULL, NULL, NULL), 4);
  ASYNC("fdk_send_msg_async", "send_msg",
        fdk_send_msg_async(g_loop, c, &out, 1, NULL, 0, NULL, 0, fdkt_record, &g_res, NULL), 4);
  ASYNC("fdk_recv_msg_async", "recv_msg",
        fdk_recv_msg_async(g_loop, s, &in, 1, NULL, NULL, NULL, NULL, NULL, fdkt_record, &g_res, NULL), 4);
  SYNC("fdk_shutdown", "shutdown", fdk_shutdown(c, FDK_SHUT_WR), 0);
  ASYNC("fdk_shutdown_async", "shutdown", fdk_shutdown_async(g_loop, s, FDK_SHUT_WR, fdkt_record, &g_res, NULL), 0);
  fdk_fd_unref(s);
  fdk_fd_unref(c);
  /* The async forms, and a refused connect. */
  assert_int_equal(fdk_socket(&c, AF_INET, SOCK_STREAM, 0), 0);
  ASYNC("fdk_connect_async", "connect",
        fdk_connect_async(g_loop, c, (struct sockaddr *)&a, sizeof a, fdkt_record, &g_res, NULL), 0);
  produced got;
  forget();
  memset(&got, 0, sizeof got);
  assert_int_equal(fdk_accept_async(g_loop, l, NULL, NULL, on_accept, &got, NULL), 0);
  fdkt_run_until(g_loop, &got.calls, 5000);
  assert_int_equal(got.result, 0);
  check_span("fdk_accept_async", "accept", fdk_fd_raw(got.out));
  fdk_fd_unref(got.out);
  fdk_fd_unref(c);
  fdk_fd_unref(l);
  assert_int_equal(fdk_socket(&c, AF_INET, SOCK_STREAM, 0), 0);
  SYNC("fdk_connect", "connect", fdk_connect(c, (struct sockaddr *)&a, sizeof a), -ECONNREFUSED);
  fdk_fd_unref(c);
  fdk_fd *p1, *p2;
  SYNC("fdk_socketpair", "socketpair", fdk_socketpair(&p1, &p2, AF_UNIX, SOCK_STREAM, 0), 0);
  fdk_fd_unref(p1);
  fdk_fd_unref(p2);
  fdk_addrinfo *ai;
  SYNC("fdk_getaddrinfo", "getaddrinfo", fdk_getaddrinfo(&ai, "127.0.0.1", "80", AF_INET, SOCK_STREAM, 0,
                                                         FDK_AI_NUMERICHOST | FDK_AI_NUMERICSERV), 0);
  fdk_addrinfo_free(ai);
  PRODUCE("fdk_getaddrinfo_async", "getaddrinfo",
          fdk_getaddrinfo_async(g_loop, "not an address", NULL, AF_INET, 0, 0, FDK_AI_NUMERICHOST, on_addrinfo, &got,
                                NULL),
          -ENOENT);
}

static void on_exit_cb(fdk_process *p, int result, void *data) {
  (void)p;
  produced *got = data;
  got->calls++;
  got->result = result;
}

static void on_run(int result, fdk_run_result *res, void *data) {
  produced *got = data;
  got->calls++;
  got->result = result;
  got->out = res;
}

static void test_process_and_run(void **state) {
  (void)state;
  fdk_actions *a;
  assert_int_equal(fdk_actions_new(&a), 0);
  const char *argv[] = {"sleep", "5", NULL};
  assert_int_equal(fdk_actions_execvp(a, "sleep", argv, NULL), 0);
  produced got = {0};
  fdk_process *p;
  fdk_exit_status st;
  /* Spawn to exit callback is one span ("exit"): the calls in between are checked with it. */
  forget();
  assert_int_equal(fdk_spawn(&p, g_loop, a, 0, on_exit_cb, &got), 0);
  assert_int_equal(fdk_process_try_wait(p, &st), 0);
  assert_int_equal(fdk_process_signal(p, SIGTERM), 0);
  fdkt_run_until(g_loop, &got.calls, 5000);
  check_span("fdk_spawn", "spawn", fdk_process_pid(p));
  check_span("fdk_process_try_wait", "try_wait", 0);
  check_span("fdk_process_signal", "signal", 0);
  check_span("fdk_spawn", "exit", 0);
  SYNC("fdk_process_wait", "wait", fdk_process_wait(p, &st), 0);
  SYNC("fdk_process_signal_group", "signal_group", fdk_process_signal_group(p, SIGTERM), -ESRCH);
  fdk_process_free(p);
  fdk_actions_free(a);
  /* A failing action: the spawn span ends with its error and names the action. */
  assert_int_equal(fdk_actions_new(&a), 0);
  assert_int_equal(fdk_actions_chdir(a, "/nonexistent-dir"), 0);
  assert_int_equal(fdk_actions_execvp(a, "true", (const char *[]){"true", NULL}, NULL), 0);
  forget();
  assert_int_equal(fdk_spawn(&p, NULL, a, 0, NULL, NULL), -ENOENT);
  assert_non_null(strstr(check_span("fdk_spawn", "spawn", -ENOENT), "chdir"));
  fdk_actions_free(a);

  fdk_run_opts *opts;
  const char *echo[] = {"echo", "hi", NULL};
  assert_int_equal(fdk_run_opts_new(&opts, echo), 0);
  assert_int_equal(fdk_run_opts_set_stdout(opts, FDK_RUN_CAPTURE), 0);
  fdk_run_result *res;
  SYNC("fdk_run", "run", fdk_run(&res, opts), 0);
  fdk_run_result_free(res);
  memset(&got, 0, sizeof got);
  PRODUCE("fdk_run_async", "run", fdk_run_async(g_loop, opts, on_run, &got, NULL), 0);
  fdk_run_result_free(got.out);
  fdk_run_opts_free(opts);
}

/* Exports that are not operations: plain-data constructors and accessors, loop control,
 * handle bookkeeping, configuration. */
static const char *const untraced[] = {
    "fdk_version", "fdk_version_string", "fdk_strerror", "fdk_errname", "fdk_last_error", "fdk_last_error_is_escape", "fdk_free",
    "fdk_loop_new", "fdk_loop_new_from_uv", "fdk_loop_free", "fdk_loop_run", "fdk_loop_stop",
    "fdk_loop_backend_fd", "fdk_loop_backend_timeout", "fdk_loop_post", "fdk_loop_remote_new", "fdk_loop_remote_post",
    "fdk_loop_remote_ref", "fdk_loop_remote_unref", "fdk_loop_uv", "fdk_op_cancel",
    "fdk_fd_adopt", "fdk_fd_raw", "fdk_fd_use", "fdk_fd_unuse", "fdk_fd_ref",
    "fdk_fd_unref", /* its implicit close is a "close" span */
    "fdk_fd_release", "fdk_fd_is_blocking", "fdk_now_ns", "fdk_dir_fs", "fdk_dir_cwd", "fdk_dir_ref",
    "fdk_dir_unref", "fdk_dir_handle", "fdk_open_flags_supported", "fdk_resolve_backend", "fdk_resolve_set_backend",
    "fdk_stat_new", "fdk_stat_free", "fdk_stat_kind", "fdk_stat_size", "fdk_stat_blocks", "fdk_stat_blksize",
    "fdk_stat_ino", "fdk_stat_dev", "fdk_stat_rdev", "fdk_stat_nlink", "fdk_stat_uid", "fdk_stat_gid",
    "fdk_stat_perm", "fdk_stat_mode", "fdk_stat_atime", "fdk_stat_mtime", "fdk_stat_ctime", "fdk_stat_btime",
    "fdk_dirents_count", "fdk_dirents_name", "fdk_dirents_kind", "fdk_dirents_free",
    "fdk_dir_iter_next", /* reads entries in batches within the iterator's life */
    "fdk_dir_iter_free", "fdk_actions_new", "fdk_actions_free", "fdk_actions_execve", "fdk_actions_execvp",
    "fdk_actions_chdir", "fdk_actions_fchdir", "fdk_actions_inherit_fd", "fdk_actions_inherit_raw",
    "fdk_actions_setsid", "fdk_actions_login_tty", "fdk_actions_setpgid", "fdk_actions_setuid", "fdk_actions_setgid",
    "fdk_actions_setgroups", "fdk_actions_umask", "fdk_actions_rlimit", "fdk_actions_pdeathsig",
    "fdk_actions_no_new_privs", "fdk_actions_signal_default", "fdk_actions_signal_ignore",
    "fdk_actions_close_other_fds", "fdk_actions_user", "fdk_process_pid", "fdk_process_pidfd",
    "fdk_process_reap_detached", /* reaps only detached orphans, each reap without a caller to trace it for */
    "fdk_process_detach", "fdk_process_free", "fdk_run_opts_new", "fdk_run_opts_free", "fdk_run_opts_set_env",
    "fdk_run_opts_set_cwd", "fdk_run_opts_set_cwd_fd", "fdk_run_opts_set_cwd_dir", "fdk_run_opts_set_stdin_bytes",
    "fdk_run_opts_set_stdin_fd", "fdk_run_opts_set_stdout", "fdk_run_opts_set_stderr",
    "fdk_run_opts_set_max_output", "fdk_run_opts_set_timeout", "fdk_run_opts_set_cancel", "fdk_run_opts_set_group",
    "fdk_run_opts_set_fds", "fdk_run_opts_set_early_exit", "fdk_run_opts_set_backend", "fdk_run_result_free",
    "fdk_run_result_status", "fdk_run_result_rusage", "fdk_run_result_stdout", "fdk_run_result_stderr",
    "fdk_run_result_timed_out", "fdk_run_result_truncated", "fdk_run_result_early_exit", "fdk_run_result_pid",
    "fdk_run_result_duration_ns", "fdk_addrinfo_count", "fdk_addrinfo_entry", "fdk_addrinfo_canonname",
    "fdk_addrinfo_free", "fdk_trace_set", "fdk_run_opts_set_stop_signal", "fdk_run_opts_set_stop_at_max_output",
    "fdk_run_signal", "fdk_run_result_pipes_abandoned", "fdk_write_queue_size", NULL,
};

static int listed(const char *symbol) {
  for (int i = 0; untraced[i]; i++)
    if (!strcmp(untraced[i], symbol)) return 1;
  for (int i = 0; i < g_nexercised; i++)
    if (!strcmp(g_exercised[i], symbol)) return 1;
  return 0;
}

/* Runs after the cases above: every export of the version script is accounted for. */
static void test_every_export_decided(void **state) {
  (void)state;
  FILE *f = fopen(SYMBOL_FILE, "r");
  assert_non_null(f);
  char line[256];
  int symbols = 0;
  while (fgets(line, sizeof line, f)) {
    char name[128];
    if (sscanf(line, " %127[a-z0-9_];", name) != 1 || strncmp(name, "fdk_", 4)) continue;
    symbols++;
    if (!listed(name)) {
      fclose(f);
      fail_msg("%s is neither exercised by this suite nor listed as untraced", name);
    }
  }
  fclose(f);
  assert_true(symbols > 100);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      traced_test(test_io),
      traced_test(test_fs),
      traced_test(test_net),
      traced_test(test_process_and_run),
      fdkt_test(test_every_export_decided),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
