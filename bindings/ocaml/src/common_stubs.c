/* SPDX-License-Identifier: MIT */
#include "fdkit_stubs.h"

/* Whether the last failure the binding raised or delivered on this thread was a path that
 * left its confined directory (fdk_last_error_is_escape, read right after that failure). */
static __thread int last_escape;

void fdkml_note_failure(int64_t result) { last_escape = result == -EXDEV && fdk_last_error_is_escape(); }

void fdkml_raise(int64_t result, const char *call, value detail) {
  CAMLparam1(detail);
  CAMLlocal1(name);
  if (result == -ECANCELED) {
    static const value *cancelled;
    if (!cancelled) cancelled = caml_named_value("fdkit.cancelled");
    name = caml_copy_string(call);
    caml_raise_with_args(*cancelled, 2, (value[]){name, detail});
  }
  unix_error((int)-result, (char *)call, detail);
  CAMLreturn0;
}

int64_t fdkml_check(int64_t result, const char *call) {
  if (result < 0) {
    fdkml_note_failure(result);
    fdkml_raise(result, call, caml_copy_string(fdk_last_error()));
  }
  return result;
}

CAMLprim value fdkml_version(value unit) { return Val_long(fdk_version()); }
CAMLprim value fdkml_version_string(value unit) { return caml_copy_string(fdk_version_string()); }
CAMLprim value fdkml_errname(value err) { return caml_copy_string(fdk_errname(Int_val(err))); }
CAMLprim value fdkml_strerror(value err) { return caml_copy_string(fdk_strerror(Int_val(err))); }
CAMLprim value fdkml_unix_error_of_code(value err) { return unix_error_of_code(Int_val(err)); }
CAMLprim value fdkml_ecanceled(value unit) { return unix_error_of_code(ECANCELED); }
CAMLprim value fdkml_last_error_is_escape(value unit) { return Val_bool(last_escape); }

void fdkml_check_strings(value list, const char *call) {
  for (value l = list; l != Val_emptylist; l = Field(l, 1)) fdkml_check_string(Field(l, 0), call);
}

char **fdkml_c_strings(value list, size_t *n) {
  size_t count = 0;
  for (value l = list; l != Val_emptylist; l = Field(l, 1)) count++;
  char **out = caml_stat_alloc((count + 1) * sizeof *out);
  size_t i = 0;
  for (value l = list; l != Val_emptylist; l = Field(l, 1)) out[i++] = caml_stat_strdup(String_val(Field(l, 0)));
  out[count] = NULL;
  if (n) *n = count;
  return out;
}

void fdkml_free_strings(char **list) {
  if (!list) return;
  for (char **p = list; *p; p++) caml_stat_free(*p);
  caml_stat_free(list);
}

/* The runtime's mapping; <caml/signals.h> declares it only for the runtime itself. */
extern int caml_convert_signal_number(int);
extern int caml_rev_convert_signal_number(int);

int fdkml_signal_to_system(value sig) { return caml_convert_signal_number(Int_val(sig)); }
int fdkml_signal_of_system(int sig) { return caml_rev_convert_signal_number(sig); }

value fdkml_pair(value a, value b) {
  CAMLparam2(a, b);
  CAMLlocal1(t);
  t = caml_alloc_tuple(2);
  Store_field(t, 0, a);
  Store_field(t, 1, b);
  CAMLreturn(t);
}

value fdkml_status_value(int kind, int status) {
  value v = caml_alloc_small(1, kind == FDK_EXIT_SIGNAL ? 1 : 0);
  Field(v, 0) = Val_int(kind == FDK_EXIT_SIGNAL ? fdkml_signal_of_system(status) : status);
  return v;
}
