/* SPDX-License-Identifier: MIT */
#include <errno.h>
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

/* Dir.kind's constructors are in FDK_KIND_* order. */
static value kind_value(int kind) { return Val_int(kind >= FDK_KIND_UNKNOWN && kind <= FDK_KIND_SOCKET ? kind : 0); }

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

static double seconds(int (*get)(const fdk_stat *, int64_t *, int64_t *), const fdk_stat *st, int *ok) {
  int64_t sec = 0, nsec = 0;
  *ok = get(st, &sec, &nsec) == 0;
  return (double)sec + (double)nsec / 1e9;
}

/* A Dir.stat record (its fields in order). */
static value stat_record(const fdk_stat *st) {
  CAMLparam0();
  CAMLlocal2(t, b);
  int ok;
  t = caml_alloc_tuple(16);
  Store_field(t, 0, kind_value(fdk_stat_kind(st)));
  Store_field(t, 1, caml_copy_int64(fdk_stat_size(st)));
  Store_field(t, 2, Val_int(fdk_stat_perm(st)));
  Store_field(t, 3, Val_int(fdk_stat_mode(st)));
  Store_field(t, 4, Val_long(fdk_stat_ino(st)));
  Store_field(t, 5, Val_long(fdk_stat_dev(st)));
  Store_field(t, 6, Val_long(fdk_stat_rdev(st)));
  Store_field(t, 7, Val_long(fdk_stat_nlink(st)));
  Store_field(t, 8, Val_long(fdk_stat_uid(st)));
  Store_field(t, 9, Val_long(fdk_stat_gid(st)));
  Store_field(t, 10, Val_long(fdk_stat_blocks(st)));
  Store_field(t, 11, Val_long(fdk_stat_blksize(st)));
  Store_field(t, 12, caml_copy_double(seconds(fdk_stat_atime, st, &ok)));
  Store_field(t, 13, caml_copy_double(seconds(fdk_stat_mtime, st, &ok)));
  Store_field(t, 14, caml_copy_double(seconds(fdk_stat_ctime, st, &ok)));
  double birth = seconds(fdk_stat_btime, st, &ok);
  if (ok) {
    b = caml_alloc(1, 0);
    Store_field(b, 0, caml_copy_double(birth));
    Store_field(t, 15, b);
  } else {
    Store_field(t, 15, Val_none);
  }
  CAMLreturn(t);
}

/* A Dir.stat_buffer: an fdk_stat owned by an OCaml value, which a pending statat_async or
 * fstat_async keeps alive until its callback ran. */
#define Stat_val(v) (*(fdk_stat **)Data_custom_val(v))

static void stat_finalize(value v) { fdk_stat_free(Stat_val(v)); }

static struct custom_operations stat_ops = {"fdkit.stat", stat_finalize, custom_compare_default,
                                            custom_hash_default, custom_serialize_default,
                                            custom_deserialize_default, custom_compare_ext_default,
                                            custom_fixed_length_default};

CAMLprim value fdkml_stat_buffer(value unit) {
  fdk_stat *st;
  fdkml_check(fdk_stat_new(&st), "fdk_stat_new");
  value v = caml_alloc_custom(&stat_ops, sizeof st, 0, 1);
  Stat_val(v) = st;
  return v;
}

CAMLprim value fdkml_stat_read(value buf) { return stat_record(Stat_val(buf)); }

CAMLprim value fdkml_statat(value buf, value dir, value path, value follow) {
  CAMLparam4(buf, dir, path, follow);
  fdk_dir *d = Dir_val(dir);
  fdk_stat *st = Stat_val(buf);
  int fl = Bool_val(follow);
  PATH_CALL(fdk_statat(st, d, p, fl), "fdk_statat");
  CAMLreturn(stat_record(st));
}

CAMLprim value fdkml_fstat(value buf, value vfd) {
  CAMLparam2(buf, vfd);
  fdk_stat *st = Stat_val(buf);
  fdk_fd *fd = Fd_val(vfd);
  caml_release_runtime_system();
  int r = fdk_fstat(st, fd);
  caml_acquire_runtime_system();
  fdkml_check(r, "fdk_fstat");
  CAMLreturn(stat_record(st));
}

