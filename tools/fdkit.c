/* SPDX-License-Identifier: MIT */
/* fdkit — command-line tool built only on fdkit's public API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fdkit.h>

#include "commands.h"

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} commands[] = {
    {"run", fdkit_cmd_run, "run a command with capture, limits and a timeout; exit with its status"},
    {"pump", fdkit_cmd_pump, "move data through a pipe with async I/O on one loop, with a progress timer"},
    {"ls", fdkit_cmd_ls, "list a directory beneath --root DIR; escapes are refused"},
    {"cat", fdkit_cmd_cat, "copy a file beneath --root DIR to stdout; escapes are refused"},
    {"stat", fdkit_cmd_stat, "describe a file beneath --root DIR; escapes are refused"},
    {"tree", fdkit_cmd_tree, "walk a directory beneath --root DIR recursively, never following symlinks"},
};

/* --trace: one line per finished operation on stderr. */
static void print_span(const fdk_trace_event *e, void *data) {
  (void)data;
  if (e->phase != FDK_TRACE_END) return;
  fprintf(stderr, "trace: %-12s %9.3f ms  ", e->name, (double)e->duration_ns / 1e6);
  if (e->result < 0) fprintf(stderr, "-%s", fdk_errname((int)e->result));
  else fprintf(stderr, "%lld", (long long)e->result);
  if (e->fd >= 0) fprintf(stderr, "  fd=%d", e->fd);
  if (e->path) fprintf(stderr, "  path=%s", e->path);
  if (e->detail) fprintf(stderr, "  %s", e->detail);
  fputc('\n', stderr);
}

void fdkit_trace_on(void) { fdk_trace_set(NULL, print_span, NULL); }

static void usage(FILE *out) {
  fprintf(out, "usage: fdkit COMMAND [OPTIONS]\n       fdkit --help | --version\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\noptions:\n"
               "  --help     print this help ('fdkit COMMAND --help' describes a command and\n"
               "             lists all its options)\n"
               "  --version  print fdkit's version\n"
               "  --trace    (every command) print each fdkit operation it makes, with its\n"
               "             duration and result, to stderr\n"
               "\nExit status 125: fdkit was used wrongly (an unknown command or option, a bad\n"
               "value) or failed itself.\n\nfdkit %s\n",
          fdk_version_string());
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    if (argc < 2) return FDKIT_EXIT_OWN_ERROR;
    return fdkit_flush_stdout("--help") < 0 ? 1 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("fdkit %s\n", fdk_version_string());
    return fdkit_flush_stdout("--version") < 0 ? 1 : 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(argv[1], commands[i].name)) continue;
    int code = commands[i].run(argc - 1, argv + 1);
    /* stdout is buffered: a full disk or a closed pipe may only show now */
    if (fdkit_flush_stdout(commands[i].name) < 0 && code == 0) code = 1;
    return code;
  }
  fprintf(stderr, "fdkit: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return FDKIT_EXIT_OWN_ERROR;
}
