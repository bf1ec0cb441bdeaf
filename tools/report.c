/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include <fdkit.h>

#include "commands.h"

int fdkit_report(const char *cmd, const char *call, int err) {
  fprintf(stderr, "fdkit %s: %s: %s (%s): %s\n", cmd, call, fdk_errname(err), fdk_strerror(err), fdk_last_error());
  return 1;
}

int fdkit_stdout_failed(const char *cmd, int err) {
  static int reported;
  if (err == -EPIPE) {
    /* fdkit's writes block SIGPIPE and the C library's may have been: take it now, as
     * a plain write would have */
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
      sigset_t pipe_only;
      sigemptyset(&pipe_only);
      sigaddset(&pipe_only, SIGPIPE);
      sigprocmask(SIG_UNBLOCK, &pipe_only, NULL);
      raise(SIGPIPE);
    }
  }
  if (!reported)
    fprintf(stderr, "fdkit %s: write error (stdout): %s (%s)\n", cmd, fdk_errname(err), fdk_strerror(err));
  reported = 1;
  return 1;
}

int fdkit_flush_stdout(const char *cmd) {
  int flushed = fflush(stdout) == 0;
  if (flushed && !ferror(stdout)) return 0;
  fdkit_stdout_failed(cmd, flushed ? -EIO : -errno); /* after an earlier failed write errno is gone */
  return -1;
}
