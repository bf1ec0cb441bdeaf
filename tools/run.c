/* fdkit run: runs a command with fdkit's run helper, forwards or captures its output and
 * exits with its exit code (128+signal when killed, 124 on timeout, like timeout(1)). */
#include <stdlib.h>
#include <string.h>

#include <fdkit.h>

#include "commands.h"

static const char run_usage[] =
    "usage: fdkit run [OPTIONS] -- CMD [ARGS...]\n"
    "\n"
    "Runs CMD (looked up in PATH) and exits with its exit code: 128+N when it was killed\n"
    "by signal N, 124 when it timed out (like timeout(1)), 127 when it could not start.\n"
    "\n"
    "  --timeout MS        stop the command after MS milliseconds (SIGTERM, then SIGKILL\n"
    "                      after the grace period)\n"
    "  --grace MS          grace between SIGTERM and SIGKILL, and the wait for pipes a\n"
    "                      descendant keeps open after the command exited (default 1000)\n"
    "  --max-output BYTES  keep at most BYTES of output over both streams; the rest is\n"
    "                      read and dropped (the kept output is printed when the\n"
    "                      command ended)\n"
    "  --stdin FILE        feed FILE to the command's stdin\n"
    "  --cwd DIR           run in DIR\n"
    "  --cwd-root ROOT     resolve --cwd beneath ROOT (default: run in ROOT itself); a\n"
    "                      --cwd leading outside ROOT is refused (exit 126). Only the\n"
    "                      starting directory is confined, not what the command opens\n"
    "  --env K=V           set K in the command's environment (repeatable)\n"
    "  --clear-env         start from an empty environment (then add --env entries)\n"
    "  --new-session       run in a new session and process group; a timeout signals the\n"
    "                      whole group, grandchildren included\n"
    "  --close-fds         close every descriptor above 2 in the command\n"
    "  --json              capture stdout and stderr and print one JSON object with the\n"
    "                      status, timings, truncation and the captured output\n"
    "  --trace             print each fdkit operation to stderr\n";

extern char **environ;

/* Appends s to a growable array of strings. */
static int push(char ***list, size_t *n, char *s) {
  char **grown = realloc(*list, (*n + 2) * sizeof **list);
  if (!grown) return -ENOMEM;
  grown[(*n)++] = s;
  grown[*n] = NULL;
  *list = grown;
  return 0;
}

static int parse_int64(const char *flag, const char *text, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || *end || end == text || v < 0) {
    fprintf(stderr, "fdkit run: %s needs a non-negative number, not '%s'\n", flag, text);
    return -1;
  }
  *out = v;
  return 0;
}

/* The first setter that failed, to report after the options are all set. */
typedef struct {
  const char *call;
  int err;
} setter_failure;

static void first_failure(setter_failure *f, const char *call, int r) {
  if (r < 0 && !f->err) *f = (setter_failure){call, r};
}

/* --stdin FILE: the command reads the file itself as its fd 0. 0, or the exit code. */
static int set_stdin_file(fdk_run_opts *opts, const char *path) {
  fdk_fd *file;
  int r = fdk_openat(&file, fdk_dir_fs(), path, FDK_O_RDONLY, 0);
  if (r < 0) {
    fdkit_report("run", "openat (--stdin)", r);
    return 2;
  }
  r = fdk_run_opts_set_stdin_fd(opts, file);
  fdk_fd_unref(file); /* the options hold their own reference */
  if (r < 0) {
    fdkit_report("run", "run_opts_set_stdin_fd", r);
    return 2;
  }
  return 0;
}

/* --cwd-root DIR [--cwd PATH]: the command starts in PATH resolved beneath DIR, opened
 * here so that a PATH leading outside DIR is refused before anything runs. 0, or the
 * exit code (126: could not start). */
static int set_confined_cwd(fdk_run_opts *opts, const char *root_path, const char *path) {
  fdk_dir *root, *start = NULL;
  int r = fdk_dir_open(&root, fdk_dir_fs(), root_path);
  if (r < 0) {
    fdkit_report("run", "dir_open (--cwd-root)", r);
    return 126;
  }
  r = fdk_dir_open(&start, root, path);
  fdk_dir_unref(root);
  if (r < 0) {
    if (r == FDK_EESCAPE) fprintf(stderr, "fdkit run: refused: --cwd '%s' leads outside --cwd-root %s\n", path, root_path);
    fdkit_report("run", "dir_open (--cwd)", r);
    return 126;
  }
  r = fdk_run_opts_set_cwd_dir(opts, start);
  fdk_dir_unref(start); /* the options hold the descriptor */
  if (r < 0) {
    fdkit_report("run", "run_opts_set_cwd_dir", r);
    return 126;
  }
  return 0;
}