/* (name, kind) pairs of an entry list, in its order. */
static value entries_list(void *arg) {
  CAMLparam0();
  CAMLlocal3(list, cell, pair);
  fdk_dirents *ents = arg;
  list = Val_emptylist;
  for (size_t i = fdk_dirents_count(ents); i-- > 0;) {
    pair = fdkml_pair(caml_copy_string(fdk_dirents_name(ents, i)), kind_value(fdk_dirents_kind(ents, i)));
    cell = caml_alloc_small(2, 0);
    Field(cell, 0) = pair;
    Field(cell, 1) = list;
    list = cell;
  }
  CAMLreturn(list);
}

CAMLprim value fdkml_readdir(value dir, value path) {
  CAMLparam2(dir, path);
  CAMLlocal1(list);
  fdk_dirents *ents;
  fdk_dir *d = Dir_val(dir);
  PATH_CALL(fdk_readdir(&ents, d, p), "fdk_readdir");
  list = entries_list(ents);
  fdk_dirents_free(ents);
  CAMLreturn(list);
}

CAMLprim value fdkml_dir_of_fd(value vfd) {
  fdk_dir *d;
  fdkml_check(fdk_dir_from_fd(&d, Fd_val(vfd)), "fdk_dir_from_fd");
  return fdkml_alloc_dir(d);
}

CAMLprim value fdkml_dir_share(value dir) { return fdkml_alloc_dir(fdk_dir_ref(Dir_val(dir))); }

/* Some Fd.t with a reference of its own, or None for the singletons. */
CAMLprim value fdkml_dir_handle(value dir) {
  CAMLparam1(dir);
  CAMLlocal2(some, h);
  fdk_fd *fd = fdk_dir_handle(Dir_val(dir));
  if (!fd) CAMLreturn(Val_none);
  h = fdkml_alloc_fd(fdk_fd_ref(fd));
  some = caml_alloc(1, 0);
  Store_field(some, 0, h);
  CAMLreturn(some);
}

CAMLprim value fdkml_open_flags_supported(value flags) { return Val_bool(fdk_open_flags_supported(Int_val(flags))); }
CAMLprim value fdkml_resolve_backend(value unit) { return Val_int(fdk_resolve_backend()); }
CAMLprim value fdkml_resolve_set_backend(value backend) {
  fdkml_check(fdk_resolve_set_backend(Int_val(backend)), "fdk_resolve_set_backend");
  return Val_unit;
}

/* Calls on two paths: both copied to C memory, the call made without the runtime lock. */
#define TWO_PATH_CALL(expr_with_a_b, call)                                  \
  fdkml_check_string(old_path, call);                                       \
  fdkml_check_string(new_path, call);                                       \
  char *a = caml_stat_strdup(String_val(old_path)), *b = caml_stat_strdup(String_val(new_path)); \
  caml_release_runtime_system();                                            \
  int r = (expr_with_a_b);                                                  \
  caml_acquire_runtime_system();                                            \
  caml_stat_free(a);                                                        \
  caml_stat_free(b);                                                        \
  fdkml_check(r, call)

CAMLprim value fdkml_renameat2(value old_dir, value old_path, value new_dir, value new_path, value flags) {
  CAMLparam5(old_dir, old_path, new_dir, new_path, flags);
  fdk_dir *od = Dir_val(old_dir), *nd = Dir_val(new_dir);
  unsigned f = Int_val(flags);
  if (f) {
    TWO_PATH_CALL(fdk_renameat2(od, a, nd, b, f), "fdk_renameat2");
  } else {
    TWO_PATH_CALL(fdk_renameat(od, a, nd, b), "fdk_renameat");
  }
  CAMLreturn(Val_unit);
}


