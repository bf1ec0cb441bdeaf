/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "fdkit_stubs.h"

/* Shared by the pending state and the OCaml Loop.op value; freed when both let go. Both
 * are touched only with the runtime lock held. */
struct op_cell {
  fdk_op *raw; /* NULL once the callback ran */
  int refs;
};

struct fdkml_pending {
  struct fdkml_loop *loop;
  struct op_cell *cell;
  value callback; /* generational global roots */
  value keep;
};

static void cell_unref(struct op_cell *c) {
  if (--c->refs == 0) free(c);
}

#define Loop_state(v) (*(struct fdkml_loop **)Data_custom_val(v))
#define Op_cell(v) (*(struct op_cell **)Data_custom_val(v))

/* A loop left open when collected is leaked: freeing it would run callbacks from the GC. */
static void loop_finalize(value v) {
  struct fdkml_loop *l = Loop_state(v);
  if (l->raw) return;
  fdk_loop_remote_unref(l->remote);
  caml_remove_generational_global_root(&l->exn);
  free(l);
}

static struct custom_operations loop_ops = {"fdkit.loop", loop_finalize, custom_compare_default,
                                            custom_hash_default, custom_serialize_default,
                                            custom_deserialize_default, custom_compare_ext_default,
                                            custom_fixed_length_default};

static void op_finalize(value v) { cell_unref(Op_cell(v)); }

static struct custom_operations op_ops = {"fdkit.op", op_finalize, custom_compare_default,
                                          custom_hash_default, custom_serialize_default,
                                          custom_deserialize_default, custom_compare_ext_default,
                                          custom_fixed_length_default};

struct fdkml_loop *fdkml_loop_val(value v) {
  struct fdkml_loop *l = Loop_state(v);
  if (!l->raw) caml_invalid_argument("Fdkit.Loop: the loop is closed");
  return l;
}

CAMLprim value fdkml_loop_new(value unit) {
  CAMLparam1(unit);
  CAMLlocal1(v);
  fdk_loop *raw;
  fdk_loop_remote *remote;
  fdkml_check(fdk_loop_new(&raw), "fdk_loop_new");
  int r = fdk_loop_remote_new(&remote, raw);
  if (r < 0) {
    value detail = caml_copy_string(fdk_last_error());
    fdk_loop_free(raw);
    fdkml_raise(r, "fdk_loop_remote_new", detail);
  }
  struct fdkml_loop *l = malloc(sizeof *l);
  if (!l) {
    fdk_loop_remote_unref(remote);
    fdk_loop_free(raw);
    caml_raise_out_of_memory();
  }
  l->raw = raw;
  l->remote = remote;
  l->exn = Val_unit;
  caml_register_generational_global_root(&l->exn);
  v = caml_alloc_custom(&loop_ops, sizeof l, 0, 1);
  Loop_state(v) = l;
  CAMLreturn(v);
}

/* Takes the exception a callback raised and raises it. */
static void raise_caught(struct fdkml_loop *l) {
  value exn = l->exn;
  if (exn == Val_unit) return;
  caml_modify_generational_global_root(&l->exn, Val_unit);
  caml_raise(exn);
}