/* JSON ---------------------------------------------------------------------------- */

static int valid_utf8(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n;) {
    uint8_t c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || i + len > n) return 0;
    uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
      return 0;
    i += len;
  }
  return 1;
}

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

/* "name": {"encoding": "utf-8"|"base64", "data": "..."} */
static void json_stream(FILE *out, const char *name, const uint8_t *s, size_t n) {
  int text = valid_utf8(s, n);
  fprintf(out, "\"%s\":{\"encoding\":\"%s\",\"bytes\":%zu,\"data\":", name, text ? "utf-8" : "base64", n);
  if (text) json_text(out, s, n);
  else json_base64(out, s, n);
  fputc('}', out);
}

/* The exit code of the tool for a finished run. */
static int exit_code_of(const fdk_run_result *res) {
  if (fdk_run_result_timed_out(res)) return 124;
  int kind, value;
  fdk_run_result_status(res, &kind, &value);
  return kind == FDK_EXIT_SIGNAL ? 128 + value : value;
}

static void print_json(const fdk_run_result *res) {
  int kind, value;
  fdk_run_result_status(res, &kind, &value);
  fdk_rusage usage;
  fdk_run_result_rusage(res, &usage);
  size_t out_len, err_len;
  const uint8_t *out = fdk_run_result_stdout(res, &out_len);
  const uint8_t *err = fdk_run_result_stderr(res, &err_len);
  printf("{\"pid\":%d,", (int)fdk_run_result_pid(res));
  if (kind == FDK_EXIT_SIGNAL) printf("\"status\":{\"signal\":%d},", value);
  else printf("\"status\":{\"exit_code\":%d},", value);
  printf("\"timed_out\":%s,\"truncated\":%s,\"duration_ms\":%.3f,",
         fdk_run_result_timed_out(res) ? "true" : "false", fdk_run_result_truncated(res) ? "true" : "false",
         (double)fdk_run_result_duration_ns(res) / 1e6);
  printf("\"user_ms\":%.3f,\"system_ms\":%.3f,\"max_rss_kib\":%lld,", (double)usage.utime_ns / 1e6,
         (double)usage.stime_ns / 1e6, (long long)usage.maxrss_kib);
  json_stream(stdout, "stdout", out, out_len);
  fputc(',', stdout);
  json_stream(stdout, "stderr", err, err_len);
  printf("}\n");
}

