/* SPDX-License-Identifier: MIT */
/* Option values shared by the commands: "--name VALUE" or "--name=VALUE", durations,
 * bounded counts and signal names, each checked and reported the same way. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"

int fdkit_option(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value) {
  const char *arg = argv[*i];
  size_t n = strlen(name);
  if (strncmp(arg, name, n)) return 0;
  if (arg[n] == '=') {
    *value = arg + n + 1;
    return 1;
  }
  if (arg[n]) return 0;
  if (*i + 1 >= argc) {
    fprintf(stderr, "fdkit %s: %s needs a value (see --help)\n", cmd, name);
    return -1;
  }
  *value = argv[++*i];
  return 1;
}

int fdkit_parse_duration(const char *cmd, const char *flag, const char *text, int64_t *ms) {
  static const struct {
    const char *unit;
    double ms;
  } units[] = {{"", 1}, {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3}};
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  /* strtod also takes hexadecimal, "inf" and "nan": only plain decimals are durations */
  int plain = end != text && strspn(text, "0123456789.") == (size_t)(end - text);
  for (size_t u = 0; plain && !errno && v >= 0 && u < sizeof units / sizeof units[0]; u++) {
    if (strcmp(end, units[u].unit)) continue;
    double total = v * units[u].ms;
    /* the library counts nanoseconds in 64 bits */
    if (total > (double)(INT64_MAX / 1000000)) break;
    *ms = (int64_t)total;
    if ((double)*ms < total) ++*ms; /* rounded up: a timeout never ends early */
    return 0;
  }
  fprintf(stderr,
          "fdkit %s: %s needs a duration: a non-negative number with an optional unit ms (the default), s, m, h "
          "or d, up to 292 years; not '%s'\n",
          cmd, flag, text);
  return -1;
}

int fdkit_parse_count(const char *cmd, const char *flag, const char *text, int units, int64_t min, int64_t max,
                      int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  int64_t scale = 1;
  if (units && *end && !end[1]) {
    const char *at = strchr("KMG", *end);
    if (at) {
      scale = (int64_t)1 << (10 * (at - "KMG" + 1));
      end++;
    }
  }
  if (end == text || *end || errno || text[0] == '-' || text[0] == '+' || text[0] == ' ' || v < min / scale ||
      v > max / scale) {
    fprintf(stderr, "fdkit %s: %s needs a whole number from %lld to %lld%s, not '%s'\n", cmd, flag, (long long)min,
            (long long)max, units ? " (K, M, G: KiB, MiB, GiB)" : "", text);
    return -1;
  }
  *out = v * scale;
  return 0;
}

int fdkit_parse_signal(const char *cmd, const char *flag, const char *text, int *sig) {
  char *end;
  long n = strtol(text, &end, 10);
  if (end != text && !*end && n > 0 && n < NSIG) {
    *sig = (int)n;
    return 0;
  }
  const char *name = strncasecmp(text, "SIG", 3) ? text : text + 3;
  for (int s = 1; s < NSIG; s++) {
    const char *abbrev = sigabbrev_np(s);
    if (abbrev && !strcasecmp(abbrev, name)) {
      *sig = s;
      return 0;
    }
  }
  fprintf(stderr, "fdkit %s: %s needs a signal name (TERM, SIGINT...) or number, not '%s'\n", cmd, flag, text);
  return -1;
}
