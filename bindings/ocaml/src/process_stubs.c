/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "fdkit_stubs.h"

/* Each Process.t owns its fdk_process; the collector frees it. As with Unix.create_process,
 * collecting the handle leaves the child running (fdk_process_detach: fdkit reaps it when it
 * exits: fdkit sweeps its list of detached children at later spawns and waits, and
 * Process.reap_detached sweeps it on demand).
 * A child spawned on a loop belongs to that loop's thread, while the collector may run on
 * any: its handle is detached and freed on the loop (posted through the loop's remote), or
 * at once when the loop is already gone. */
struct proc_box {
  fdk_process *proc;
  fdk_loop_remote *remote; /* NULL without a loop */
};
#define Proc_box(v) ((struct proc_box *)Data_custom_val(v))
#define Proc_val(v) (Proc_box(v)->proc)

static void detach_and_free(void *proc) {
  fdk_process_detach(proc);
  fdk_process_free(proc);
}

static void proc_finalize(value v) {
  struct proc_box *b = Proc_box(v);
  if (!b->remote || fdk_loop_remote_post(b->remote, detach_and_free, b->proc) < 0) detach_and_free(b->proc);
  fdk_loop_remote_unref(b->remote);
}

static struct custom_operations proc_ops = {"fdkit.process", proc_finalize, custom_compare_default,
                                            custom_hash_default, custom_serialize_default,
                                            custom_deserialize_default, custom_compare_ext_default,
                                            custom_fixed_length_default};

#include <sys/resource.h>

/* Process.resource constructors, in order. */
static const int resources[] = {RLIMIT_CPU,   RLIMIT_FSIZE, RLIMIT_DATA,  RLIMIT_STACK,  RLIMIT_CORE,
                                RLIMIT_NOFILE, RLIMIT_AS,   RLIMIT_NPROC, RLIMIT_MEMLOCK};

static uint64_t rlim_of(value v) { return Long_val(v) == Max_long || Long_val(v) < 0 ? FDK_RLIM_INFINITY : (uint64_t)Long_val(v); }

/* Adds one Process.action (its constructor tags are in the order of the type). */
static int add_action(fdk_actions *a, value act, const char **call) {
  if (Is_long(act)) {
    switch (Int_val(act)) {
      case 0: *call = "fdk_actions_setsid"; return fdk_actions_setsid(a);
      case 1: *call = "fdk_actions_no_new_privs"; return fdk_actions_no_new_privs(a);
      default: *call = "fdk_actions_close_other_fds"; return fdk_actions_close_other_fds(a);
    }
  }
  value x = Field(act, 0);
  switch (Tag_val(act)) {
    case 0: *call = "fdk_actions_chdir"; return fdk_actions_chdir(a, String_val(x));
    case 1: *call = "fdk_actions_fchdir"; return fdk_actions_fchdir(a, Fd_val(x));
    case 2:
      *call = "fdk_actions_inherit_fd";
      return fdk_actions_inherit_fd(a, Int_val(x), Fd_val(Field(act, 1)), Int_val(Field(act, 2)));
    case 3:
      *call = "fdk_actions_inherit_raw";
      return fdk_actions_inherit_raw(a, Int_val(x), Int_val(Field(act, 1)), Int_val(Field(act, 2)));
    case 4: *call = "fdk_actions_setpgid"; return fdk_actions_setpgid(a, Int_val(x));
    case 5: *call = "fdk_actions_login_tty"; return fdk_actions_login_tty(a, Fd_val(x));
    case 6: *call = "fdk_actions_setuid"; return fdk_actions_setuid(a, (uint32_t)Long_val(x));
    case 7: *call = "fdk_actions_setgid"; return fdk_actions_setgid(a, (uint32_t)Long_val(x));
    case 8: {
      *call = "fdk_actions_setgroups";
      size_t n = 0;
      for (value l = x; l != Val_emptylist; l = Field(l, 1)) n++;
      uint32_t *gids = caml_stat_alloc((n + 1) * sizeof *gids);
      size_t i = 0;
      for (value l = x; l != Val_emptylist; l = Field(l, 1)) gids[i++] = (uint32_t)Long_val(Field(l, 0));
      int r = fdk_actions_setgroups(a, n, gids);
      caml_stat_free(gids);
      return r;
    }
    case 9: *call = "fdk_actions_umask"; return fdk_actions_umask(a, (uint32_t)Int_val(x));
    case 10:
      *call = "fdk_actions_rlimit";
      return fdk_actions_rlimit(a, resources[Int_val(x)], rlim_of(Field(act, 1)), rlim_of(Field(act, 2)));
    case 11: *call = "fdk_actions_pdeathsig"; return fdk_actions_pdeathsig(a, fdkml_signal_to_system(x));
    case 12: *call = "fdk_actions_signal_default"; return fdk_actions_signal_default(a, fdkml_signal_to_system(x));
    default: *call = "fdk_actions_signal_ignore"; return fdk_actions_signal_ignore(a, fdkml_signal_to_system(x));
  }
}

