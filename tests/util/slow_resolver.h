/* SPDX-License-Identifier: MIT */
/* A resolver for tests that need a name lookup to take a while, with no network: the test
 * program defines getaddrinfo itself, which takes the place of the C library's for fdkit
 * and libuv too (symbol interposition). Names made by fdkt_slow_host wait the given time on
 * the calling thread and then fail with EAI_NONAME; every other name goes to the C library. */
#ifndef FDKIT_SLOW_RESOLVER_H
#define FDKIT_SLOW_RESOLVER_H

#include <stddef.h>

/* Writes into buf a host name whose lookup takes ms milliseconds; returns buf. */
const char *fdkt_slow_host(int ms, char *buf, size_t size);

#endif
