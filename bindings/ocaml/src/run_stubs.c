/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "fdkit_stubs.h"

/* A Run.opts: the fdk_run_opts and the OCaml early-exit predicate it calls, with the first
 * exception that predicate raised. Allocated apart from the custom block, which may move,
 * because fdkit keeps a pointer to it as the predicate's argument. */
struct run_opts {
  fdk_run_opts *raw;
  value early_exit; /* generational global roots; Val_unit when none */
  value exn;
};

#define Opts_val(v) (*(struct run_opts **)Data_custom_val(v))

static void opts_finalize(value v) {
  struct run_opts *o = Opts_val(v);
  fdk_run_opts_free(o->raw);
  caml_remove_generational_global_root(&o->early_exit);
  caml_remove_generational_global_root(&o->exn);
  free(o);
}

static struct custom_operations opts_ops = {"fdkit.run_opts", opts_finalize, custom_compare_default,
                                            custom_hash_default, custom_serialize_default,
                                            custom_deserialize_default, custom_compare_ext_default,
                                            custom_fixed_length_default};

/* Called as stdout arrives, on the thread running the run (fdk_run's caller, or the loop's
 * thread during Loop.run), which does not hold the runtime lock. An exception stops the
 * child and is kept for the caller; the lock is given back without running signal
 * handlers, as the loop's callbacks do. */
static int early_exit(const void *so_far, size_t len, void *arg) {
  struct run_opts *o = arg;
  caml_acquire_runtime_system();
  value s = caml_alloc_initialized_string(len, so_far);
  value r = caml_callback_exn(o->early_exit, s);
  int stop = 1;
  if (Is_exception_result(r)) {
    if (o->exn == Val_unit) caml_modify_generational_global_root(&o->exn, Extract_exception(r));
  } else {
    stop = Bool_val(r);
  }
  caml_enter_blocking_section_no_pending();
  return stop;
}

/* Run.config's fields, in order. */
enum {
  C_ARGV, C_ENV, C_CWD, C_STDIN, C_STDOUT, C_STDERR, C_MAX_OUTPUT, C_STOP_AT_MAX, C_TIMEOUT, C_CANCEL,
  C_STOP_SIGNAL, C_GROUP, C_FDS, C_EARLY_EXIT, C_BACKEND
};

