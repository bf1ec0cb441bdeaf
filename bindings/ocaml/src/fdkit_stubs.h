/* SPDX-License-Identifier: MIT */
/* Shared by the OCaml binding's stubs: raising errors, the loop's state, and starting an
 * asynchronous operation whose callback re-enters OCaml with the runtime lock. */
#ifndef FDKIT_OCAML_STUBS_H
#define FDKIT_OCAML_STUBS_H

#define CAML_NAME_SPACE
#include <caml/alloc.h>
#include <caml/callback.h>
#include <caml/custom.h>
#include <caml/fail.h>
#include <caml/memory.h>
#include <caml/mlvalues.h>
#include <caml/signals.h>
#include <caml/threads.h>
#include <caml/unixsupport.h>
#include <fdkit.h>

/* Raises Unix.Unix_error (error, call, detail) when result is negative (Common.Cancelled
 * (call, detail) for ECANCELED); returns it. */
int64_t fdkml_check(int64_t result, const char *call);
/* Raises for a failed start whose detail was copied before anything else ran. */
void fdkml_raise(int64_t result, const char *call, value detail);
/* Records, for Common.last_error_is_escape, whether a failure is a refused escape. Every
 * failure the binding raises or delivers goes through it. */
void fdkml_note_failure(int64_t result);

/* A loop and the first exception a callback raised during a run. */
struct fdkml_loop {
  fdk_loop *raw;           /* NULL once closed */
  fdk_loop_remote *remote; /* what Loop.post uses: outlives the loop; dropped by the finalizer */
  value exn;               /* generational global root; Val_unit when none */
};
struct fdkml_loop *fdkml_loop_val(value v); /* raises Invalid_argument once closed */

/* The state of one pending operation: its OCaml callback, what it must keep alive (a
 * buffer, a handle) and the op cell shared with the OCaml Loop.op value. */
struct fdkml_pending;
struct fdkml_pending *fdkml_pending_new(value loop, value callback, value keep);
/* Finishes a start: result is what the C *_async call returned. Raises (and frees the
 * pending state) when it failed; otherwise returns the Loop.op value. */
value fdkml_started(struct fdkml_pending *p, int result, fdk_op *op, const char *call);
/* The fdk_result_cb of every operation: calls callback (raw result, detail) with the
 * runtime lock. */
void fdkml_on_result(int64_t result, void *data);
/* What the pending state keeps alive (the keep value given to fdkml_pending_new, or set
 * later when it exists only once the C call succeeded). */
value fdkml_pending_keep(struct fdkml_pending *p);
void fdkml_pending_set_keep(struct fdkml_pending *p, value keep);
/* Drops a pending state whose operation never started (no op value was made). */
void fdkml_pending_free(struct fdkml_pending *p);
/* For callbacks that hand over a payload: calls callback (raw result, detail, payload) with
 * the runtime lock, payload being make(arg) when result >= 0 and () otherwise. */
void fdkml_complete(struct fdkml_pending *p, int64_t result, value (*make)(void *), void *arg);
/* The fdk_op of a Loop.op value, or NULL once its callback ran. */
fdk_op *fdkml_op_raw(value op);

/* A C copy of an OCaml string list, NULL-terminated (caml_stat_free each, then the array:
 * fdkml_free_strings); the count in *n when n is not NULL. */
char **fdkml_c_strings(value list, size_t *n);
void fdkml_free_strings(char **list);
/* OCaml's signal numbers (Sys.sigterm...) to the system's and back (the runtime's own
 * mapping); positive numbers pass through. */
int fdkml_signal_to_system(value sig);
int fdkml_signal_of_system(int sig);
/* The bytecode entry of a 6- or 7-argument stub fn, named fn_bc in the external. */
#define FDKML_BYTECODE6(fn)                                            \
  CAMLprim value fn##_bc(value *argv, int argc) {                      \
    (void)argc;                                                        \
    return fn(argv[0], argv[1], argv[2], argv[3], argv[4], argv[5]);   \
  }
#define FDKML_BYTECODE7(fn)                                                     \
  CAMLprim value fn##_bc(value *argv, int argc) {                               \
    (void)argc;                                                                 \
    return fn(argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6]);   \
  }

/* A two-element tuple. */
value fdkml_pair(value a, value b);

/* Refuses a string C would cut short at a NUL byte, as Unix.openfile does: raises
 * Unix.Unix_error (ENOENT, call, s). fdkml_check_strings does it for each string of a list. */
#define fdkml_check_string(s, call) caml_unix_check_path((s), (call))
void fdkml_check_strings(value list, const char *call);

/* fdk_fd handle of a Fd.t value. */
#define Fd_val(v) (*(fdk_fd **)Data_custom_val(v))
value fdkml_alloc_fd(fdk_fd *fd);
value fdkml_alloc_dir(fdk_dir *dir);
fdk_dir *fdkml_dir_of(value v);
/* Unix.process_status of an exit status. */
value fdkml_status_value(int kind, int status);

#endif