/* Callbacks run during free (with ECANCELED): the runtime lock is released meanwhile. */
CAMLprim value fdkml_loop_free(value v) {
  CAMLparam1(v);
  struct fdkml_loop *l = Loop_state(v);
  if (!l->raw) CAMLreturn(Val_unit);
  caml_release_runtime_system();
  int r = fdk_loop_free(l->raw);
  caml_acquire_runtime_system();
  fdkml_check(r, "fdk_loop_free");
  l->raw = NULL;
  caml_modify_generational_global_root(&l->exn, Val_unit);
  caml_process_pending_actions(); /* signal handlers deferred by the callbacks */
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_loop_run(value v, value mode) {
  CAMLparam2(v, mode);
  struct fdkml_loop *l = fdkml_loop_val(v);
  caml_release_runtime_system();
  int r = fdk_loop_run(l->raw, Int_val(mode));
  caml_acquire_runtime_system();
  raise_caught(l);
  caml_process_pending_actions(); /* signal handlers deferred by the callbacks */
  CAMLreturn(Val_bool(fdkml_check(r, "fdk_loop_run") > 0));
}

CAMLprim value fdkml_loop_stop(value v) {
  fdk_loop_stop(fdkml_loop_val(v)->raw);
  return Val_unit;
}

CAMLprim value fdkml_loop_backend_fd(value v) {
  return Val_int(fdkml_check(fdk_loop_backend_fd(fdkml_loop_val(v)->raw), "fdk_loop_backend_fd"));
}

CAMLprim value fdkml_loop_backend_timeout(value v) {
  return Val_int(fdk_loop_backend_timeout(fdkml_loop_val(v)->raw));
}

static struct fdkml_pending *pending_new(struct fdkml_loop *l, value callback, value keep) {
  struct fdkml_pending *p = malloc(sizeof *p);
  struct op_cell *c = malloc(sizeof *c);
  if (!p || !c) {
    free(p);
    free(c);
    caml_raise_out_of_memory();
  }
  c->raw = NULL;
  c->refs = 1;
  p->loop = l;
  p->cell = c;
  p->callback = callback;
  p->keep = keep;
  caml_register_generational_global_root(&p->callback);
  caml_register_generational_global_root(&p->keep);
  return p;
}

struct fdkml_pending *fdkml_pending_new(value loop, value callback, value keep) {
  return pending_new(fdkml_loop_val(loop), callback, keep);
}

static void pending_free(struct fdkml_pending *p) {
  caml_remove_generational_global_root(&p->callback);
  caml_remove_generational_global_root(&p->keep);
  cell_unref(p->cell);
  free(p);
}

value fdkml_started(struct fdkml_pending *p, int result, fdk_op *op, const char *call) {
  CAMLparam0();
  CAMLlocal1(v);
  if (result < 0) {
    fdkml_note_failure(result);
    value detail = caml_copy_string(fdk_last_error());
    pending_free(p);
    fdkml_raise(result, call, detail);
  }
  p->cell->raw = op;
  p->cell->refs++;
  v = caml_alloc_custom(&op_ops, sizeof p->cell, 0, 1);
  Op_cell(v) = p->cell;
  CAMLreturn(v);
}

/* Runs an OCaml callback from the loop: an exception is kept for Loop.run, and stops it,
 * instead of unwinding through C. */
static void deliver(struct fdkml_pending *p, value result) {
  if (Is_exception_result(result)) {
    if (p->loop->exn == Val_unit) caml_modify_generational_global_root(&p->loop->exn, Extract_exception(result));
    fdk_loop_stop(p->loop->raw);
  }
  pending_free(p);
}

/* Gives the runtime lock back at the end of a callback without running pending signal
 * handlers: one that raises would unwind through fdkit's frames and leave the loop marked
 * running. Loop.run and Loop.close run them once fdkit has returned. */
static void release_from_callback(void) { caml_enter_blocking_section_no_pending(); }

void fdkml_on_result(int64_t result, void *data) {
  struct fdkml_pending *p = data;
  caml_acquire_runtime_system();
  p->cell->raw = NULL;
  fdkml_note_failure(result);
  value detail = caml_copy_string(result < 0 ? fdk_last_error() : "");
  deliver(p, caml_callback2_exn(p->callback, Val_long(result), detail));
  release_from_callback();
}

static value call_with_payload(struct fdkml_pending *p, int64_t result, value (*make)(void *), void *arg) {
  CAMLparam0();
  CAMLlocal2(detail, payload);
  detail = caml_copy_string(result < 0 ? fdk_last_error() : "");
  payload = result >= 0 ? make(arg) : Val_unit;
  CAMLreturn(caml_callback3_exn(p->callback, Val_long(result), detail, payload));
}

void fdkml_complete(struct fdkml_pending *p, int64_t result, value (*make)(void *), void *arg) {
  caml_acquire_runtime_system();
  p->cell->raw = NULL;
  fdkml_note_failure(result);
  deliver(p, call_with_payload(p, result, make, arg));
  release_from_callback();
}

value fdkml_pending_keep(struct fdkml_pending *p) { return p->keep; }
void fdkml_pending_set_keep(struct fdkml_pending *p, value keep) { caml_modify_generational_global_root(&p->keep, keep); }
void fdkml_pending_free(struct fdkml_pending *p) { pending_free(p); }

fdk_op *fdkml_op_raw(value op) { return Op_cell(op)->raw; }

static void on_post(void *data) {
  struct fdkml_pending *p = data;
  caml_acquire_runtime_system();
  deliver(p, caml_callback_exn(p->callback, Val_unit));
  release_from_callback();
}

/* Safe from any OCaml thread, also while another closes the loop (its fdk_loop_free runs
 * without the runtime lock): the post goes through the remote, which outlives the loop and
 * answers ESHUTDOWN once the loop is going. A post that is accepted runs before the loop is
 * freed, so on_post may use p->loop. */
static value post_through(fdk_loop_remote *remote, struct fdkml_loop *l, value fn) {
  CAMLparam1(fn);
  struct fdkml_pending *p = pending_new(l, fn, Val_unit);
  int r = fdk_loop_remote_post(remote, on_post, p);
  if (r < 0) {
    fdkml_note_failure(r);
    value detail = caml_copy_string(fdk_last_error());
    pending_free(p);
    fdkml_raise(r, "fdk_loop_remote_post", detail);
  }
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_loop_post(value loop, value fn) {
  struct fdkml_loop *l = Loop_state(loop);
  return post_through(l->remote, l, fn);
}

/* A Loop.remote: its own reference to the loop's remote and the loop's state, which
 * on_post uses only for posts the remote accepted (those run before the loop is freed). */
struct remote_box {
  fdk_loop_remote *remote;
  struct fdkml_loop *loop;
};
#define Remote_val(v) ((struct remote_box *)Data_custom_val(v))

static void remote_finalize(value v) { fdk_loop_remote_unref(Remote_val(v)->remote); }

static struct custom_operations remote_ops = {"fdkit.loop_remote", remote_finalize, custom_compare_default,
                                              custom_hash_default, custom_serialize_default,
                                              custom_deserialize_default, custom_compare_ext_default,
                                              custom_fixed_length_default};

CAMLprim value fdkml_loop_remote(value loop) {
  struct fdkml_loop *l = fdkml_loop_val(loop);
  value v = caml_alloc_custom(&remote_ops, sizeof(struct remote_box), 0, 1);
  Remote_val(v)->remote = fdk_loop_remote_ref(l->remote);
  Remote_val(v)->loop = l;
  return v;
}

CAMLprim value fdkml_remote_post(value remote, value fn) {
  return post_through(Remote_val(remote)->remote, Remote_val(remote)->loop, fn);
}

CAMLprim value fdkml_op_pending(value op) { return Val_bool(Op_cell(op)->raw != NULL); }

CAMLprim value fdkml_op_cancel(value op) {
  fdk_op *raw = Op_cell(op)->raw;
  return Val_bool(raw && fdk_op_cancel(raw) == 0);
}