static int apply(fdk_run_opts *o, value c, struct run_opts *box, const char **call) {
  int r = 0;
  value v;
#define SET(expr, name) \
  if (r >= 0) {         \
    *call = name;       \
    r = (expr);         \
  }
  if (Is_some(Field(c, C_ENV))) {
    char **env = fdkml_c_strings(Some_val(Field(c, C_ENV)), NULL);
    SET(fdk_run_opts_set_env(o, (const char *const *)env), "fdk_run_opts_set_env");
    fdkml_free_strings(env);
  }
  if (Is_some(v = Field(c, C_CWD))) {
    value w = Some_val(v);
    switch (Tag_val(w)) { /* Cwd_path | Cwd_fd | Cwd_dir */
      case 0: SET(fdk_run_opts_set_cwd(o, String_val(Field(w, 0))), "fdk_run_opts_set_cwd"); break;
      case 1: SET(fdk_run_opts_set_cwd_fd(o, Fd_val(Field(w, 0))), "fdk_run_opts_set_cwd_fd"); break;
      default: SET(fdk_run_opts_set_cwd_dir(o, fdkml_dir_of(Field(w, 0))), "fdk_run_opts_set_cwd_dir");
    }
  }
  if (Is_some(v = Field(c, C_STDIN))) {
    value w = Some_val(v);
    if (Tag_val(w) == 0) { /* Stdin_bytes | Stdin_fd */
      SET(fdk_run_opts_set_stdin_bytes(o, String_val(Field(w, 0)), caml_string_length(Field(w, 0))),
          "fdk_run_opts_set_stdin_bytes");
    } else {
      SET(fdk_run_opts_set_stdin_fd(o, Fd_val(Field(w, 0))), "fdk_run_opts_set_stdin_fd");
    }
  }
  SET(fdk_run_opts_set_stdout(o, Int_val(Field(c, C_STDOUT))), "fdk_run_opts_set_stdout");
  SET(fdk_run_opts_set_stderr(o, Int_val(Field(c, C_STDERR))), "fdk_run_opts_set_stderr");
  SET(fdk_run_opts_set_max_output(o, Long_val(Field(c, C_MAX_OUTPUT))), "fdk_run_opts_set_max_output");
  SET(fdk_run_opts_set_stop_at_max_output(o, Bool_val(Field(c, C_STOP_AT_MAX))), "fdk_run_opts_set_stop_at_max_output");
  SET(fdk_run_opts_set_timeout(o, Long_val(Field(c, C_TIMEOUT))), "fdk_run_opts_set_timeout");
  v = Field(c, C_CANCEL); /* (policy, grace_ms) */
  SET(fdk_run_opts_set_cancel(o, Int_val(Field(v, 0)), Long_val(Field(v, 1))), "fdk_run_opts_set_cancel");
  if (Is_some(v = Field(c, C_STOP_SIGNAL)))
    SET(fdk_run_opts_set_stop_signal(o, fdkml_signal_to_system(Some_val(v))), "fdk_run_opts_set_stop_signal");
  v = Field(c, C_GROUP); /* (mode, leader) */
  SET(fdk_run_opts_set_group(o, Int_val(Field(v, 0)), Int_val(Field(v, 1))), "fdk_run_opts_set_group");
  v = Field(c, C_FDS); /* (policy, keep list) */
  if (r >= 0) {
    size_t n = 0;
    for (value l = Field(v, 1); l != Val_emptylist; l = Field(l, 1)) n++;
    int *keep = caml_stat_alloc((n + 1) * sizeof *keep);
    size_t i = 0;
    for (value l = Field(v, 1); l != Val_emptylist; l = Field(l, 1)) keep[i++] = Int_val(Field(l, 0));
    SET(fdk_run_opts_set_fds(o, Int_val(Field(v, 0)), n ? keep : NULL, n), "fdk_run_opts_set_fds");
    caml_stat_free(keep);
  }
  if (Is_some(v = Field(c, C_EARLY_EXIT))) {
    caml_modify_generational_global_root(&box->early_exit, Some_val(v));
    SET(fdk_run_opts_set_early_exit(o, early_exit, box), "fdk_run_opts_set_early_exit");
  }
  SET(fdk_run_opts_set_backend(o, Int_val(Field(c, C_BACKEND))), "fdk_run_opts_set_backend");
#undef SET
  return r;
}

CAMLprim value fdkml_run_opts(value config) {
  CAMLparam1(config);
  CAMLlocal1(v);
  value c = config;
  fdkml_check_strings(Field(c, C_ARGV), "fdk_run_opts_new");
  if (Is_some(Field(c, C_ENV))) fdkml_check_strings(Some_val(Field(c, C_ENV)), "fdk_run_opts_set_env");
  if (Is_some(Field(c, C_CWD)) && Tag_val(Some_val(Field(c, C_CWD))) == 0)
    fdkml_check_string(Field(Some_val(Field(c, C_CWD)), 0), "fdk_run_opts_set_cwd");
  struct run_opts *box = malloc(sizeof *box);
  if (!box) caml_raise_out_of_memory();
  box->early_exit = Val_unit;
  box->exn = Val_unit;
  caml_register_generational_global_root(&box->early_exit);
  caml_register_generational_global_root(&box->exn);
  char **args = fdkml_c_strings(Field(c, C_ARGV), NULL);
  box->raw = NULL;
  int r = fdk_run_opts_new(&box->raw, (const char *const *)args);
  fdkml_free_strings(args);
  v = caml_alloc_custom(&opts_ops, sizeof box, 0, 1); /* frees box from now on */
  Opts_val(v) = box;
  fdkml_check(r, "fdk_run_opts_new");
  const char *call = "";
  fdkml_check(apply(box->raw, config, box, &call), call);
  CAMLreturn(v);
}

