/* SPDX-License-Identifier: MIT */
/* A GLib host embedding an fdkit loop, in the two usual styles:
 * - "fd-add": g_unix_fd_add watches the backend descriptor and a g_timeout_add timer is
 *   re-armed with fdk_loop_backend_timeout() after every run of fdkit;
 * - "source": one GSource whose prepare asks fdk_loop_backend_timeout(), whose check
 *   looks at the backend descriptor and the time, and whose dispatch runs fdkit.
 * Both run fdkit with FDK_RUN_NOWAIT. GLib polls level-triggered, as fdkit requires. A
 * 50 ms tick of the host's own shows its other sources keep running.
 * The source watching the backend descriptor may recurse: otherwise GLib removes its
 * descriptor before every dispatch and adds it back after, and each change wakes GLib's
 * own poll once more (two eventfd writes, a read and a poll per round trip). fdkit's
 * callbacks here never iterate the GLib context, which is what recursion would allow. */
#include <glib-unix.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_checks.h"

typedef struct {
  fdk_loop *loop;
  guint timer; /* fd-add style: the timeout source armed for fdkit, 0 when none */
  long ticks;
} glib_host;

/* fd-add style ------------------------------------------------------------------------ */

static gboolean fdkit_timer_due(gpointer data);

static void run_fdkit_and_rearm(glib_host *h) {
  host_must(fdk_loop_run(h->loop, FDK_RUN_NOWAIT), "loop_run");
  if (h->timer) g_source_remove(h->timer);
  h->timer = 0;
  int timeout = fdk_loop_backend_timeout(h->loop);
  if (timeout >= 0) h->timer = g_timeout_add((guint)timeout, fdkit_timer_due, h);
}

static gboolean fdkit_timer_due(gpointer data) {
  glib_host *h = data;
  h->timer = 0; /* this source ends when it returns */
  run_fdkit_and_rearm(h);
  return G_SOURCE_REMOVE;
}

static gboolean backend_readable(gint fd, GIOCondition condition, gpointer data) {
  (void)fd;
  (void)condition;
  run_fdkit_and_rearm(data);
  return G_SOURCE_CONTINUE;
}

/* source style ------------------------------------------------------------------------ */

typedef struct {
  GSource source;
  fdk_loop *loop;
  gpointer tag;  /* the backend descriptor's poll record */
  gint64 due_us; /* when fdkit's timeout expires, -1 for never */
} fdkit_source;

static gboolean source_prepare(GSource *source, gint *timeout) {
  fdkit_source *s = (fdkit_source *)source;
  *timeout = fdk_loop_backend_timeout(s->loop);
  s->due_us = *timeout < 0 ? -1 : g_get_monotonic_time() + (gint64)*timeout * 1000;
  return *timeout == 0;
}

static gboolean source_check(GSource *source) {
  fdkit_source *s = (fdkit_source *)source;
  if (g_source_query_unix_fd(source, s->tag) & G_IO_IN) return TRUE;
  return s->due_us >= 0 && g_get_monotonic_time() >= s->due_us;
}

static gboolean source_dispatch(GSource *source, GSourceFunc callback, gpointer data) {
  (void)callback;
  (void)data;
  host_must(fdk_loop_run(((fdkit_source *)source)->loop, FDK_RUN_NOWAIT), "loop_run");
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs fdkit_source_funcs = {source_prepare, source_check, source_dispatch, NULL, NULL, NULL};

/* ------------------------------------------------------------------------------------ */

static gboolean host_tick(gpointer data) {
  ((glib_host *)data)->ticks++;
  return G_SOURCE_CONTINUE;
}

static void run_until(void *data, const int *flag, int timeout_ms) {
  (void)data;
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  while (!*flag) {
    if (g_get_monotonic_time() > deadline) {
      fprintf(stderr, "glib host: nothing happened within %d ms\n", timeout_ms);
      exit(1);
    }
    g_main_context_iteration(NULL, TRUE);
  }
}

int main(int argc, char **argv) {
  const char *style = argc > 1 ? argv[1] : "fd-add";
  int figures_only = argc > 2 && !strcmp(argv[2], "--figures-only");
  glib_host h = {0};
  host_must(fdk_loop_new(&h.loop), "loop_new");
  int backend = fdk_loop_backend_fd(h.loop);
  guint tick = g_timeout_add(50, host_tick, &h);
  GSource *source = NULL;
  guint watch = 0;
  if (!strcmp(style, "source")) {
    source = g_source_new(&fdkit_source_funcs, sizeof(fdkit_source));
    fdkit_source *s = (fdkit_source *)source;
    s->loop = h.loop;
    s->tag = g_source_add_unix_fd(source, backend, G_IO_IN);
    g_source_set_can_recurse(source, TRUE);
    g_source_attach(source, NULL);
  } else {
    GSource *fd_source = g_unix_fd_source_new(backend, G_IO_IN);
    g_source_set_callback(fd_source, G_SOURCE_FUNC(backend_readable), &h, NULL);
    g_source_set_can_recurse(fd_source, TRUE);
    watch = g_source_attach(fd_source, NULL);
    g_source_unref(fd_source);
    run_fdkit_and_rearm(&h);
  }
  char name[32];
  snprintf(name, sizeof name, "glib-%s", style);
  int failed = host_checks(name, h.loop, run_until, &h, 0.8, figures_only);
  if (h.ticks == 0) {
    fprintf(stderr, "glib host: its own timeout source was starved\n");
    failed = 1;
  }
  if (source) {
    g_source_destroy(source);
    g_source_unref(source);
  } else {
    g_source_remove(watch);
    if (h.timer) g_source_remove(h.timer);
  }
  g_source_remove(tick);
  host_must(fdk_loop_free(h.loop), "loop_free");
  return failed;
}
