/* The fdkit tool's subcommands: each takes (argc, argv) with argv[0] = its name and
 * returns the process exit code. */
#ifndef FDKIT_TOOL_COMMANDS_H
#define FDKIT_TOOL_COMMANDS_H

#include <stdio.h>

int fdkit_cmd_pump(int argc, char **argv);
int fdkit_cmd_run(int argc, char **argv);
/* The confined file-system commands (fs.c). */
int fdkit_cmd_ls(int argc, char **argv);
int fdkit_cmd_cat(int argc, char **argv);
int fdkit_cmd_stat(int argc, char **argv);
int fdkit_cmd_tree(int argc, char **argv);

/* Prints "fdkit CMD: CALL: ERRNAME (text): detail" for a failed fdkit call and returns 1. */
int fdkit_report(const char *cmd, const char *call, int err);

#endif
