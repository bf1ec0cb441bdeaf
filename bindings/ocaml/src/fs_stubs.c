/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "fdkit_stubs.h"

/* Each Dir.t holds one reference to an fdk_dir, dropped by the collector. */
#define Dir_val(v) (*(fdk_dir **)Data_custom_val(v))

static void dir_finalize(value v) { fdk_dir_unref(Dir_val(v)); }

static struct custom_operations dir_ops = {"fdkit.dir", dir_finalize, custom_compare_default,
                                           custom_hash_default, custom_serialize_default,
                                           custom_deserialize_default, custom_compare_ext_default,
                                           custom_fixed_length_default};

value fdkml_alloc_dir(fdk_dir *dir) {
  value v = caml_alloc_custom(&dir_ops, sizeof dir, 0, 1);
  Dir_val(v) = dir;
  return v;
}

fdk_dir *fdkml_dir_of(value v) { return Dir_val(v); }

CAMLprim value fdkml_dir_fs(value unit) { return fdkml_alloc_dir(fdk_dir_fs()); }
CAMLprim value fdkml_dir_cwd(value unit) { return fdkml_alloc_dir(fdk_dir_cwd()); }

/* Path calls copy the path to C memory and release the runtime lock while they run: the
 * OCaml string may move meanwhile. */
#define PATH_CALL(expr_with_p, call)     \
  fdkml_check_string(path, call);        \
  char *p = caml_stat_strdup(String_val(path)); \
  caml_release_runtime_system();         \
  int64_t r = (expr_with_p);             \
  caml_acquire_runtime_system();         \
  caml_stat_free(p);                     \
  fdkml_check(r, call)

CAMLprim value fdkml_dir_open(value base, value path) {
  CAMLparam2(base, path);
  fdk_dir *out, *b = Dir_val(base);
  PATH_CALL(fdk_dir_open(&out, b, p), "fdk_dir_open");
  CAMLreturn(fdkml_alloc_dir(out));
}

CAMLprim value fdkml_openat(value dir, value path, value flags, value mode) {
  CAMLparam4(dir, path, flags, mode);
  fdk_fd *out;
  fdk_dir *d = Dir_val(dir);
  unsigned f = Int_val(flags), m = Int_val(mode);
  PATH_CALL(fdk_openat(&out, d, p, f, m), "fdk_openat");
  CAMLreturn(fdkml_alloc_fd(out));
}

CAMLprim value fdkml_mkdirat(value dir, value path, value mode) {
  CAMLparam3(dir, path, mode);
  fdk_dir *d = Dir_val(dir);
  unsigned m = Int_val(mode);
  PATH_CALL(fdk_mkdirat(d, p, m), "fdk_mkdirat");
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_unlinkat(value dir, value path) {
  CAMLparam2(dir, path);
  fdk_dir *d = Dir_val(dir);
  PATH_CALL(fdk_unlinkat(d, p), "fdk_unlinkat");
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_rmdirat(value dir, value path) {
  CAMLparam2(dir, path);
  fdk_dir *d = Dir_val(dir);
  PATH_CALL(fdk_rmdirat(d, p), "fdk_rmdirat");
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_symlinkat(value target, value dir, value path) {
  CAMLparam3(target, dir, path);
  fdk_dir *d = Dir_val(dir);
  fdkml_check_string(target, "fdk_symlinkat");
  fdkml_check_string(path, "fdk_symlinkat");
  char *t = caml_stat_strdup(String_val(target)), *p = caml_stat_strdup(String_val(path));
  caml_release_runtime_system();
  int r = fdk_symlinkat(t, d, p);
  caml_acquire_runtime_system();
  caml_stat_free(t);
  caml_stat_free(p);
  fdkml_check(r, "fdk_symlinkat");
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_readlinkat(value dir, value path) {
  CAMLparam2(dir, path);
  CAMLlocal1(s);
  fdk_dir *d = Dir_val(dir);
  char *text;
  PATH_CALL(fdk_readlinkat(&text, d, p), "fdk_readlinkat");
  s = caml_alloc_initialized_string(r, text);
  fdk_free(text);
  CAMLreturn(s);
}

/* (kind, size, perm): kind is fdkit's FDK_KIND_* value. */
CAMLprim value fdkml_statat(value dir, value path, value follow) {
  CAMLparam3(dir, path, follow);
  CAMLlocal1(t);
  fdk_stat *st;
  fdkml_check_string(path, "fdk_statat");
  fdkml_check(fdk_stat_new(&st), "fdk_stat_new");
  fdk_dir *d = Dir_val(dir);
  int fl = Bool_val(follow);
  char *p = caml_stat_strdup(String_val(path));
  caml_release_runtime_system();
  int r = fdk_statat(st, d, p, fl);
  caml_acquire_runtime_system();
  caml_stat_free(p);
  if (r < 0) {
    fdk_stat_free(st);
    fdkml_check(r, "fdk_statat");
  }
  t = caml_alloc_tuple(3);
  Store_field(t, 0, Val_int(fdk_stat_kind(st)));
  Store_field(t, 1, caml_copy_int64(fdk_stat_size(st)));
  Store_field(t, 2, Val_int(fdk_stat_perm(st)));
  fdk_stat_free(st);
  CAMLreturn(t);
}

CAMLprim value fdkml_readdir(value dir, value path) {
  CAMLparam2(dir, path);
  CAMLlocal3(list, cell, name);
  fdk_dirents *ents;
  fdk_dir *d = Dir_val(dir);
  PATH_CALL(fdk_readdir(&ents, d, p), "fdk_readdir");
  list = Val_emptylist;
  for (size_t i = fdk_dirents_count(ents); i-- > 0;) {
    name = caml_copy_string(fdk_dirents_name(ents, i));
    cell = caml_alloc_small(2, 0);
    Field(cell, 0) = name;
    Field(cell, 1) = list;
    list = cell;
  }
  fdk_dirents_free(ents);
  CAMLreturn(list);
}
