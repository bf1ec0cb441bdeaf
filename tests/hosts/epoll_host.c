/* SPDX-License-Identifier: MIT */
/* A plain C epoll host that owns descriptors of its own (a ticking timerfd and a pipe it
 * writes to from its tick) and embeds an fdkit loop by the documented rule:
 * - the backend descriptor sits in the host's epoll set, level-triggered;
 * - the host waits at most fdk_loop_backend_timeout() milliseconds;
 * - when the backend descriptor is readable or that time is up, it runs fdkit with
 *   FDK_RUN_NOWAIT, and asks for the timeout again before its next wait. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "host_checks.h"

typedef struct {
  fdk_loop *loop;
  int ep, backend, tick, pipe_r, pipe_w;
  long ticks, pipe_bytes;  /* the host's own work, to show it goes on */
} epoll_host;

static void add(int ep, int fd) {
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
    perror("epoll_ctl");
    exit(1);
  }
}

static void run_until(void *data, const int *flag, int timeout_ms) {
  epoll_host *h = data;
  int64_t deadline = fdk_now_ns() + (int64_t)timeout_ms * 1000000;
  int timeout = fdk_loop_backend_timeout(h->loop);
  while (!*flag) {
    if (fdk_now_ns() > deadline) {
      fprintf(stderr, "epoll host: nothing happened within %d ms\n", timeout_ms);
      exit(1);
    }
    struct epoll_event ev[8];
    int n = epoll_wait(h->ep, ev, 8, timeout);
    int run = n == 0;
    for (int i = 0; i < n; i++) {
      int fd = ev[i].data.fd;
      if (fd == h->backend) {
        run = 1;
      } else if (fd == h->tick) {
        uint64_t count;
        if (read(h->tick, &count, sizeof count) == sizeof count) h->ticks += (long)count;
        if (write(h->pipe_w, "t", 1) != 1) exit(1);
      } else if (fd == h->pipe_r) {
        char buf[64];
        ssize_t got = read(h->pipe_r, buf, sizeof buf);
        if (got > 0) h->pipe_bytes += got;
      }
    }
    if (run) host_must(fdk_loop_run(h->loop, FDK_RUN_NOWAIT), "loop_run");
    /* After a run, or after the host's own events (the time left keeps counting down). */
    timeout = fdk_loop_backend_timeout(h->loop);
  }
}

int main(int argc, char **argv) {
  epoll_host h = {0};
  host_must(fdk_loop_new(&h.loop), "loop_new");
  h.ep = epoll_create1(EPOLL_CLOEXEC);
  h.backend = fdk_loop_backend_fd(h.loop);
  add(h.ep, h.backend);
  h.tick = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  struct itimerspec every_50ms = {{0, 50000000}, {0, 50000000}};
  timerfd_settime(h.tick, 0, &every_50ms, NULL);
  add(h.ep, h.tick);
  int p[2];
  if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) return 1;
  h.pipe_r = p[0];
  h.pipe_w = p[1];
  add(h.ep, h.pipe_r);
  int failed = host_checks("epoll-host", h.loop, run_until, &h, 0.8, argc > 1 && !strcmp(argv[1], "--figures-only"));
  if (h.ticks == 0 || h.pipe_bytes == 0) {
    fprintf(stderr, "epoll host: its own descriptors were starved\n");
    failed = 1;
  }
  host_must(fdk_loop_free(h.loop), "loop_free");
  close(h.ep);
  close(h.tick);
  close(p[0]);
  close(p[1]);
  return failed;
}
