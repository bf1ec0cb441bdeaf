(* SPDX-License-Identifier: MIT *)
(* Directories that confine path resolution, and the calls made beneath them (fs.h). A
   [t] resolves every path beneath itself: "..", absolute paths and symlinks that would
   lead out raise Unix_error (EXDEV, ...). [fs ()] is the unconfined file system. Each [t]
   holds one reference, dropped by the collector; every function may be called from any
   thread (path calls release the runtime lock). *)

type t

external fs : unit -> t = "fdkml_dir_fs"
external cwd : unit -> t = "fdkml_dir_cwd"

(* The directory at [path] beneath [base], itself confining. *)
external open_dir : t -> string -> t = "fdkml_dir_open"

(* Open flags: fdkit's own values. *)
let rdonly = 0x0000
let wronly = 0x0001
let rdwr = 0x0002
let creat = 0x0008
let excl = 0x0010
let trunc = 0x0020
let directory = 0x0040
let nofollow = 0x0080

external openat_raw : t -> string -> int -> int -> Fd.t = "fdkml_openat"

(* Opens the file at [path] (close-on-exec); [flags] combines the values above with lor. *)
let openat ?(flags = rdonly) ?(mode = 0o644) t path = openat_raw t path flags mode

external mkdir_raw : t -> string -> int -> unit = "fdkml_mkdirat"

let mkdir ?(mode = 0o755) t path = mkdir_raw t path mode

external unlink : t -> string -> unit = "fdkml_unlinkat"
external rmdir : t -> string -> unit = "fdkml_rmdirat"

(* [symlink target t path] creates [path] as a symlink to [target], stored as given. *)
external symlink : string -> t -> string -> unit = "fdkml_symlinkat"

external readlink : t -> string -> string = "fdkml_readlinkat"

type kind = Regular | Directory | Symlink | Other

type stat = { kind : kind; size : int64; perm : int }

external statat_raw : t -> string -> bool -> int * int64 * int = "fdkml_statat"

let stat ?(follow = true) t path =
  let kind, size, perm = statat_raw t path follow in
  let kind = match kind with 5 -> Regular | 3 -> Directory | 6 -> Symlink | _ -> Other in
  { kind; size; perm }

external readdir_raw : t -> string -> string list = "fdkml_readdir"

(* The names in the directory at [path] (default: [t] itself), sorted. *)
let readdir ?(path = "") t = List.sort compare (readdir_raw t path)
