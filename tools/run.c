/* SPDX-License-Identifier: MIT */
/* fdkit run: runs a command with fdkit's run helper, forwards or captures its output and
 * ends as timeout(1) ends: with the command's exit code, by the command's own signal,
 * 124 on a timeout, 125 for fdkit's own failures, 126 or 127 when it cannot start. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <fdkit.h>

#include "commands.h"

enum {
  EXIT_TIMED_OUT = 124,
  EXIT_CANNOT_INVOKE = 126, /* found but cannot run: not executable, a directory, --cwd */
  EXIT_NOT_FOUND = 127,
};

static const char run_usage[] =
    "usage: fdkit run [OPTIONS] [--] CMD [ARGS...]\n"
    "\n"
    "Runs CMD (looked up in PATH) and ends as timeout(1) does: with CMD's exit code; killed\n"
    "by CMD's signal when CMD was (the shell shows 128+N); 124 when it timed out (with\n"
    "--preserve-status: CMD's status); 125 when fdkit run itself failed or was used wrongly;\n"
    "126 when CMD cannot be run (not executable, a directory, --cwd unusable); 127 when CMD\n"
    "is not found. Options end at the first argument that is not one (or at --).\n"
    "\n"
    "  --timeout DURATION      stop CMD after DURATION: --signal, then SIGKILL after\n"
    "                          --kill-after. DURATION is a number with an optional unit:\n"
    "                          ms (the default), s, m, h, d (1500, 1.5s, 2m); 0: none\n"
    "  -k, --kill-after DURATION\n"
    "                          between the stop signal and SIGKILL, and the wait for pipes\n"
    "                          a descendant keeps open after CMD exited (default 1s)\n"
    "  --grace DURATION        the same as --kill-after\n"
    "  -s, --signal SIGNAL     the stop signal (default TERM; a name or a number)\n"
    "  --preserve-status       exit with CMD's status even when it timed out\n"
    "  --max-output BYTES      keep at most BYTES (K, M, G: KiB, MiB, GiB) of output over\n"
    "                          both streams; once CMD writes more it is stopped as a\n"
    "                          timeout stops it; the kept output is printed when CMD ended\n"
    "  --stdin FILE            feed FILE to CMD's stdin\n"
    "  --cwd DIR               run in DIR\n"
    "  --cwd-root ROOT         resolve --cwd beneath ROOT (default: run in ROOT itself); a\n"
    "                          --cwd leading outside ROOT is refused (exit 126). Only the\n"
    "                          starting directory is confined, not what CMD opens\n"
    "  --env K=V               set K in CMD's environment (repeatable)\n"
    "  --clear-env             start from an empty environment (then add --env entries)\n"
    "  --new-session           run in a new session and process group; the stop signals and\n"
    "                          signals fdkit run receives go to the whole group\n"
    "  --close-fds             close every descriptor above 2 in CMD\n"
    "  --json                  capture stdout and stderr and print one JSON object with the\n"
    "                          status, timings, truncation and the captured output\n"
    "  --trace                 print each fdkit operation to stderr\n"
    "  --help                  print this help\n"
    "\n"
    "SIGTERM, SIGINT, SIGHUP and SIGQUIT sent to fdkit run are passed on to CMD (to its\n"
    "group with --new-session).\n";

extern char **environ;

typedef struct {
  int64_t timeout_ms, grace_ms, max_output;
  int stop_signal;
  const char *stdin_path, *cwd, *cwd_root;
  int clear_env, new_session, close_fds, json, preserve_status;
  char **env_add;
  size_t env_add_n;
  char **cmd;
} run_args;

/* Appends s to a growable array of strings. */
static int push(char ***list, size_t *n, char *s) {
  char **grown = realloc(*list, (*n + 2) * sizeof **list);
  if (!grown) return -ENOMEM;
  grown[(*n)++] = s;
  grown[*n] = NULL;
  *list = grown;
  return 0;
}

/* Parses options up to the first argument that is not one, as timeout(1) does. -1 to go
 * on, else the exit code (0 after --help). */
