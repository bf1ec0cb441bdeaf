/* SPDX-License-Identifier: MIT */
#include "fdkit_stubs.h"

int64_t fdkml_check(int64_t result, const char *call) {
  if (result < 0) unix_error((int)-result, (char *)call, caml_copy_string(fdk_last_error()));
  return result;
}

CAMLprim value fdkml_version(value unit) { return Val_long(fdk_version()); }
CAMLprim value fdkml_version_string(value unit) { return caml_copy_string(fdk_version_string()); }
CAMLprim value fdkml_errname(value err) { return caml_copy_string(fdk_errname(Int_val(err))); }
CAMLprim value fdkml_unix_error_of_code(value err) { return unix_error_of_code(Int_val(err)); }
CAMLprim value fdkml_ecanceled(value unit) { return unix_error_of_code(ECANCELED); }

void fdkml_check_strings(value list, const char *call) {
  for (value l = list; l != Val_emptylist; l = Field(l, 1)) fdkml_check_string(Field(l, 0), call);
}