CAMLprim value fdkml_chmodat(value dir, value path, value mode, value follow) {
  CAMLparam4(dir, path, mode, follow);
  fdk_dir *d = Dir_val(dir);
  unsigned m = Int_val(mode), f = Bool_val(follow) ? FDK_FOLLOW : 0;
  PATH_CALL(fdk_chmodat(d, p, m, f), "fdk_chmodat");
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_chownat(value dir, value path, value uid, value gid, value follow) {
  CAMLparam5(dir, path, uid, gid, follow);
  fdk_dir *d = Dir_val(dir);
  int64_t u = Long_val(uid), g = Long_val(gid);
  unsigned f = Bool_val(follow) ? FDK_FOLLOW : 0;
  PATH_CALL(fdk_chownat(d, p, u, g, f), "fdk_chownat");
  CAMLreturn(Val_unit);
}

/* times: (atime_sec, atime_nsec, mtime_sec, mtime_nsec), FDK_UTIME_* in a nsec field. */
CAMLprim value fdkml_utimensat(value dir, value path, value times, value follow) {
  CAMLparam4(dir, path, times, follow);
  fdk_dir *d = Dir_val(dir);
  int64_t as = Long_val(Field(times, 0)), an = Long_val(Field(times, 1));
  int64_t ms = Long_val(Field(times, 2)), mn = Long_val(Field(times, 3));
  unsigned f = Bool_val(follow) ? FDK_FOLLOW : 0;
  PATH_CALL(fdk_utimensat(d, p, as, an, ms, mn, f), "fdk_utimensat");
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_realpath(value dir, value path) {
  CAMLparam2(dir, path);
  CAMLlocal1(s);
  fdk_dir *d = Dir_val(dir);
  char *text;
  PATH_CALL(fdk_realpath(&text, d, p), "fdk_realpath");
  s = caml_alloc_initialized_string(r, text);
  fdk_free(text);
  CAMLreturn(s);
}

/* A Dir.iter owns its fdk_dir_iter; the collector frees one left open. */
#define Iter_val(v) (*(fdk_dir_iter **)Data_custom_val(v))

static void iter_finalize(value v) { fdk_dir_iter_free(Iter_val(v)); }

static struct custom_operations iter_ops = {"fdkit.dir_iter", iter_finalize, custom_compare_default,
                                            custom_hash_default, custom_serialize_default,
                                            custom_deserialize_default, custom_compare_ext_default,
                                            custom_fixed_length_default};

CAMLprim value fdkml_dir_iter_open(value dir, value path) {
  CAMLparam2(dir, path);
  CAMLlocal1(v);
  fdk_dir_iter *it;
  fdk_dir *d = Dir_val(dir);
  PATH_CALL(fdk_dir_iter_open(&it, d, p), "fdk_dir_iter_open");
  v = caml_alloc_custom(&iter_ops, sizeof it, 0, 1);
  Iter_val(v) = it;
  CAMLreturn(v);
}

/* Some (name, kind), or None at the end or once closed. The runtime lock stays held: an
 * iterator is not safe to share, and another thread's iter_close must not free it while
 * getdents runs. */
CAMLprim value fdkml_dir_iter_next(value iter) {
  CAMLparam1(iter);
  CAMLlocal2(some, pair);
  fdk_dir_iter *it = Iter_val(iter);
  if (!it) CAMLreturn(Val_none);
  const char *name;
  int kind;
  int r = fdk_dir_iter_next(it, &name, &kind);
  if (fdkml_check(r, "fdk_dir_iter_next") == 0) CAMLreturn(Val_none);
  pair = fdkml_pair(caml_copy_string(name), kind_value(kind));
  some = caml_alloc(1, 0);
  Store_field(some, 0, pair);
  CAMLreturn(some);
}

CAMLprim value fdkml_dir_iter_close(value iter) {
  Iter_val(iter) = fdk_dir_iter_free(Iter_val(iter));
  return Val_unit;
}

/* Asynchronous forms. fdkit copies the paths and references the dirs; the pending state
 * keeps the callback (and a stat buffer or handle) until it ran. */
#define ASYNC(keep, call_expr, call)                                     \
  struct fdkml_pending *pend = fdkml_pending_new(loop, callback, keep); \
  fdk_op *op = NULL;                                                    \
  fdk_loop *lp = fdkml_loop_val(loop)->raw;                             \
  int r = (call_expr);                                                  \
  CAMLreturn(fdkml_started(pend, r, op, call))

static value make_fd(void *fd) { return fdkml_alloc_fd(fd); }
static value make_dir(void *dir) { return fdkml_alloc_dir(dir); }

static void on_open(int result, fdk_fd *fd, void *data) { fdkml_complete(data, result, make_fd, fd); }
static void on_dir(int result, fdk_dir *dir, void *data) { fdkml_complete(data, result, make_dir, dir); }

struct text {
  ssize_t len;
  const char *text;
};
static value make_text(void *arg) {
  struct text *t = arg;
  return caml_alloc_initialized_string(t->len, t->text);
}
static void on_text(ssize_t result, char *text, void *data) {
  struct text t = {result, text};
  fdkml_complete(data, result, make_text, &t);
  fdk_free(text);
}

static void on_dirents(int result, fdk_dirents *ents, void *data) {
  fdkml_complete(data, result, entries_list, ents);
  fdk_dirents_free(ents);
}


CAMLprim value fdkml_openat_async(value loop, value dir, value path, value flags, value mode, value callback) {
  CAMLparam5(loop, dir, path, flags, mode);
  CAMLxparam1(callback);
  fdkml_check_string(path, "fdk_openat_async");
  ASYNC(Val_unit,
        fdk_openat_async(lp, Dir_val(dir), String_val(path), Int_val(flags), Int_val(mode), on_open, pend, &op),
        "fdk_openat_async");
}
FDKML_BYTECODE6(fdkml_openat_async)

CAMLprim value fdkml_mkdirat_async(value loop, value dir, value path, value mode, value callback) {
  CAMLparam5(loop, dir, path, mode, callback);
  fdkml_check_string(path, "fdk_mkdirat_async");
  ASYNC(Val_unit, fdk_mkdirat_async(lp, Dir_val(dir), String_val(path), Int_val(mode), fdkml_on_result, pend, &op),
        "fdk_mkdirat_async");
}

CAMLprim value fdkml_unlinkat_async(value loop, value dir, value path, value callback) {
  CAMLparam4(loop, dir, path, callback);
  fdkml_check_string(path, "fdk_unlinkat_async");
  ASYNC(Val_unit, fdk_unlinkat_async(lp, Dir_val(dir), String_val(path), fdkml_on_result, pend, &op),
        "fdk_unlinkat_async");
}

CAMLprim value fdkml_rmdirat_async(value loop, value dir, value path, value callback) {
  CAMLparam4(loop, dir, path, callback);
  fdkml_check_string(path, "fdk_rmdirat_async");
  ASYNC(Val_unit, fdk_rmdirat_async(lp, Dir_val(dir), String_val(path), fdkml_on_result, pend, &op),
        "fdk_rmdirat_async");
}

/* paths: (old_dir, old_path, new_dir, new_path) */
CAMLprim value fdkml_renameat2_async(value loop, value paths, value flags, value callback) {
  CAMLparam4(loop, paths, flags, callback);
  fdkml_check_string(Field(paths, 1), "fdk_renameat_async");
  fdkml_check_string(Field(paths, 3), "fdk_renameat_async");
  fdk_dir *od = Dir_val(Field(paths, 0)), *nd = Dir_val(Field(paths, 2));
  const char *a = String_val(Field(paths, 1)), *b = String_val(Field(paths, 3));
  unsigned f = Int_val(flags);
  if (f) {
    ASYNC(Val_unit, fdk_renameat2_async(lp, od, a, nd, b, f, fdkml_on_result, pend, &op), "fdk_renameat2_async");
  } else {
    ASYNC(Val_unit, fdk_renameat_async(lp, od, a, nd, b, fdkml_on_result, pend, &op), "fdk_renameat_async");
  }
}


CAMLprim value fdkml_symlinkat_async(value loop, value target, value dir, value path, value callback) {
  CAMLparam5(loop, target, dir, path, callback);
  fdkml_check_string(target, "fdk_symlinkat_async");
  fdkml_check_string(path, "fdk_symlinkat_async");
  ASYNC(Val_unit,
        fdk_symlinkat_async(lp, String_val(target), Dir_val(dir), String_val(path), fdkml_on_result, pend, &op),
        "fdk_symlinkat_async");
}

CAMLprim value fdkml_readlinkat_async(value loop, value dir, value path, value callback) {
  CAMLparam4(loop, dir, path, callback);
  fdkml_check_string(path, "fdk_readlinkat_async");
  ASYNC(Val_unit, fdk_readlinkat_async(lp, Dir_val(dir), String_val(path), on_text, pend, &op),
        "fdk_readlinkat_async");
}

CAMLprim value fdkml_realpath_async(value loop, value dir, value path, value callback) {
  CAMLparam4(loop, dir, path, callback);
  fdkml_check_string(path, "fdk_realpath_async");
  ASYNC(Val_unit, fdk_realpath_async(lp, Dir_val(dir), String_val(path), on_text, pend, &op),
        "fdk_realpath_async");
}

CAMLprim value fdkml_readdir_async(value loop, value dir, value path, value callback) {
  CAMLparam4(loop, dir, path, callback);
  fdkml_check_string(path, "fdk_readdir_async");
  ASYNC(Val_unit, fdk_readdir_async(lp, Dir_val(dir), String_val(path), on_dirents, pend, &op),
        "fdk_readdir_async");
}

CAMLprim value fdkml_chmodat_async(value loop, value dir, value path, value mode, value follow, value callback) {
  CAMLparam5(loop, dir, path, mode, follow);
  CAMLxparam1(callback);
  fdkml_check_string(path, "fdk_chmodat_async");
  ASYNC(Val_unit,
        fdk_chmodat_async(lp, Dir_val(dir), String_val(path), Int_val(mode), Bool_val(follow) ? FDK_FOLLOW : 0,
                          fdkml_on_result, pend, &op),
        "fdk_chmodat_async");
}
FDKML_BYTECODE6(fdkml_chmodat_async)

/* ids: (uid, gid) */
CAMLprim value fdkml_chownat_async(value loop, value dir, value path, value ids, value follow, value callback) {
  CAMLparam5(loop, dir, path, ids, follow);
  CAMLxparam1(callback);
  fdkml_check_string(path, "fdk_chownat_async");
  ASYNC(Val_unit,
        fdk_chownat_async(lp, Dir_val(dir), String_val(path), Long_val(Field(ids, 0)), Long_val(Field(ids, 1)),
                          Bool_val(follow) ? FDK_FOLLOW : 0, fdkml_on_result, pend, &op),
        "fdk_chownat_async");
}
FDKML_BYTECODE6(fdkml_chownat_async)

CAMLprim value fdkml_utimensat_async(value loop, value dir, value path, value times, value follow, value callback) {
  CAMLparam5(loop, dir, path, times, follow);
  CAMLxparam1(callback);
  fdkml_check_string(path, "fdk_utimensat_async");
  ASYNC(Val_unit,
        fdk_utimensat_async(lp, Dir_val(dir), String_val(path), Long_val(Field(times, 0)), Long_val(Field(times, 1)),
                            Long_val(Field(times, 2)), Long_val(Field(times, 3)), Bool_val(follow) ? FDK_FOLLOW : 0,
                            fdkml_on_result, pend, &op),
        "fdk_utimensat_async");
}
FDKML_BYTECODE6(fdkml_utimensat_async)

/* The stat buffer stays alive in the pending state until the callback, which reads it. */
CAMLprim value fdkml_statat_async(value loop, value buf, value dir, value path, value follow, value callback) {
  CAMLparam5(loop, buf, dir, path, follow);
  CAMLxparam1(callback);
  fdkml_check_string(path, "fdk_statat_async");
  ASYNC(buf,
        fdk_statat_async(lp, Stat_val(buf), Dir_val(dir), String_val(path), Bool_val(follow), fdkml_on_result, pend,
                         &op),
        "fdk_statat_async");
}
FDKML_BYTECODE6(fdkml_statat_async)

CAMLprim value fdkml_fstat_async(value loop, value buf, value vfd, value callback) {
  CAMLparam4(loop, buf, vfd, callback);
  ASYNC(fdkml_pair(buf, vfd), fdk_fstat_async(lp, Stat_val(buf), Fd_val(vfd), fdkml_on_result, pend, &op),
        "fdk_fstat_async");
}

/* The confined calls added with scoped dirs: sync forms release the runtime lock around
 * the call as PATH_CALL does; async forms let fdkit copy the strings and value. */

CAMLprim value fdkml_dir_open2(value base, value path, value flags) {
  CAMLparam3(base, path, flags);
  fdk_dir *out, *b = Dir_val(base);
  unsigned f = Int_val(flags);
  if (f) {
    PATH_CALL(fdk_dir_open2(&out, b, p, f), "fdk_dir_open2");
  } else {
    PATH_CALL(fdk_dir_open(&out, b, p), "fdk_dir_open");
  }
  CAMLreturn(fdkml_alloc_dir(out));
}

CAMLprim value fdkml_linkat2(value old_dir, value old_path, value new_dir, value new_path, value follow) {
  CAMLparam5(old_dir, old_path, new_dir, new_path, follow);
  fdk_dir *od = Dir_val(old_dir), *nd = Dir_val(new_dir);
  if (Bool_val(follow)) {
    TWO_PATH_CALL(fdk_linkat2(od, a, nd, b, FDK_FOLLOW), "fdk_linkat2");
  } else {
    TWO_PATH_CALL(fdk_linkat(od, a, nd, b), "fdk_linkat");
  }
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_linkat_fd(value vfd, value dir, value path) {
  CAMLparam3(vfd, dir, path);
  fdk_fd *fd = Fd_val(vfd);
  fdk_dir *d = Dir_val(dir);
  PATH_CALL(fdk_linkat_fd(fd, d, p), "fdk_linkat_fd");
  CAMLreturn(Val_unit);
}

/* kind: a Dir.kind index (FDK_KIND_* order). */
CAMLprim value fdkml_mknodat(value dir, value path, value kind, value mode, value dev) {
  CAMLparam5(dir, path, kind, mode, dev);
  fdk_dir *d = Dir_val(dir);
  int k = Int_val(kind);
  unsigned m = Int_val(mode);
  uint64_t dv = Int64_val(dev);
  PATH_CALL(fdk_mknodat(d, p, k, m, dv), "fdk_mknodat");
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_mkfifoat(value dir, value path, value mode) {
  CAMLparam3(dir, path, mode);
  fdk_dir *d = Dir_val(dir);
  unsigned m = Int_val(mode);
  PATH_CALL(fdk_mkfifoat(d, p, m), "fdk_mkfifoat");
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_truncateat(value dir, value path, value length) {
  CAMLparam3(dir, path, length);
  fdk_dir *d = Dir_val(dir);
  int64_t len = Int64_val(length);
  PATH_CALL(fdk_truncateat(d, p, len), "fdk_truncateat");
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_faccessat(value dir, value path, value mode, value flags) {
  CAMLparam4(dir, path, mode, flags);
  fdk_dir *d = Dir_val(dir);
  unsigned m = Int_val(mode), f = Int_val(flags);
  PATH_CALL(fdk_faccessat(d, p, m, f), "fdk_faccessat");
  CAMLreturn(Val_unit);
}

/* Dir.enodata: the system's ENODATA, which Unix.error has no constructor for. */
CAMLprim value fdkml_enodata_code(value unit) { return Val_int(ENODATA); }

/* Attribute calls: the path and the attribute name are both copied to C memory (checked
 * first, so a refused string leaks neither copy) before the lock is released. */
#define NAMED_PATH_CALL(expr_with_p_n, call)                                        \
  fdkml_check_string(path, call);                                                   \
  fdkml_check_string(name, call);                                                   \
  char *p = caml_stat_strdup(String_val(path)), *n = caml_stat_strdup(String_val(name)); \
  caml_release_runtime_system();                                                    \
  int64_t r = (expr_with_p_n);                                                      \
  caml_acquire_runtime_system();                                                    \
  caml_stat_free(p);                                                                \
  caml_stat_free(n);                                                                \
  fdkml_check(r, call)

CAMLprim value fdkml_getxattrat(value dir, value path, value name, value flags) {
  CAMLparam4(dir, path, name, flags);
  CAMLlocal1(s);
  fdk_dir *d = Dir_val(dir);
  unsigned f = Int_val(flags);
  char *text;
  NAMED_PATH_CALL(fdk_getxattrat(&text, d, p, n, f), "fdk_getxattrat");
  s = caml_alloc_initialized_string(r, text);
  fdk_free(text);
  CAMLreturn(s);
}

CAMLprim value fdkml_setxattrat(value dir, value path, value name, value data, value flags) {
  CAMLparam5(dir, path, name, data, flags);
  fdk_dir *d = Dir_val(dir);
  unsigned f = Int_val(flags);
  size_t size = caml_string_length(data);
  /* checked before the value is copied, so a refused string leaks no copy */
  fdkml_check_string(path, "fdk_setxattrat");
  fdkml_check_string(name, "fdk_setxattrat");
  char *v = caml_stat_alloc(size + 1); /* never 0 bytes: caml_stat_alloc(0) may be NULL */
  memcpy(v, String_val(data), size);
  NAMED_PATH_CALL(fdk_setxattrat(d, p, n, v, size, f), "fdk_setxattrat");
  caml_stat_free(v);
  CAMLreturn(Val_unit);
}

/* The names as one string, each NUL-terminated (Dir.listxattr splits it). */
CAMLprim value fdkml_listxattrat(value dir, value path, value flags) {
  CAMLparam3(dir, path, flags);
  CAMLlocal1(s);
  fdk_dir *d = Dir_val(dir);
  unsigned f = Int_val(flags);
  char *text;
  PATH_CALL(fdk_listxattrat(&text, d, p, f), "fdk_listxattrat");
  s = caml_alloc_initialized_string(r, text);
  fdk_free(text);
  CAMLreturn(s);
}

CAMLprim value fdkml_removexattrat(value dir, value path, value name, value flags) {
  CAMLparam4(dir, path, name, flags);
  fdk_dir *d = Dir_val(dir);
  unsigned f = Int_val(flags);
  NAMED_PATH_CALL(fdk_removexattrat(d, p, n, f), "fdk_removexattrat");
  CAMLreturn(Val_unit);
}

CAMLprim value fdkml_dir_open2_async(value loop, value base, value path, value flags, value callback) {
  CAMLparam5(loop, base, path, flags, callback);
  fdkml_check_string(path, "fdk_dir_open2_async");
  unsigned f = Int_val(flags);
  if (f) {
    ASYNC(Val_unit, fdk_dir_open2_async(lp, Dir_val(base), String_val(path), f, on_dir, pend, &op),
          "fdk_dir_open2_async");
  } else {
    ASYNC(Val_unit, fdk_dir_open_async(lp, Dir_val(base), String_val(path), on_dir, pend, &op), "fdk_dir_open_async");
  }
}

/* paths: (old_dir, old_path, new_dir, new_path) */
CAMLprim value fdkml_linkat2_async(value loop, value paths, value follow, value callback) {
  CAMLparam4(loop, paths, follow, callback);
  fdkml_check_string(Field(paths, 1), "fdk_linkat2_async");
  fdkml_check_string(Field(paths, 3), "fdk_linkat2_async");
  fdk_dir *od = Dir_val(Field(paths, 0)), *nd = Dir_val(Field(paths, 2));
  const char *a = String_val(Field(paths, 1)), *b = String_val(Field(paths, 3));
  if (Bool_val(follow)) {
    ASYNC(Val_unit, fdk_linkat2_async(lp, od, a, nd, b, FDK_FOLLOW, fdkml_on_result, pend, &op), "fdk_linkat2_async");
  } else {
    ASYNC(Val_unit, fdk_linkat_async(lp, od, a, nd, b, fdkml_on_result, pend, &op), "fdk_linkat_async");
  }
}

/* The Fd.t stays alive in the pending state until the callback. */
CAMLprim value fdkml_linkat_fd_async(value loop, value vfd, value dir, value path, value callback) {
  CAMLparam5(loop, vfd, dir, path, callback);
  fdkml_check_string(path, "fdk_linkat_fd_async");
  ASYNC(vfd, fdk_linkat_fd_async(lp, Fd_val(vfd), Dir_val(dir), String_val(path), fdkml_on_result, pend, &op),
        "fdk_linkat_fd_async");
}

/* node: (kind index, mode, dev) */
CAMLprim value fdkml_mknodat_async(value loop, value dir, value path, value node, value callback) {
  CAMLparam5(loop, dir, path, node, callback);
  fdkml_check_string(path, "fdk_mknodat_async");
  ASYNC(Val_unit,
        fdk_mknodat_async(lp, Dir_val(dir), String_val(path), Int_val(Field(node, 0)), Int_val(Field(node, 1)),
                          Int64_val(Field(node, 2)), fdkml_on_result, pend, &op),
        "fdk_mknodat_async");
}

CAMLprim value fdkml_mkfifoat_async(value loop, value dir, value path, value mode, value callback) {
  CAMLparam5(loop, dir, path, mode, callback);
  fdkml_check_string(path, "fdk_mkfifoat_async");
  ASYNC(Val_unit, fdk_mkfifoat_async(lp, Dir_val(dir), String_val(path), Int_val(mode), fdkml_on_result, pend, &op),
        "fdk_mkfifoat_async");
}

CAMLprim value fdkml_truncateat_async(value loop, value dir, value path, value length, value callback) {
  CAMLparam5(loop, dir, path, length, callback);
  fdkml_check_string(path, "fdk_truncateat_async");
  ASYNC(Val_unit,
        fdk_truncateat_async(lp, Dir_val(dir), String_val(path), Int64_val(length), fdkml_on_result, pend, &op),
        "fdk_truncateat_async");
}

CAMLprim value fdkml_faccessat_async(value loop, value dir, value path, value mode, value flags, value callback) {
  CAMLparam5(loop, dir, path, mode, flags);
  CAMLxparam1(callback);
  fdkml_check_string(path, "fdk_faccessat_async");
  ASYNC(Val_unit,
        fdk_faccessat_async(lp, Dir_val(dir), String_val(path), Int_val(mode), Int_val(flags), fdkml_on_result, pend,
                            &op),
        "fdk_faccessat_async");
}
FDKML_BYTECODE6(fdkml_faccessat_async)

CAMLprim value fdkml_getxattrat_async(value loop, value dir, value path, value name, value flags, value callback) {
  CAMLparam5(loop, dir, path, name, flags);
  CAMLxparam1(callback);
  fdkml_check_string(path, "fdk_getxattrat_async");
  fdkml_check_string(name, "fdk_getxattrat_async");
  ASYNC(Val_unit,
        fdk_getxattrat_async(lp, Dir_val(dir), String_val(path), String_val(name), Int_val(flags), on_text, pend, &op),
        "fdk_getxattrat_async");
}
FDKML_BYTECODE6(fdkml_getxattrat_async)

/* attr: (name, value); fdkit copies both. */
CAMLprim value fdkml_setxattrat_async(value loop, value dir, value path, value attr, value flags, value callback) {
  CAMLparam5(loop, dir, path, attr, flags);
  CAMLxparam1(callback);
  fdkml_check_string(path, "fdk_setxattrat_async");
  fdkml_check_string(Field(attr, 0), "fdk_setxattrat_async");
  ASYNC(Val_unit,
        fdk_setxattrat_async(lp, Dir_val(dir), String_val(path), String_val(Field(attr, 0)),
                             String_val(Field(attr, 1)), caml_string_length(Field(attr, 1)), Int_val(flags),
                             fdkml_on_result, pend, &op),
        "fdk_setxattrat_async");
}
FDKML_BYTECODE6(fdkml_setxattrat_async)

CAMLprim value fdkml_listxattrat_async(value loop, value dir, value path, value flags, value callback) {
  CAMLparam5(loop, dir, path, flags, callback);
  fdkml_check_string(path, "fdk_listxattrat_async");
  ASYNC(Val_unit, fdk_listxattrat_async(lp, Dir_val(dir), String_val(path), Int_val(flags), on_text, pend, &op),
        "fdk_listxattrat_async");
}

CAMLprim value fdkml_removexattrat_async(value loop, value dir, value path, value name, value flags, value callback) {
  CAMLparam5(loop, dir, path, name, flags);
  CAMLxparam1(callback);
  fdkml_check_string(path, "fdk_removexattrat_async");
  fdkml_check_string(name, "fdk_removexattrat_async");
  ASYNC(Val_unit,
        fdk_removexattrat_async(lp, Dir_val(dir), String_val(path), String_val(name), Int_val(flags), fdkml_on_result,
                                pend, &op),
        "fdk_removexattrat_async");
}
FDKML_BYTECODE6(fdkml_removexattrat_async)
