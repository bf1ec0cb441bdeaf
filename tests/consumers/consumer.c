/* SPDX-License-Identifier: MIT */
/* A small fdkit user, built outside the build tree the way users build theirs: reads a pipe
 * asynchronously on a loop, checks the deferred-close answer, and prints which libfdkit it
 * loaded so the test can tell an installed or subproject copy from the build tree's. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fdkit.h>
#include <stdio.h>
#include <string.h>

static char buf[16];
static int64_t got = -1;

static void on_read(int64_t result, void *data) {
  (void)data;
  got = result;
}

static int fail(const char *what, int64_t r) {
  fprintf(stderr, "%s: %lld (%s)\n", what, (long long)r, fdk_last_error());
  return 1;
}

int main(void) {
  Dl_info info;
  if (!dladdr(fdk_version_string(), &info) || !info.dli_fname) return fail("dladdr", 0);
  printf("library %s\n", info.dli_fname);
  if (fdk_version() != FDK_VERSION_NUMBER) return fail("version differs from the header's", fdk_version());

  fdk_loop *loop;
  fdk_fd *r, *w;
  int64_t rc;
  if ((rc = fdk_loop_new(&loop)) < 0) return fail("fdk_loop_new", rc);
  if ((rc = fdk_pipe(&r, &w)) < 0) return fail("fdk_pipe", rc);
  if ((rc = fdk_read_async(loop, r, buf, sizeof buf, on_read, NULL, NULL)) < 0) return fail("fdk_read_async", rc);
  if ((rc = fdk_write(w, "hello", 5)) != 5) return fail("fdk_write", rc);
  if ((rc = fdk_loop_run(loop, FDK_RUN_DEFAULT)) < 0) return fail("fdk_loop_run", rc);
  if (got != 5 || memcmp(buf, "hello", 5) != 0) return fail("async read", got);
  fdk_fd_close(r);
  if ((rc = fdk_read(r, buf, sizeof buf)) != -EBADF) return fail("read after close", rc);
  fdk_fd_unref(r);
  fdk_fd_unref(w);
  if ((rc = fdk_loop_free(loop)) < 0) return fail("fdk_loop_free", rc);
  printf("ok\n");
  return 0;
}