static int parse_run_args(int argc, char **argv, run_args *a) {
  int i = 1;
  for (; i < argc; i++) {
    const char *arg = argv[i], *v;
    if (!strcmp(arg, "--")) {
      i++;
      break;
    }
    if (arg[0] != '-' || !arg[1]) break;
    int r;
    if (!strcmp(arg, "--help")) {
      fputs(run_usage, stdout);
      return 0;
    }
    if ((r = fdkit_option("run", argc, argv, &i, "--timeout", &v))) {
      if (r < 0 || fdkit_parse_duration("run", "--timeout", v, &a->timeout_ms) < 0) return FDKIT_EXIT_OWN_ERROR;
    } else if ((r = fdkit_option("run", argc, argv, &i, "--grace", &v)) ||
               (r = fdkit_option("run", argc, argv, &i, "--kill-after", &v)) ||
               (r = fdkit_option("run", argc, argv, &i, "-k", &v))) {
      if (r < 0 || fdkit_parse_duration("run", "--kill-after", v, &a->grace_ms) < 0) return FDKIT_EXIT_OWN_ERROR;
    } else if ((r = fdkit_option("run", argc, argv, &i, "--signal", &v)) ||
               (r = fdkit_option("run", argc, argv, &i, "-s", &v))) {
      if (r < 0 || fdkit_parse_signal("run", "--signal", v, &a->stop_signal) < 0) return FDKIT_EXIT_OWN_ERROR;
    } else if ((r = fdkit_option("run", argc, argv, &i, "--max-output", &v))) {
      if (r < 0 || fdkit_parse_count("run", "--max-output", v, 1, 0, INT64_MAX, &a->max_output) < 0)
        return FDKIT_EXIT_OWN_ERROR;
    } else if ((r = fdkit_option("run", argc, argv, &i, "--stdin", &a->stdin_path)) ||
               (r = fdkit_option("run", argc, argv, &i, "--cwd", &a->cwd)) ||
               (r = fdkit_option("run", argc, argv, &i, "--cwd-root", &a->cwd_root))) {
      if (r < 0) return FDKIT_EXIT_OWN_ERROR;
    } else if ((r = fdkit_option("run", argc, argv, &i, "--env", &v))) {
      if (r < 0) return FDKIT_EXIT_OWN_ERROR;
      if (!strchr(v, '=')) {
        fprintf(stderr, "fdkit run: --env needs K=V, not '%s'\n", v);
        return FDKIT_EXIT_OWN_ERROR;
      }
      if (push(&a->env_add, &a->env_add_n, (char *)v) < 0) {
        fprintf(stderr, "fdkit run: out of memory\n");
        return FDKIT_EXIT_OWN_ERROR;
      }
    } else if (!strcmp(arg, "--clear-env")) {
      a->clear_env = 1;
    } else if (!strcmp(arg, "--new-session")) {
      a->new_session = 1;
    } else if (!strcmp(arg, "--close-fds")) {
      a->close_fds = 1;
    } else if (!strcmp(arg, "--json")) {
      a->json = 1;
    } else if (!strcmp(arg, "--preserve-status")) {
      a->preserve_status = 1;
    } else if (!strcmp(arg, "--trace")) {
      fdkit_trace_on();
    } else {
      fprintf(stderr, "fdkit run: unknown option '%s' (see --help)\n", arg);
      return FDKIT_EXIT_OWN_ERROR;
    }
  }
  if (i >= argc) {
    fprintf(stderr, "fdkit run: no command given: fdkit run [OPTIONS] [--] CMD [ARGS...]\n");
    return FDKIT_EXIT_OWN_ERROR;
  }
  a->cmd = argv + i;
  return -1;
}

/* JSON ---------------------------------------------------------------------------- */

static void json_text(FILE *out, const uint8_t *s, size_t n) {
  fputc('"', out);
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c == '\n') fputs("\\n", out);
    else if (c == '\r') fputs("\\r", out);
    else if (c == '\t') fputs("\\t", out);
    else if (c < 0x20 || c == 0x7f) fprintf(out, "\\u%04x", c);
    else fputc(c, out);
  }
  fputc('"', out);
}