/* Unix.process_status option of a child that exited: reaped here. */
static value exit_status(void *proc) {
  CAMLparam0();
  CAMLlocal2(some, st);
  fdk_exit_status status;
  if (fdk_process_try_wait(proc, &status) != 1) CAMLreturn(Val_none);
  st = fdkml_status_value(status.kind, status.value);
  some = caml_alloc(1, 0);
  Store_field(some, 0, st);
  CAMLreturn(some);
}

static void on_exit_cb(fdk_process *proc, int result, void *data) { fdkml_complete(data, result, exit_status, proc); }

/* spawn actions argv env_opt program_opt backend on_exit_opt: the list is built with the
 * runtime lock held (every adder copies or references what it is given and never blocks),
 * the child spawned without it. on_exit_opt is Some (loop, callback): the pending state
 * keeps the process value (and so the child's handle) until the callback ran. */
CAMLprim value fdkml_spawn(value actions, value argv, value env_opt, value program_opt, value backend,
                           value on_exit) {
  CAMLparam5(actions, argv, env_opt, program_opt, backend);
  CAMLxparam1(on_exit);
  CAMLlocal1(v);
  struct fdkml_pending *pend = NULL;
  fdk_loop *loop = NULL;
  fdk_loop_remote *remote = NULL;
  fdkml_check_strings(argv, "fdk_spawn");
  if (Is_some(env_opt)) fdkml_check_strings(Some_val(env_opt), "fdk_actions_execve");
  if (Is_some(program_opt)) fdkml_check_string(Some_val(program_opt), "fdk_actions_execve");
  for (value l = actions; l != Val_emptylist; l = Field(l, 1))
    if (Is_block(Field(l, 0)) && Tag_val(Field(l, 0)) == 0) fdkml_check_string(Field(Field(l, 0), 0), "fdk_actions_chdir");
  if (Is_some(on_exit)) fdkml_loop_val(Field(Some_val(on_exit), 0)); /* raises for a closed loop */
  fdk_actions *a = NULL;
  fdkml_check(fdk_actions_new(&a), "fdk_actions_new");
  const char *call = "fdk_actions_new";
  int r = 0;
  for (value l = actions; r >= 0 && l != Val_emptylist; l = Field(l, 1)) r = add_action(a, Field(l, 0), &call);
  if (r >= 0) {
    size_t n;
    char **args = fdkml_c_strings(argv, &n);
    char **env = Is_some(env_opt) ? fdkml_c_strings(Some_val(env_opt), NULL) : NULL;
    if (Is_some(program_opt)) {
      call = "fdk_actions_execve";
      r = fdk_actions_execve(a, String_val(Some_val(program_opt)), (const char *const *)args, (const char *const *)env);
    } else {
      call = "fdk_actions_execvp";
      r = fdk_actions_execvp(a, n ? args[0] : "", (const char *const *)args, (const char *const *)env);
    }
    fdkml_free_strings(args);
    fdkml_free_strings(env);
  }
  if (r >= 0 && Is_some(on_exit)) {
    struct fdkml_loop *l = fdkml_loop_val(Field(Some_val(on_exit), 0));
    pend = fdkml_pending_new(Field(Some_val(on_exit), 0), Field(Some_val(on_exit), 1), Val_unit);
    loop = l->raw;
    remote = l->remote;
  }
  fdk_process *proc = NULL;
  if (r >= 0) {
    unsigned flags = Int_val(backend);
    call = "fdk_spawn";
    caml_release_runtime_system();
    r = fdk_spawn(&proc, loop, a, flags, pend ? on_exit_cb : NULL, pend);
    caml_acquire_runtime_system();
  }
  if (r < 0) {
    fdkml_note_failure(r);
    v = caml_copy_string(fdk_last_error());
    fdk_actions_free(a);
    if (pend) fdkml_pending_free(pend);
    fdkml_raise(r, call, v);
  }
  fdk_actions_free(a);
  v = caml_alloc_custom(&proc_ops, sizeof(struct proc_box), 0, 1);
  Proc_box(v)->proc = proc;
  Proc_box(v)->remote = remote ? fdk_loop_remote_ref(remote) : NULL;
  if (pend) fdkml_pending_set_keep(pend, v);
  CAMLreturn(v);
}
FDKML_BYTECODE6(fdkml_spawn)

CAMLprim value fdkml_process_pid(value p) { return Val_int(fdk_process_pid(Proc_val(p))); }

CAMLprim value fdkml_process_signal(value p, value sig) {
  fdkml_check(fdk_process_signal(Proc_val(p), fdkml_signal_to_system(sig)), "fdk_process_signal");
  return Val_unit;
}

CAMLprim value fdkml_process_signal_group(value p, value sig) {
  fdkml_check(fdk_process_signal_group(Proc_val(p), fdkml_signal_to_system(sig)), "fdk_process_signal_group");
  return Val_unit;
}

CAMLprim value fdkml_process_pidfd(value p) {
  return Val_int(fdkml_check(fdk_process_pidfd(Proc_val(p)), "fdk_process_pidfd"));
}

CAMLprim value fdkml_process_reap_detached(value unit) {
  return Val_int(fdkml_check(fdk_process_reap_detached(), "fdk_process_reap_detached"));
}

static value status_value(const fdk_exit_status *st) { return fdkml_status_value(st->kind, st->value); }

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
