/* SPDX-License-Identifier: MIT */
/* The checks every host example runs on the fdkit loop it embeds: timer lateness, CPU
 * while idle, and an echo server compared with the same server on fdkit's own loop. A
 * host supplies one function that drives its own loop until a flag is set. Each check
 * prints one JSON line; the program fails if a figure misses its target. */
#ifndef FDKIT_HOST_CHECKS_H
#define FDKIT_HOST_CHECKS_H

#include <fdkit.h>

/* Drives the host's loop (with fdkit inside it) until *flag becomes non-zero, or fails the
 * program after timeout_ms. */
typedef void (*host_run_until_fn)(void *host, const int *flag, int timeout_ms);

/* Runs the three checks on loop through run_until; returns 0 when every figure met its
 * target (echo_target: the least ratio of round trips to fdkit's own loop), or with
 * figures_only as soon as every check ran (sanitizer builds are too slow for targets);
 * 1 otherwise. name labels the JSON lines. */
int host_checks(const char *name, fdk_loop *loop, host_run_until_fn run_until, void *host, double echo_target,
                int figures_only);

/* Exits the program with a message when a call failed. */
void host_must(int result, const char *what);

#endif