static void json_base64(FILE *out, const uint8_t *s, size_t n) {
  static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  fputc('"', out);
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
    fputc(digits[v >> 18], out);
    fputc(digits[(v >> 12) & 63], out);
    fputc(i + 1 < n ? digits[(v >> 6) & 63] : '=', out);
    fputc(i + 2 < n ? digits[v & 63] : '=', out);
  }
  fputc('"', out);
}

/* How many leading bytes of s are whole UTF-8 characters: n when all are, less when the
 * end cuts a character (what follows is that character's start), SIZE_MAX when s is not
 * UTF-8. */
static size_t utf8_prefix(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n;) {
    int len = fdkit_utf8_char(s + i, n - i);
    if (len < 0) return i;
    if (len == 0) return SIZE_MAX;
    i += (size_t)len;
  }
  return n;
}

/* "name": {"encoding": "utf-8"|"base64", "bytes": N, "data": "..."}. A stream cut by
 * --max-output inside a character is still text: the cut character's bytes go to
 * "incomplete_tail" (base64). */
static void json_stream(FILE *out, const char *name, const uint8_t *s, size_t n, int truncated) {
  size_t text = utf8_prefix(s, n);
  if (text != n && !truncated) text = SIZE_MAX;
  fprintf(out, "\"%s\":{\"encoding\":\"%s\",\"bytes\":%zu,\"data\":", name, text != SIZE_MAX ? "utf-8" : "base64", n);
  if (text == SIZE_MAX) {
    json_base64(out, s, n);
  } else {
    json_text(out, s, text);
    if (text < n) {
      fputs(",\"incomplete_tail\":", out);
      json_base64(out, s + text, n - text);
    }
  }
  fputc('}', out);
}

static void print_json(const fdk_run_result *res) {
  int kind, value;
  fdk_run_result_status(res, &kind, &value);
  fdk_rusage usage;
  fdk_run_result_rusage(res, &usage);
  size_t out_len, err_len;
  const uint8_t *out = fdk_run_result_stdout(res, &out_len);
  const uint8_t *err = fdk_run_result_stderr(res, &err_len);
  int truncated = fdk_run_result_truncated(res);
  printf("{\"started\":true,\"pid\":%d,", (int)fdk_run_result_pid(res));
  if (kind == FDK_EXIT_SIGNAL) printf("\"status\":{\"signal\":%d},", value);
  else if (kind == FDK_EXIT_CODE) printf("\"status\":{\"exit_code\":%d},", value);
  else printf("\"status\":{\"unknown\":true},");
  printf("\"timed_out\":%s,\"truncated\":%s,\"pipes_abandoned\":%s,\"duration_ms\":%.3f,",
         fdk_run_result_timed_out(res) ? "true" : "false", truncated ? "true" : "false",
         fdk_run_result_pipes_abandoned(res) ? "true" : "false", (double)fdk_run_result_duration_ns(res) / 1e6);
  printf("\"user_ms\":%.3f,\"system_ms\":%.3f,\"max_rss_kib\":%lld,", (double)usage.utime_ns / 1e6,
         (double)usage.stime_ns / 1e6, (long long)usage.maxrss_kib);
  json_stream(stdout, "stdout", out, out_len, truncated);
  fputc(',', stdout);
  json_stream(stdout, "stderr", err, err_len, truncated);
  printf("}\n");
}

/* Reports a failure (also as JSON with --json): one before the command started, or one
 * that ended the run without a result. Returns code. */
static int run_failed(const run_args *a, int started, const char *call, int err, int code) {
  fdkit_report("run", call, err);
  if (a->json) {
    const char *detail = fdk_last_error();
    printf("{\"started\":%s,\"exit_code\":%d,\"error\":{\"call\":", started ? "true" : "false", code);
    json_text(stdout, (const uint8_t *)call, strlen(call));
    printf(",\"errno\":\"%s\",\"message\":", fdk_errname(err));
    json_text(stdout, (const uint8_t *)fdk_strerror(err), strlen(fdk_strerror(err)));
    printf(",\"detail\":");
    json_text(stdout, (const uint8_t *)detail, strlen(detail));
    printf("}}\n");
  }
  return code;
}

