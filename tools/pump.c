/* SPDX-License-Identifier: MIT */
/* fdkit pump: moves data through a pipe with async reads and writes on one loop while a
 * timer reports progress — the loop, fd handles and I/O in one small program. */
#include <stdlib.h>
#include <string.h>

#include <fdkit.h>

#include "commands.h"

typedef struct {
  fdk_loop *loop;
  fdk_fd *r, *w;
  unsigned char out[65536], in[65536];
  uint64_t total, written, read;
  uint32_t sum_out, sum_in; /* running checksums of what was sent and received */
  int64_t start_ns;
  int err;
  const char *failed_call;
  fdk_op *ticker;
} pump;

static uint32_t checksum(uint32_t sum, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) sum = sum * 31 + p[i];
  return sum;
}

static void fail(pump *p, const char *call, int64_t err) {
  if (!p->err) {
    p->err = (int)err;
    p->failed_call = call;
  }
  fdk_loop_stop(p->loop);
}

static void on_write(int64_t result, void *data);
static void on_read(int64_t result, void *data);

static void write_next(pump *p) {
  uint64_t left = p->total - p->written;
  size_t n = left < sizeof p->out ? (size_t)left : sizeof p->out;
  for (size_t i = 0; i < n; i++) p->out[i] = (unsigned char)((p->written + i) * 2654435761u >> 24);
  int r = fdk_write_async(p->loop, p->w, p->out, n, on_write, p, NULL);
  if (r < 0) fail(p, "write_async", r);
}

static void on_write(int64_t result, void *data) {
  pump *p = data;
  if (result < 0) return fail(p, "write", result);
  p->sum_out = checksum(p->sum_out, p->out, (size_t)result);
  p->written += (uint64_t)result;
  /* A short write leaves the rest of the buffer to regenerate from the new offset. */
  if (p->written < p->total) write_next(p);
  else fdk_fd_close(p->w);
}

static void read_next(pump *p) {
  int r = fdk_read_async(p->loop, p->r, p->in, sizeof p->in, on_read, p, NULL);
  if (r < 0) fail(p, "read_async", r);
}

static void on_read(int64_t result, void *data) {
  pump *p = data;
  if (result < 0) return fail(p, "read", result);
  if (result == 0) { /* the writer closed its end: all data is through */
    if (p->ticker) fdk_op_cancel(p->ticker);
    return;
  }
  p->sum_in = checksum(p->sum_in, p->in, (size_t)result);
  p->read += (uint64_t)result;
  read_next(p);
}

static void on_tick(int64_t result, void *data) {
  pump *p = data;
  p->ticker = NULL;
  if (result < 0) return;
  double secs = (double)(fdk_now_ns() - p->start_ns) / 1e9;
  fprintf(stderr, "  %6.1f MiB moved after %.2f s\n", (double)p->read / 1048576.0, secs);
  int r = fdk_sleep_until(p->loop, fdk_now_ns() + 100000000, on_tick, p, &p->ticker);
  if (r < 0) fail(p, "sleep_until", r);
}

/* The most --mib takes: 1 TiB, far more than a throughput figure needs. */
#define MAX_MIB (1 << 20)

int fdkit_cmd_pump(int argc, char **argv) {
  int64_t mib = 256;
  for (int i = 1; i < argc; i++) {
    const char *v;
    int r;
    if (!strcmp(argv[i], "--help")) {
      printf("usage: fdkit pump [--mib N] [--trace]\n\n"
             "Moves N MiB through a pipe with fdkit's async read and write on one loop, prints\n"
             "progress from a timer on the same loop, checks that every byte arrived intact and\n"
             "reports the throughput.\n\n"
             "  --mib N    how much to move: a whole number from 1 to %d (default 256)\n"
             "  --trace    print each fdkit operation to stderr\n"
             "  --help     print this help\n",
             MAX_MIB);
      return 0;
    }
    if (!strcmp(argv[i], "--trace")) {
      fdkit_trace_on();
    } else if ((r = fdkit_option("pump", argc, argv, &i, "--mib", &v))) {
      if (r < 0 || fdkit_parse_count("pump", "--mib", v, 0, 1, MAX_MIB, &mib) < 0) return FDKIT_EXIT_OWN_ERROR;
    } else {
      fprintf(stderr, "fdkit pump: unknown argument '%s' (see --help)\n", argv[i]);
      return FDKIT_EXIT_OWN_ERROR;
    }
  }
  pump *p = calloc(1, sizeof *p);
  if (!p) return fdkit_report("pump", "calloc", -ENOMEM);
  p->total = (uint64_t)mib << 20;
  int r = fdk_loop_new(&p->loop);
  if (r < 0) return fdkit_report("pump", "loop_new", r);
  r = fdk_pipe(&p->r, &p->w);
  if (r < 0) return fdkit_report("pump", "pipe", r);
  p->start_ns = fdk_now_ns();
  write_next(p);
  read_next(p);
  r = fdk_sleep_until(p->loop, p->start_ns + 100000000, on_tick, p, &p->ticker);
  if (r < 0) fail(p, "sleep_until", r);
  if (!p->err) fdk_loop_run(p->loop, FDK_RUN_DEFAULT);
  double secs = (double)(fdk_now_ns() - p->start_ns) / 1e9;
  int code = 0;
  if (p->err) {
    code = fdkit_report("pump", p->failed_call, p->err);
  } else if (p->read != p->total || p->sum_in != p->sum_out) {
    fprintf(stderr, "fdkit pump: received %llu of %llu bytes, checksum %s\n", (unsigned long long)p->read,
            (unsigned long long)p->total, p->sum_in == p->sum_out ? "matches" : "differs");
    code = 1;
  } else {
    printf("moved %lld MiB through a pipe in %.3f s (%.0f MiB/s), checksum ok\n", (long long)mib, secs,
           (double)mib / secs);
  }
  fdk_fd_unref(p->r);
  fdk_fd_unref(p->w);
  fdk_loop_free(p->loop);
  free(p);
  return code;
}