/* The exception the early-exit predicate raised during the last run, if any (taken). */
CAMLprim value fdkml_run_opts_take_exn(value opts) {
  CAMLparam1(opts);
  CAMLlocal2(exn, some);
  struct run_opts *o = Opts_val(opts);
  if (o->exn == Val_unit) CAMLreturn(Val_none);
  exn = o->exn;
  caml_modify_generational_global_root(&o->exn, Val_unit);
  some = caml_alloc(1, 0);
  Store_field(some, 0, exn);
  CAMLreturn(some);
}

static value bytes_of(const uint8_t *p, size_t n) { return caml_alloc_initialized_string(n, (const char *)p); }

/* A Run.output record (its fields in order). */
static value output_of(void *arg) {
  CAMLparam0();
  CAMLlocal4(t, s, usage, status);
  fdk_run_result *res = arg;
  int kind, code;
  size_t len;
  fdk_run_result_status(res, &kind, &code);
  status = fdkml_status_value(kind, code);
  fdk_rusage u;
  fdk_run_result_rusage(res, &u);
  int64_t fields[] = {u.utime_ns, u.stime_ns, u.maxrss_kib, u.minflt, u.majflt, u.inblock, u.oublock, u.nvcsw, u.nivcsw};
  usage = caml_alloc_tuple(9);
  for (int i = 0; i < 9; i++) Store_field(usage, i, Val_long(fields[i]));
  t = caml_alloc_tuple(10);
  Store_field(t, 0, status);
  const uint8_t *out = fdk_run_result_stdout(res, &len);
  s = bytes_of(out, len);
  Store_field(t, 1, s);
  const uint8_t *err = fdk_run_result_stderr(res, &len);
  s = bytes_of(err, len);
  Store_field(t, 2, s);
  Store_field(t, 3, Val_bool(fdk_run_result_timed_out(res)));
  Store_field(t, 4, Val_bool(fdk_run_result_truncated(res)));
  Store_field(t, 5, Val_bool(fdk_run_result_early_exit(res)));
  Store_field(t, 6, Val_bool(fdk_run_result_pipes_abandoned(res)));
  Store_field(t, 7, Val_int(fdk_run_result_pid(res)));
  Store_field(t, 8, Val_long(fdk_run_result_duration_ns(res)));
  Store_field(t, 9, usage);
  CAMLreturn(t);
}

/* Runs without the runtime lock (the early-exit predicate takes it back while it runs). */
CAMLprim value fdkml_run(value opts) {
  CAMLparam1(opts);
  CAMLlocal1(t);
  fdk_run_result *res = NULL;
  fdk_run_opts *o = Opts_val(opts)->raw;
  caml_release_runtime_system();
  int r = fdk_run(&res, o);
  caml_acquire_runtime_system();
  fdkml_check(r, "fdk_run");
  t = output_of(res);
  fdk_run_result_free(res);
  CAMLreturn(t);
}

static void on_run(int result, fdk_run_result *res, void *data) {
  fdkml_complete(data, result, output_of, res);
  fdk_run_result_free(res);
}

/* The pending state keeps the options (and so the predicate) until the callback ran. */
CAMLprim value fdkml_run_async(value loop, value opts, value callback) {
  CAMLparam3(loop, opts, callback);
  struct fdkml_pending *p = fdkml_pending_new(loop, callback, opts);
  fdk_op *op = NULL;
  int r = fdk_run_async(fdkml_loop_val(loop)->raw, Opts_val(opts)->raw, on_run, p, &op);
  CAMLreturn(fdkml_started(p, r, op, "fdk_run_async"));
}

CAMLprim value fdkml_run_signal(value op, value sig) {
  fdkml_check(fdk_run_signal(fdkml_op_raw(op), fdkml_signal_to_system(sig)), "fdk_run_signal");
  return Val_unit;
}