/* Setting up ------------------------------------------------------------------------ */

/* --stdin FILE: the command reads the file itself as its fd 0. */
static int not_started(const run_args *a, const char *call, int err, int code) {
  return run_failed(a, 0, call, err, code);
}

static int set_stdin_file(fdk_run_opts *opts, const run_args *a) {
  fdk_fd *file;
  int r = fdk_openat(&file, fdk_dir_fs(), a->stdin_path, FDK_O_RDONLY, 0);
  if (r < 0) return not_started(a, "openat (--stdin)", r, FDKIT_EXIT_OWN_ERROR);
  r = fdk_run_opts_set_stdin_fd(opts, file);
  fdk_fd_unref(file); /* the options hold their own reference */
  return r < 0 ? not_started(a, "run_opts_set_stdin_fd", r, FDKIT_EXIT_OWN_ERROR) : 0;
}

/* --cwd PATH, resolved beneath --cwd-root when given: opened here, so that a directory
 * that is missing, or leads outside the root, is refused before anything runs. */
static int set_cwd(fdk_run_opts *opts, const run_args *a) {
  fdk_dir *root = fdk_dir_fs(), *start = NULL;
  const char *path = a->cwd ? a->cwd : ".";
  int r = 0;
  if (a->cwd_root && (r = fdk_dir_open(&root, fdk_dir_fs(), a->cwd_root)) < 0)
    return not_started(a, "dir_open (--cwd-root)", r, EXIT_CANNOT_INVOKE);
  r = fdk_dir_open(&start, root, path);
  if (a->cwd_root) fdk_dir_unref(root);
  if (r < 0) {
    if (r == FDK_EESCAPE)
      fprintf(stderr, "fdkit run: refused: --cwd '%s' leads outside --cwd-root %s\n", path, a->cwd_root);
    return not_started(a, "dir_open (--cwd)", r, EXIT_CANNOT_INVOKE);
  }
  r = fdk_run_opts_set_cwd_dir(opts, start);
  fdk_dir_unref(start); /* the options hold the descriptor */
  return r < 0 ? not_started(a, "run_opts_set_cwd_dir", r, EXIT_CANNOT_INVOKE) : 0;
}

/* The caller's environment (unless cleared) with --env entries replacing the same keys. */
static int set_env(fdk_run_opts *opts, const run_args *a) {
  char **env = NULL;
  size_t env_n = 0;
  int r = 0;
  for (char **e = a->clear_env ? NULL : environ; e && *e && r == 0; e++) {
    size_t key = strcspn(*e, "=");
    int replaced = 0;
    for (size_t k = 0; k < a->env_add_n; k++)
      replaced |= !strncmp(a->env_add[k], *e, key) && a->env_add[k][key] == '=';
    if (!replaced) r = push(&env, &env_n, *e);
  }
  for (size_t k = 0; k < a->env_add_n && r == 0; k++) r = push(&env, &env_n, a->env_add[k]);
  char *empty[] = {NULL};
  if (r == 0) r = fdk_run_opts_set_env(opts, (const char *const *)(env ? env : empty));
  free(env);
  return r < 0 ? not_started(a, "run_opts_set_env", r, FDKIT_EXIT_OWN_ERROR) : 0;
}

/* The first setter that failed, to report after the options are all set. */
typedef struct {
  const char *call;
  int err;
} setter_failure;

static void first_failure(setter_failure *f, const char *call, int r) {
  if (r < 0 && !f->err) *f = (setter_failure){call, r};
}