int fdkit_cmd_run(int argc, char **argv) {
  int64_t timeout = 0, grace = 1000, max_output = -1;
  const char *stdin_path = NULL, *cwd = NULL, *cwd_root = NULL;
  setter_failure failed = {0};
  int clear_env = 0, new_session = 0, close_fds = 0, json = 0, i = 1;
  char **env_add = NULL;
  size_t env_add_n = 0;
  for (; i < argc && strcmp(argv[i], "--"); i++) {
    const char *a = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help")) {
      fputs(run_usage, stdout);
      free(env_add);
      return 0;
    }
    int takes_value = !strcmp(a, "--timeout") || !strcmp(a, "--grace") || !strcmp(a, "--max-output") ||
                      !strcmp(a, "--stdin") || !strcmp(a, "--cwd") || !strcmp(a, "--cwd-root") ||
                      !strcmp(a, "--env");
    if (takes_value && !value) {
      fprintf(stderr, "fdkit run: %s needs a value\n", a);
      free(env_add);
      return 2;
    }
    int bad = 0;
    if (!strcmp(a, "--timeout")) bad = parse_int64(a, value, &timeout);
    else if (!strcmp(a, "--grace")) bad = parse_int64(a, value, &grace);
    else if (!strcmp(a, "--max-output")) bad = parse_int64(a, value, &max_output);
    else if (!strcmp(a, "--stdin")) stdin_path = value;
    else if (!strcmp(a, "--cwd")) cwd = value;
    else if (!strcmp(a, "--cwd-root")) cwd_root = value;
    else if (!strcmp(a, "--env")) {
      if (!strchr(value, '=')) {
        fprintf(stderr, "fdkit run: --env needs K=V, not '%s'\n", value);
        bad = 1;
      } else if (push(&env_add, &env_add_n, (char *)value) < 0) {
        fprintf(stderr, "fdkit run: out of memory\n");
        bad = 1;
      }
    } else if (!strcmp(a, "--clear-env")) clear_env = 1;
    else if (!strcmp(a, "--new-session")) new_session = 1;
    else if (!strcmp(a, "--close-fds")) close_fds = 1;
    else if (!strcmp(a, "--json")) json = 1;
    else {
      fprintf(stderr, "fdkit run: unknown option '%s' (see --help)\n", a);
      bad = 1;
    }
    if (bad) {
      free(env_add);
      return 2;
    }
    i += takes_value;
  }
  if (i >= argc - 1) {
    fprintf(stderr, "fdkit run: no command given: fdkit run [OPTIONS] -- CMD [ARGS...]\n");
    free(env_add);
    return 2;
  }
  char **cmd = argv + i + 1;

  int code = 0;
  fdk_run_opts *opts = NULL;
  fdk_run_result *res = NULL;
  char **env = NULL;
  size_t env_n = 0;
  int r = fdk_run_opts_new(&opts, (const char *const *)cmd);
  if (r < 0) {
    code = fdkit_report("run", "run_opts_new", r);
    goto done;
  }
  if (clear_env || env_add_n) {
    /* The caller's environment (unless cleared) with --env entries replacing same keys. */
    for (char **e = clear_env ? NULL : environ; e && *e; e++) {
      size_t key = strcspn(*e, "=");
      int replaced = 0;
      for (size_t k = 0; k < env_add_n; k++)
        replaced |= !strncmp(env_add[k], *e, key) && env_add[k][key] == '=';
      if (!replaced && push(&env, &env_n, *e) < 0) r = -ENOMEM;
    }
    for (size_t k = 0; k < env_add_n; k++)
      if (push(&env, &env_n, env_add[k]) < 0) r = -ENOMEM;
    char *empty[] = {NULL};
    if (r == 0) r = fdk_run_opts_set_env(opts, (const char *const *)(env ? env : empty));
    if (r < 0) {
      code = fdkit_report("run", "run_opts_set_env", r);
      goto done;
    }
  }
  if (stdin_path && (code = set_stdin_file(opts, stdin_path)) != 0) goto done;
  if (cwd_root) {
    if ((code = set_confined_cwd(opts, cwd_root, cwd ? cwd : ".")) != 0) goto done;
  } else if (cwd) {
    first_failure(&failed, "run_opts_set_cwd", fdk_run_opts_set_cwd(opts, cwd));
  }
  /* A limit needs the output to pass through fdkit: capture, then forward what was kept. */
  int capture = json || max_output >= 0;
  if (capture) {
    first_failure(&failed, "run_opts_set_stdout", fdk_run_opts_set_stdout(opts, FDK_RUN_CAPTURE));
    first_failure(&failed, "run_opts_set_stderr", fdk_run_opts_set_stderr(opts, FDK_RUN_CAPTURE));
  }
  if (max_output >= 0)
    first_failure(&failed, "run_opts_set_max_output", fdk_run_opts_set_max_output(opts, max_output));
  if (timeout > 0) first_failure(&failed, "run_opts_set_timeout", fdk_run_opts_set_timeout(opts, timeout));
  first_failure(&failed, "run_opts_set_cancel", fdk_run_opts_set_cancel(opts, FDK_RUN_CANCEL_GRACEFUL, grace));
  if (new_session)
    first_failure(&failed, "run_opts_set_group", fdk_run_opts_set_group(opts, FDK_RUN_GROUP_SESSION, 0));
  if (close_fds)
    first_failure(&failed, "run_opts_set_fds", fdk_run_opts_set_fds(opts, FDK_RUN_FDS_CLOSE_FROM_3, NULL, 0));
  if (failed.err) {
    /* Setters refuse values out of range (a timeout too large...): a usage error. */
    fdkit_report("run", failed.call, failed.err);
    code = 2;
    goto done;
  }

  r = fdk_run(&res, opts);
  if (r < 0) {
    fdkit_report("run", "run", r);
    code = r == -ENOENT || r == -EACCES || r == -ENOEXEC ? 127 : 126;
    goto done;
  }
  if (json) {
    print_json(res);
  } else if (capture) {
    size_t n;
    const uint8_t *bytes = fdk_run_result_stdout(res, &n);
    fwrite(bytes, 1, n, stdout);
    fflush(stdout);
    bytes = fdk_run_result_stderr(res, &n);
    fwrite(bytes, 1, n, stderr);
  }
  code = exit_code_of(res);

done:
  fdk_run_result_free(res);
  fdk_run_opts_free(opts);
  free(env);
  free(env_add);
  return code;
}
