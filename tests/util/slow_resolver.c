/* SPDX-License-Identifier: MIT */
#include "slow_resolver.h"

#include <dlfcn.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char slow_suffix[] = ".slow.fdkit.invalid";

const char *fdkt_slow_host(int ms, char *buf, size_t size) {
  snprintf(buf, size, "%d%s", ms, slow_suffix);
  return buf;
}

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) {
  size_t len = node ? strlen(node) : 0, suffix = sizeof slow_suffix - 1;
  if (len > suffix && strcmp(node + len - suffix, slow_suffix) == 0) {
    long ms = strtol(node, NULL, 10);
    struct timespec wait = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&wait, &wait) != 0) {
    }
    return EAI_NONAME;
  }
  getaddrinfo_fn real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
  return real(node, service, hints, res);
}