/* The options of a run as args ask; 0, or the exit code after reporting. */
static int build_opts(fdk_run_opts **out, const run_args *a) {
  fdk_run_opts *opts;
  int r = fdk_run_opts_new(&opts, (const char *const *)a->cmd);
  if (r < 0) return not_started(a, "run_opts_new", r, FDKIT_EXIT_OWN_ERROR);
  *out = opts;
  if ((a->clear_env || a->env_add_n) && (r = set_env(opts, a)) != 0) return r;
  if (a->stdin_path && (r = set_stdin_file(opts, a)) != 0) return r;
  if ((a->cwd || a->cwd_root) && (r = set_cwd(opts, a)) != 0) return r;
  setter_failure failed = {0};
  /* A limit needs the output to pass through fdkit: capture, then forward what was kept. */
  if (a->json || a->max_output >= 0) {
    first_failure(&failed, "run_opts_set_stdout", fdk_run_opts_set_stdout(opts, FDK_RUN_CAPTURE));
    first_failure(&failed, "run_opts_set_stderr", fdk_run_opts_set_stderr(opts, FDK_RUN_CAPTURE));
  }
  if (a->max_output >= 0) {
    first_failure(&failed, "run_opts_set_max_output", fdk_run_opts_set_max_output(opts, a->max_output));
    first_failure(&failed, "run_opts_set_stop_at_max_output", fdk_run_opts_set_stop_at_max_output(opts, 1));
  }
  if (a->timeout_ms > 0)
    first_failure(&failed, "run_opts_set_timeout", fdk_run_opts_set_timeout(opts, a->timeout_ms));
  first_failure(&failed, "run_opts_set_cancel", fdk_run_opts_set_cancel(opts, FDK_RUN_CANCEL_GRACEFUL, a->grace_ms));
  first_failure(&failed, "run_opts_set_stop_signal", fdk_run_opts_set_stop_signal(opts, a->stop_signal));
  if (a->new_session)
    first_failure(&failed, "run_opts_set_group", fdk_run_opts_set_group(opts, FDK_RUN_GROUP_SESSION, 0));
  if (a->close_fds)
    first_failure(&failed, "run_opts_set_fds", fdk_run_opts_set_fds(opts, FDK_RUN_FDS_CLOSE_FROM_3, NULL, 0));
  /* Setters refuse values out of range: a usage error. */
  return failed.err ? not_started(a, failed.call, failed.err, FDKIT_EXIT_OWN_ERROR) : 0;
}

/* Running, with the signals fdkit run receives passed on ----------------------------- */

typedef struct {
  fdk_loop *loop;
  fdk_op *run_op, *signal_op;
  fdk_fd *signals;
  struct signalfd_siginfo info;
  int done, result;
  fdk_run_result *res;
} running;

static void on_run_done(int result, fdk_run_result *res, void *data) {
  running *g = data;
  g->run_op = NULL;
  g->done = 1;
  g->result = result;
  g->res = res;
  if (g->signal_op) fdk_op_cancel(g->signal_op);
}

static void on_signal(int64_t result, void *data) {
  running *g = data;
  g->signal_op = NULL;
  if (result != (int64_t)sizeof g->info || !g->run_op) return;
  fdk_run_signal(g->run_op, (int)g->info.ssi_signo);
  if (fdk_read_async(g->loop, g->signals, &g->info, sizeof g->info, on_signal, g, &g->signal_op) < 0)
    g->signal_op = NULL;
}

/* The signals passed on, as timeout(1) passes them: a terminal's ^C and ^\, a hangup, a
 * plain kill. */
static void forwarded_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGHUP);
  sigaddset(set, SIGQUIT);
}

/* Runs opts on a loop of its own while a signalfd takes the forwarded signals (blocked
 * here; every spawned child starts with an empty mask). 0 with *res, or a negative errno
 * with the call that failed in *call and whether the command had started in *started. */
static int run_forwarding_signals(const fdk_run_opts *opts, fdk_run_result **res, const char **call, int *started) {
  running g = {0};
  sigset_t set;
  forwarded_signals(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int r = fdk_loop_new(&g.loop);
  if (r < 0) {
    *call = "loop_new";
    return r;
  }
  int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd >= 0 && fdk_fd_adopt(&g.signals, sfd, 0) < 0) close(sfd);
  r = fdk_run_async(g.loop, opts, on_run_done, &g, &g.run_op);
  if (r < 0) {
    *call = "run";
  } else {
    if (g.signals &&
        fdk_read_async(g.loop, g.signals, &g.info, sizeof g.info, on_signal, &g, &g.signal_op) < 0)
      g.signal_op = NULL;
    while (!g.done || g.signal_op) fdk_loop_run(g.loop, FDK_RUN_ONCE);
    *started = 1;
    *call = "run (after the start)";
    r = g.result;
    *res = g.res;
  }
  fdk_fd_unref(g.signals);
  fdk_loop_free(g.loop);
  return r;
}

