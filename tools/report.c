#include <fdkit.h>

#include "commands.h"

int fdkit_report(const char *cmd, const char *call, int err) {
  fprintf(stderr, "fdkit %s: %s: %s (%s): %s\n", cmd, call, fdk_errname(err), fdk_strerror(err), fdk_last_error());
  return 1;
}
