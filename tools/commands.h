/* SPDX-License-Identifier: MIT */
/* The fdkit tool's subcommands: each takes (argc, argv) with argv[0] = its name and
 * returns the process exit code. */
#ifndef FDKIT_TOOL_COMMANDS_H
#define FDKIT_TOOL_COMMANDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Every command's exit status for fdkit's own errors (an unknown option, a bad value, an
 * internal failure), as timeout(1) and env(1) use it, so that it is not mistaken for a
 * command's own 1 or 2. */
#define FDKIT_EXIT_OWN_ERROR 125

int fdkit_cmd_pump(int argc, char **argv);
int fdkit_cmd_run(int argc, char **argv);
/* The confined file-system commands (fs.c). */
int fdkit_cmd_ls(int argc, char **argv);
int fdkit_cmd_cat(int argc, char **argv);
int fdkit_cmd_stat(int argc, char **argv);
int fdkit_cmd_tree(int argc, char **argv);

/* --trace, which every command takes: print each fdkit operation to stderr from now on. */
void fdkit_trace_on(void);

/* Prints "fdkit CMD: CALL: ERRNAME (text): detail" for a failed fdkit call and returns 1. */
int fdkit_report(const char *cmd, const char *call, int err);

/* A write to stdout failed with err (negative errno): reported once as "fdkit CMD: write
 * error (stdout): ...", except that a reader that has gone (EPIPE) ends the process
 * quietly by SIGPIPE, as coreutils end, unless SIGPIPE is ignored. Returns 1. */
int fdkit_stdout_failed(const char *cmd, int err);
/* Flushes stdout; a failure, now or of an earlier buffered write, goes to
 * fdkit_stdout_failed. 0, or -1. */
int fdkit_flush_stdout(const char *cmd);

/* Option parsing (options.c). */

/* Whether argv[*i] is option name, given as "--name VALUE" or "--name=VALUE". 1 with
 * *value set and *i on the value's argument; 0 when it is another argument; -1 after
 * reporting a missing value. */
int fdkit_option(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value);
/* A duration: a non-negative decimal number with an optional unit, ms (the default), s,
 * m, h or d ("1500", "1.5s", "2m"), rounded up to whole milliseconds. 0, or -1 after
 * reporting. */
int fdkit_parse_duration(const char *cmd, const char *flag, const char *text, int64_t *ms);
/* A whole number in [min, max], with an optional K, M or G (powers of 1024) when
 * units is non-zero. 0, or -1 after reporting. */
int fdkit_parse_count(const char *cmd, const char *flag, const char *text, int units, int64_t min, int64_t max,
                      int64_t *out);
/* A signal given as a number or a name with or without "SIG" (TERM, SIGKILL, int). 0, or
 * -1 after reporting. */
int fdkit_parse_signal(const char *cmd, const char *flag, const char *text, int *sig);

/* Text (text.c). */

/* The length of the UTF-8 character at s[0..n): > 0 when valid, 0 when not UTF-8, -1
 * when it is a valid start cut off by the end of the buffer. */
int fdkit_utf8_char(const uint8_t *s, size_t n);
/* Prints name to out so that it reads unambiguously, as GNU ls's default quoting on a
 * terminal does: as it is when it is plain; else in single quotes, with control bytes
 * and bytes that are not UTF-8 written as $'\n' or $'\377'. */
void fdkit_print_name(FILE *out, const char *name);

#endif