/* Ending --------------------------------------------------------------------------- */

/* Ends the process by sig, as the command ended, so that a parent's waitpid sees a death
 * by that signal (timeout(1) does the same). Returns only when sig does not kill. */
static void die_of(int sig) {
  /* a re-raised SIGSEGV or SIGABRT must not leave a core of fdkit itself */
  if (prctl(PR_SET_DUMPABLE, 0) < 0) return;
  signal(sig, SIG_DFL);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, sig);
  sigprocmask(SIG_UNBLOCK, &only, NULL);
  raise(sig);
}

/* timeout(1)'s exit status for a run that ended; *die_by is the signal to end by instead
 * (the command's own, when it was killed and not by a timeout's stop signal). */
static int exit_code_of(const fdk_run_result *res, int preserve_status, int *die_by) {
  int kind, value, code;
  fdk_run_result_status(res, &kind, &value);
  int timed_out = fdk_run_result_timed_out(res);
  *die_by = 0;
  if (kind == FDK_EXIT_CODE) {
    code = value;
  } else if (kind == FDK_EXIT_SIGNAL) {
    code = 128 + value;
    /* timeout(1) dies of the SIGKILL it sends its whole group: the same status here */
    if (!timed_out || value == SIGKILL) {
      *die_by = value;
      return code;
    }
  } else {
    fprintf(stderr, "fdkit run: the command's exit status could not be collected\n");
    return FDKIT_EXIT_OWN_ERROR;
  }
  return timed_out && !preserve_status ? EXIT_TIMED_OUT : code;
}

/* Why an executable could not run: 127 when it is not there, 126 when it is but cannot
 * run, 125 when fdkit failed before. */
static int start_failure_code(int err) {
  switch (-err) {
    case ENOENT: return EXIT_NOT_FOUND;
    case EACCES:
    case EPERM:
    case ENOEXEC:
    case EISDIR:
    case ENOTDIR:
    case ELOOP:
    case ENAMETOOLONG:
    case ETXTBSY:
    case E2BIG: return EXIT_CANNOT_INVOKE;
    default: return FDKIT_EXIT_OWN_ERROR;
  }
}

int fdkit_cmd_run(int argc, char **argv) {
  run_args a = {.grace_ms = 1000, .max_output = -1, .stop_signal = SIGTERM};
  int code = parse_run_args(argc, argv, &a);
  if (code >= 0) {
    free(a.env_add);
    return code;
  }
  /* An inherited SIG_IGN for SIGCHLD would let the kernel reap the command and lose its
   * status; a blocked one would stop the SIGCHLD watch of old kernels. */
  signal(SIGCHLD, SIG_DFL);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_UNBLOCK, &chld, NULL);

  fdk_run_opts *opts = NULL;
  fdk_run_result *res = NULL;
  int die_by = 0;
  code = build_opts(&opts, &a);
  if (code == 0) {
    const char *call = NULL;
    int started = 0;
    int r = run_forwarding_signals(opts, &res, &call, &started);
    if (r < 0) {
      code = run_failed(&a, started, call, r, started ? FDKIT_EXIT_OWN_ERROR : start_failure_code(r));
    } else {
      if (a.json) {
        print_json(res);
      } else if (a.max_output >= 0) {
        size_t n;
        const uint8_t *bytes = fdk_run_result_stdout(res, &n);
        fwrite(bytes, 1, n, stdout);
        fflush(stdout);
        bytes = fdk_run_result_stderr(res, &n);
        fwrite(bytes, 1, n, stderr);
      }
      code = exit_code_of(res, a.preserve_status, &die_by);
    }
  }
  fdk_run_result_free(res);
  fdk_run_opts_free(opts);
  free(a.env_add);
  if (fdkit_flush_stdout("run") < 0) return FDKIT_EXIT_OWN_ERROR;
  if (die_by) die_of(die_by);
  return code;
}
