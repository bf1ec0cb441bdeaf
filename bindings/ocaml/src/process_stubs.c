/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "fdkit_stubs.h"

/* The runtime's mapping between OCaml's signal numbers (Sys.sigterm...) and the system's;
 * <caml/signals.h> declares them only for the runtime itself. */
extern int caml_convert_signal_number(int);
extern int caml_rev_convert_signal_number(int);

/* Each Process.t owns its fdk_process; the collector frees it. As with Unix.create_process,
 * collecting the handle leaves the child running (fdk_process_detach: fdkit reaps it when it
 * exits). Until fdkit reaps detached children spawned without a loop, detach refuses those
 * (every OCaml spawn today) and free still kills them. */
#define Proc_val(v) (*(fdk_process **)Data_custom_val(v))

static void proc_finalize(value v) {
  if (!Proc_val(v)) return;
  fdk_process_detach(Proc_val(v));
  fdk_process_free(Proc_val(v));
}

static struct custom_operations proc_ops = {"fdkit.process", proc_finalize, custom_compare_default,
                                            custom_hash_default, custom_serialize_default,
                                            custom_deserialize_default, custom_compare_ext_default,
                                            custom_fixed_length_default};

static void free_strings(char **list) {
  for (char **p = list; *p; p++) caml_stat_free(*p);
  caml_stat_free(list);
}

/* spawn argv cwd_opt inherit setsid close_other_fds: the actions are built and the child
 * spawned without the runtime lock. */
CAMLprim value fdkml_spawn(value argv, value cwd_opt, value inherit, value setsid, value close_others) {
  CAMLparam5(argv, cwd_opt, inherit, setsid, close_others);
  CAMLlocal1(v);
  fdkml_check_strings(argv, "fdk_spawn");
  if (Is_some(cwd_opt)) fdkml_check_string(Some_val(cwd_opt), "fdk_actions_chdir");
  size_t n = 0, m = 0;
  for (value l = argv; l != Val_emptylist; l = Field(l, 1)) n++;
  for (value l = inherit; l != Val_emptylist; l = Field(l, 1)) m++;
  char **args = caml_stat_alloc((n + 1) * sizeof *args);
  size_t i = 0;
  for (value l = argv; l != Val_emptylist; l = Field(l, 1)) args[i++] = caml_stat_strdup(String_val(Field(l, 0)));
  args[n] = NULL;
  int *dsts = caml_stat_alloc((m + 1) * sizeof *dsts);
  fdk_fd **srcs = caml_stat_alloc((m + 1) * sizeof *srcs);
  i = 0;
  for (value l = inherit; l != Val_emptylist; l = Field(l, 1), i++) {
    dsts[i] = Int_val(Field(Field(l, 0), 0));
    srcs[i] = Fd_val(Field(Field(l, 0), 1));
  }
  char *cwd = Is_some(cwd_opt) ? caml_stat_strdup(String_val(Some_val(cwd_opt))) : NULL;
  int want_setsid = Bool_val(setsid), want_close = Bool_val(close_others);
  fdk_actions *a = NULL;
  fdk_process *proc = NULL;
  const char *failed = NULL;
  caml_release_runtime_system();
  int r = fdk_actions_new(&a);
  if (r < 0) failed = "fdk_actions_new";
  if (!failed && cwd && (r = fdk_actions_chdir(a, cwd)) < 0) failed = "fdk_actions_chdir";
  for (i = 0; !failed && i < m; i++)
    if ((r = fdk_actions_inherit_fd(a, dsts[i], srcs[i], FDK_INHERIT_PRESERVE)) < 0) failed = "fdk_actions_inherit_fd";
  if (!failed && want_setsid && (r = fdk_actions_setsid(a)) < 0) failed = "fdk_actions_setsid";
  if (!failed && want_close && (r = fdk_actions_close_other_fds(a)) < 0) failed = "fdk_actions_close_other_fds";
  if (!failed && (r = fdk_actions_execvp(a, n ? args[0] : "", (const char *const *)args, NULL)) < 0)
    failed = "fdk_actions_execvp";
  if (!failed && (r = fdk_spawn(&proc, NULL, a, 0, NULL, NULL)) < 0) failed = "fdk_spawn";
  fdk_actions_free(a);
  caml_acquire_runtime_system();
  free_strings(args);
  caml_stat_free(dsts);
  caml_stat_free(srcs);
  caml_stat_free(cwd);
  if (failed) fdkml_check(r, failed);
  v = caml_alloc_custom(&proc_ops, sizeof proc, 0, 1);
  Proc_val(v) = proc;
  CAMLreturn(v);
}

CAMLprim value fdkml_process_pid(value p) { return Val_int(fdk_process_pid(Proc_val(p))); }

CAMLprim value fdkml_process_signal(value p, value sig) {
  fdkml_check(fdk_process_signal(Proc_val(p), caml_convert_signal_number(Int_val(sig))), "fdk_process_signal");
  return Val_unit;
}

/* Unix.process_status of an exit status. */
static value status_value(const fdk_exit_status *st) {
  value v = caml_alloc_small(1, st->kind == FDK_EXIT_SIGNAL ? 1 : 0);
  Field(v, 0) = Val_int(st->kind == FDK_EXIT_SIGNAL ? caml_rev_convert_signal_number(st->value) : st->value);
  return v;
}

CAMLprim value fdkml_process_wait(value p) {
  CAMLparam1(p);
  fdk_exit_status st;
  fdk_process *proc = Proc_val(p);
  caml_release_runtime_system();
  int r = fdk_process_wait(proc, &st);
  caml_acquire_runtime_system();
  fdkml_check(r, "fdk_process_wait");
  CAMLreturn(status_value(&st));
}

CAMLprim value fdkml_process_try_wait(value p) {
  CAMLparam1(p);
  CAMLlocal2(some, s);
  fdk_exit_status st;
  if (fdkml_check(fdk_process_try_wait(Proc_val(p), &st), "fdk_process_try_wait") == 0) CAMLreturn(Val_none);
  s = status_value(&st);
  some = caml_alloc_small(1, 0);
  Field(some, 0) = s;
  CAMLreturn(some);
}
