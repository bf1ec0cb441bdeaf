/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "fdkit_stubs.h"

fdk_dir *fdkml_dir_of(value v);
extern int caml_rev_convert_signal_number(int); /* the runtime's; see process_stubs.c */

/* A NULL-terminated C copy of an OCaml string list. */
static char **c_strings(value list) {
  size_t n = 0;
  for (value l = list; l != Val_emptylist; l = Field(l, 1)) n++;
  char **out = caml_stat_alloc((n + 1) * sizeof *out);
  size_t i = 0;
  for (value l = list; l != Val_emptylist; l = Field(l, 1)) out[i++] = caml_stat_strdup(String_val(Field(l, 0)));
  out[n] = NULL;
  return out;
}

static void free_strings(char **list) {
  for (char **p = list; *p; p++) caml_stat_free(*p);
  caml_stat_free(list);
}

static value bytes_of(const uint8_t *p, size_t n) { return caml_alloc_initialized_string(n, (const char *)p); }

/* run argv stdin_opt timeout_ms new_group dir_opt: (signalled, value, stdout, stderr,
 * timed_out). The options are built and the run made without the runtime lock. */
CAMLprim value fdkml_run(value argv, value stdin_opt, value timeout, value new_group, value dir_opt) {
  CAMLparam5(argv, stdin_opt, timeout, new_group, dir_opt);
  CAMLlocal1(t);
  fdkml_check_strings(argv, "fdk_run");
  char **args = c_strings(argv);
  size_t in_len = 0;
  char *in = NULL;
  if (Is_some(stdin_opt)) {
    in_len = caml_string_length(Some_val(stdin_opt));
    in = caml_stat_alloc(in_len + 1);
    memcpy(in, String_val(Some_val(stdin_opt)), in_len);
  }
  fdk_dir *dir = Is_some(dir_opt) ? fdkml_dir_of(Some_val(dir_opt)) : NULL;
  int64_t ms = Long_val(timeout);
  int group = Bool_val(new_group);
  fdk_run_opts *opts = NULL;
  fdk_run_result *res = NULL;
  const char *failed = NULL;
  caml_release_runtime_system();
  int r = fdk_run_opts_new(&opts, (const char *const *)args);
  if (r < 0) failed = "fdk_run_opts_new";
  if (!failed && in && (r = fdk_run_opts_set_stdin_bytes(opts, in, in_len)) < 0) failed = "fdk_run_opts_set_stdin_bytes";
  if (!failed && (r = fdk_run_opts_set_stdout(opts, FDK_RUN_CAPTURE)) < 0) failed = "fdk_run_opts_set_stdout";
  if (!failed && (r = fdk_run_opts_set_stderr(opts, FDK_RUN_CAPTURE)) < 0) failed = "fdk_run_opts_set_stderr";
  if (!failed && ms > 0 && (r = fdk_run_opts_set_timeout(opts, ms)) < 0) failed = "fdk_run_opts_set_timeout";
  if (!failed && group && (r = fdk_run_opts_set_group(opts, FDK_RUN_GROUP_NEW, 0)) < 0)
    failed = "fdk_run_opts_set_group";
  if (!failed && dir && (r = fdk_run_opts_set_cwd_dir(opts, dir)) < 0) failed = "fdk_run_opts_set_cwd_dir";
  if (!failed && (r = fdk_run(&res, opts)) < 0) failed = "fdk_run";
  fdk_run_opts_free(opts);
  caml_acquire_runtime_system();
  free_strings(args);
  caml_stat_free(in);
  if (failed) fdkml_check(r, failed);
  int kind, status;
  size_t out_len, err_len;
  fdk_run_result_status(res, &kind, &status);
  const uint8_t *out = fdk_run_result_stdout(res, &out_len), *err = fdk_run_result_stderr(res, &err_len);
  t = caml_alloc_tuple(5);
  Store_field(t, 0, Val_bool(kind == FDK_EXIT_SIGNAL));
  Store_field(t, 1, Val_int(kind == FDK_EXIT_SIGNAL ? caml_rev_convert_signal_number(status) : status));
  Store_field(t, 2, bytes_of(out, out_len));
  Store_field(t, 3, bytes_of(err, err_len));
  Store_field(t, 4, Val_bool(fdk_run_result_timed_out(res)));
  fdk_run_result_free(res);
  CAMLreturn(t);
}
