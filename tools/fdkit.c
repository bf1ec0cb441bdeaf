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
    {"pump", fdkit_cmd_pump, "move data through a pipe with async I/O on one loop, with a progress timer"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: fdkit COMMAND [OPTIONS]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n'fdkit COMMAND --help' describes a command. fdkit %s\n", fdk_version_string());
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("fdkit %s\n", fdk_version_string());
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "fdkit: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
