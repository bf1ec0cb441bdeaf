(* SPDX-License-Identifier: MIT *)
type t

external fs : unit -> t = "fdkml_dir_fs"
external cwd : unit -> t = "fdkml_dir_cwd"
external open_dir_raw : t -> string -> int -> t = "fdkml_dir_open2"
external of_fd : Fd.t -> t = "fdkml_dir_of_fd"
external share : t -> t = "fdkml_dir_share"
external handle : t -> Fd.t option = "fdkml_dir_handle"

let rdonly = 0x0000
let wronly = 0x0001
let rdwr = 0x0002
let append = 0x0004
let creat = 0x0008
let excl = 0x0010
let trunc = 0x0020
let directory = 0x0040
let nofollow = 0x0080
let nonblock = 0x0100
let sync = 0x0200
let dsync = 0x0400
let noctty = 0x0800
let path = 0x1000
let tmpfile = 0x2000

let dir_nofollow = 0x1
let dir_no_xdev = 0x2
let dir_no_symlinks = 0x4
let dir_in_root = 0x8

let dir_flags nofollow no_xdev no_symlinks in_root =
  List.fold_left (fun acc (on, bit) -> if on then acc lor bit else acc) 0
    [ (nofollow, dir_nofollow); (no_xdev, dir_no_xdev); (no_symlinks, dir_no_symlinks); (in_root, dir_in_root) ]

let open_dir ?(nofollow = false) ?(no_xdev = false) ?(no_symlinks = false) ?(in_root = false) base path =
  open_dir_raw base path (dir_flags nofollow no_xdev no_symlinks in_root)

external flags_supported : int -> bool = "fdkml_open_flags_supported"

type resolve_backend = Resolve_auto | Openat2 | Fallback

external resolve_backend_raw : unit -> int = "fdkml_resolve_backend"
external set_resolve_backend_raw : int -> unit = "fdkml_resolve_set_backend"

let resolve_code = function Resolve_auto -> 0 | Openat2 -> 1 | Fallback -> 2
let resolve_backend () = match resolve_backend_raw () with 1 -> Openat2 | 2 -> Fallback | _ -> Resolve_auto
let set_resolve_backend b = set_resolve_backend_raw (resolve_code b)

external openat_raw : t -> string -> int -> int -> Fd.t = "fdkml_openat"

let openat ?(flags = rdonly) ?(mode = 0o644) t path = openat_raw t path flags mode

external mkdir_raw : t -> string -> int -> unit = "fdkml_mkdirat"

let mkdir ?(mode = 0o755) t path = mkdir_raw t path mode

external unlink : t -> string -> unit = "fdkml_unlinkat"
external rmdir : t -> string -> unit = "fdkml_rmdirat"
external symlink : string -> t -> string -> unit = "fdkml_symlinkat"
external readlink : t -> string -> string = "fdkml_readlinkat"
external realpath : t -> string -> string = "fdkml_realpath"
external rename_raw : t -> string -> t -> string -> int -> unit = "fdkml_renameat2"

let rename_noreplace = 0x1
let rename_exchange = 0x2
let rename_whiteout = 0x4
let rename_flags noreplace exchange whiteout =
  (if noreplace then rename_noreplace else 0)
  lor (if exchange then rename_exchange else 0)
  lor if whiteout then rename_whiteout else 0

let rename ?(noreplace = false) ?(exchange = false) ?(whiteout = false) old_dir old_path new_dir new_path =
  rename_raw old_dir old_path new_dir new_path (rename_flags noreplace exchange whiteout)

external link_raw : t -> string -> t -> string -> bool -> unit = "fdkml_linkat2"

let link ?(follow = false) old_dir old_path new_dir new_path = link_raw old_dir old_path new_dir new_path follow

external link_fd : Fd.t -> t -> string -> unit = "fdkml_linkat_fd"
external chmod_raw : t -> string -> int -> bool -> unit = "fdkml_chmodat"

let chmod ?(follow = true) t path mode = chmod_raw t path mode follow

external chown_raw : t -> string -> int -> int -> bool -> unit = "fdkml_chownat"

let chown ?(follow = true) ?(uid = -1) ?(gid = -1) t path = chown_raw t path uid gid follow

type time = Now | Omit | At of float

(* FDK_FOLLOW, and the attribute flags beside it. *)
let follow_flag = 0x1
let xattr_create = 0x2
let xattr_replace = 0x4
let follow_bit follow = if follow then follow_flag else 0

let access_exists = 0x0
let access_read = 0x4
let access_write = 0x2
let access_exec = 0x1
let access_effective = 0x2

let access_mode =
  List.fold_left
    (fun acc p ->
      acc lor match p with Unix.R_OK -> access_read | Unix.W_OK -> access_write | Unix.X_OK -> access_exec | Unix.F_OK -> access_exists)
    0

let access_flags follow effective = follow_bit follow lor if effective then access_effective else 0

external access_raw : t -> string -> int -> int -> unit = "fdkml_faccessat"

let access ?(follow = true) ?(effective = false) t path perms =
  access_raw t path (access_mode perms) (access_flags follow effective)

external truncate : t -> string -> int64 -> unit = "fdkml_truncateat"

let xattr_set_flags follow create replace =
  follow_bit follow lor (if create then xattr_create else 0) lor if replace then xattr_replace else 0

external enodata_code : unit -> int = "fdkml_enodata_code"

let enodata = Common.unix_error_of_code (enodata_code ())

(* The NUL-terminated names of a listxattr buffer. *)
let xattr_names buf = List.filter (( <> ) "") (String.split_on_char '\000' buf)

external getxattr_raw : t -> string -> string -> int -> string = "fdkml_getxattrat"
external setxattr_raw : t -> string -> string -> string -> int -> unit = "fdkml_setxattrat"
external listxattr_raw : t -> string -> int -> string = "fdkml_listxattrat"
external removexattr_raw : t -> string -> string -> int -> unit = "fdkml_removexattrat"

let getxattr ?(follow = true) t path name = getxattr_raw t path name (follow_bit follow)

let setxattr ?(follow = true) ?(create = false) ?(replace = false) t path name v =
  setxattr_raw t path name v (xattr_set_flags follow create replace)

let listxattr ?(follow = true) t path = xattr_names (listxattr_raw t path (follow_bit follow))
let removexattr ?(follow = true) t path name = removexattr_raw t path name (follow_bit follow)

let utime_now = -1
let utime_omit = -2

let timespec = function
  | Now -> (0, utime_now)
  | Omit -> (0, utime_omit)
  | At f ->
      let sec = Float.floor f in
      (Float.to_int sec, Float.to_int ((f -. sec) *. 1e9))

let times atime mtime =
  let (a, an), (m, mn) = (timespec atime, timespec mtime) in
  (a, an, m, mn)

external utimes_raw : t -> string -> int * int * int * int -> bool -> unit = "fdkml_utimensat"

let utimes ?(follow = true) ?(atime = Omit) ?(mtime = Omit) t path = utimes_raw t path (times atime mtime) follow

type kind = Other | Fifo | Char_device | Directory | Block_device | Regular | Symlink | Socket

type stat = {
  kind : kind;
  size : int64;
  perm : int;
  mode : int;
  ino : int;
  dev : int;
  rdev : int;
  nlink : int;
  uid : int;
  gid : int;
  blocks : int;
  blksize : int;
  atime : float;
  mtime : float;
  ctime : float;
  btime : float option;
}

type stat_buffer

(* Dir.kind's constructors are in FDK_KIND_* order: mknod passes the index. *)
let kind_code (k : kind) = match k with
  | Other -> 0 | Fifo -> 1 | Char_device -> 2 | Directory -> 3 | Block_device -> 4 | Regular -> 5 | Symlink -> 6 | Socket -> 7

external mknod_raw : t -> string -> int -> int -> int64 -> unit = "fdkml_mknodat"
external mkfifo_raw : t -> string -> int -> unit = "fdkml_mkfifoat"

let mknod ?(mode = 0o644) ?(dev = 0L) t path kind = mknod_raw t path (kind_code kind) mode dev
let mkfifo ?(mode = 0o644) t path = mkfifo_raw t path mode

external stat_buffer : unit -> stat_buffer = "fdkml_stat_buffer"
external stat_read : stat_buffer -> stat = "fdkml_stat_read"
external statat_raw : stat_buffer -> t -> string -> bool -> stat = "fdkml_statat"
external fstat_raw : stat_buffer -> Fd.t -> stat = "fdkml_fstat"

let stat ?(follow = true) t path = statat_raw (stat_buffer ()) t path follow
let fstat fd = fstat_raw (stat_buffer ()) fd

external entries_raw : t -> string -> (string * kind) list = "fdkml_readdir"

let entries ?(path = "") t = entries_raw t path
let sorted_names entries = List.sort compare (List.map fst entries)
let readdir ?(path = "") t = sorted_names (entries_raw t path)

type iter

external iter_open_raw : t -> string -> iter = "fdkml_dir_iter_open"
external iter_next : iter -> (string * kind) option = "fdkml_dir_iter_next"
external iter_close : iter -> unit = "fdkml_dir_iter_close"

let iter_open ?(path = "") t = iter_open_raw t path

let fold ?path f t init =
  let it = iter_open ?path t in
  Fun.protect ~finally:(fun () -> iter_close it) (fun () ->
      let rec go acc = match iter_next it with None -> acc | Some e -> go (f e acc) in
      go init)

(* Asynchronous forms. *)
type 'a callback = ('a, Common.error) result -> unit

let unit_result k r d = k (Common.result r d ignore)
let payload_result k r d payload = k (Common.result r d (fun _ -> payload))

external open_dir_async_raw : Loop.t -> t -> string -> int -> (int -> string -> t -> unit) -> Loop.op
  = "fdkml_dir_open2_async"

let open_dir_async loop ?(nofollow = false) ?(no_xdev = false) ?(no_symlinks = false) ?(in_root = false) base path k =
  open_dir_async_raw loop base path (dir_flags nofollow no_xdev no_symlinks in_root) (payload_result k)

external openat_async_raw : Loop.t -> t -> string -> int -> int -> (int -> string -> Fd.t -> unit) -> Loop.op
  = "fdkml_openat_async_bc" "fdkml_openat_async"

let openat_async loop ?(flags = rdonly) ?(mode = 0o644) t path k =
  openat_async_raw loop t path flags mode (payload_result k)

external mkdir_async_raw : Loop.t -> t -> string -> int -> (int -> string -> unit) -> Loop.op = "fdkml_mkdirat_async"

let mkdir_async loop ?(mode = 0o755) t path k = mkdir_async_raw loop t path mode (unit_result k)

external unlink_async_raw : Loop.t -> t -> string -> (int -> string -> unit) -> Loop.op = "fdkml_unlinkat_async"
external rmdir_async_raw : Loop.t -> t -> string -> (int -> string -> unit) -> Loop.op = "fdkml_rmdirat_async"

let unlink_async loop t path k = unlink_async_raw loop t path (unit_result k)
let rmdir_async loop t path k = rmdir_async_raw loop t path (unit_result k)

external rename_async_raw : Loop.t -> t * string * t * string -> int -> (int -> string -> unit) -> Loop.op
  = "fdkml_renameat2_async"

let rename_async loop ?(noreplace = false) ?(exchange = false) ?(whiteout = false) old_dir old_path new_dir new_path k =
  rename_async_raw loop (old_dir, old_path, new_dir, new_path) (rename_flags noreplace exchange whiteout)
    (unit_result k)

external link_async_raw : Loop.t -> t * string * t * string -> bool -> (int -> string -> unit) -> Loop.op
  = "fdkml_linkat2_async"

let link_async loop ?(follow = false) old_dir old_path new_dir new_path k =
  link_async_raw loop (old_dir, old_path, new_dir, new_path) follow (unit_result k)

external link_fd_async_raw : Loop.t -> Fd.t -> t -> string -> (int -> string -> unit) -> Loop.op
  = "fdkml_linkat_fd_async"

let link_fd_async loop fd t path k = link_fd_async_raw loop fd t path (unit_result k)

external mknod_async_raw : Loop.t -> t -> string -> int * int * int64 -> (int -> string -> unit) -> Loop.op
  = "fdkml_mknodat_async"

external mkfifo_async_raw : Loop.t -> t -> string -> int -> (int -> string -> unit) -> Loop.op
  = "fdkml_mkfifoat_async"

let mknod_async loop ?(mode = 0o644) ?(dev = 0L) t path kind k =
  mknod_async_raw loop t path (kind_code kind, mode, dev) (unit_result k)

let mkfifo_async loop ?(mode = 0o644) t path k = mkfifo_async_raw loop t path mode (unit_result k)

external truncate_async_raw : Loop.t -> t -> string -> int64 -> (int -> string -> unit) -> Loop.op
  = "fdkml_truncateat_async"

let truncate_async loop t path length k = truncate_async_raw loop t path length (unit_result k)

external access_async_raw : Loop.t -> t -> string -> int -> int -> (int -> string -> unit) -> Loop.op
  = "fdkml_faccessat_async_bc" "fdkml_faccessat_async"

let access_async loop ?(follow = true) ?(effective = false) t path perms k =
  access_async_raw loop t path (access_mode perms) (access_flags follow effective) (unit_result k)

external getxattr_async_raw : Loop.t -> t -> string -> string -> int -> (int -> string -> string -> unit) -> Loop.op
  = "fdkml_getxattrat_async_bc" "fdkml_getxattrat_async"

external setxattr_async_raw :
  Loop.t -> t -> string -> string * string -> int -> (int -> string -> unit) -> Loop.op
  = "fdkml_setxattrat_async_bc" "fdkml_setxattrat_async"

external listxattr_async_raw : Loop.t -> t -> string -> int -> (int -> string -> string -> unit) -> Loop.op
  = "fdkml_listxattrat_async"

external removexattr_async_raw : Loop.t -> t -> string -> string -> int -> (int -> string -> unit) -> Loop.op
  = "fdkml_removexattrat_async_bc" "fdkml_removexattrat_async"

let getxattr_async loop ?(follow = true) t path name k =
  getxattr_async_raw loop t path name (follow_bit follow) (payload_result k)

let setxattr_async loop ?(follow = true) ?(create = false) ?(replace = false) t path name v k =
  setxattr_async_raw loop t path (name, v) (xattr_set_flags follow create replace) (unit_result k)

let listxattr_async loop ?(follow = true) t path k =
  listxattr_async_raw loop t path (follow_bit follow) (fun r d buf -> k (Common.result r d (fun _ -> xattr_names buf)))

let removexattr_async loop ?(follow = true) t path name k =
  removexattr_async_raw loop t path name (follow_bit follow) (unit_result k)

external symlink_async_raw : Loop.t -> string -> t -> string -> (int -> string -> unit) -> Loop.op
  = "fdkml_symlinkat_async"

let symlink_async loop target t path k = symlink_async_raw loop target t path (unit_result k)

external readlink_async_raw : Loop.t -> t -> string -> (int -> string -> string -> unit) -> Loop.op
  = "fdkml_readlinkat_async"

external realpath_async_raw : Loop.t -> t -> string -> (int -> string -> string -> unit) -> Loop.op
  = "fdkml_realpath_async"

let readlink_async loop t path k = readlink_async_raw loop t path (payload_result k)
let realpath_async loop t path k = realpath_async_raw loop t path (payload_result k)

external entries_async_raw : Loop.t -> t -> string -> (int -> string -> (string * kind) list -> unit) -> Loop.op
  = "fdkml_readdir_async"

let entries_async loop ?(path = "") t k = entries_async_raw loop t path (payload_result k)

let readdir_async loop ?(path = "") t k =
  entries_async_raw loop t path (fun r d e -> k (Common.result r d (fun _ -> sorted_names e)))

external chmod_async_raw : Loop.t -> t -> string -> int -> bool -> (int -> string -> unit) -> Loop.op
  = "fdkml_chmodat_async_bc" "fdkml_chmodat_async"

let chmod_async loop ?(follow = true) t path mode k = chmod_async_raw loop t path mode follow (unit_result k)

external chown_async_raw : Loop.t -> t -> string -> int * int -> bool -> (int -> string -> unit) -> Loop.op
  = "fdkml_chownat_async_bc" "fdkml_chownat_async"

let chown_async loop ?(follow = true) ?(uid = -1) ?(gid = -1) t path k =
  chown_async_raw loop t path (uid, gid) follow (unit_result k)

external utimes_async_raw :
  Loop.t -> t -> string -> int * int * int * int -> bool -> (int -> string -> unit) -> Loop.op
  = "fdkml_utimensat_async_bc" "fdkml_utimensat_async"

let utimes_async loop ?(follow = true) ?(atime = Omit) ?(mtime = Omit) t path k =
  utimes_async_raw loop t path (times atime mtime) follow (unit_result k)

external statat_async_raw :
  Loop.t -> stat_buffer -> t -> string -> bool -> (int -> string -> unit) -> Loop.op
  = "fdkml_statat_async_bc" "fdkml_statat_async"

let stat_async loop ?(follow = true) t path k =
  let buf = stat_buffer () in
  statat_async_raw loop buf t path follow (fun r d -> k (Common.result r d (fun _ -> stat_read buf)))

external fstat_async_raw : Loop.t -> stat_buffer -> Fd.t -> (int -> string -> unit) -> Loop.op = "fdkml_fstat_async"

let fstat_async loop fd k =
  let buf = stat_buffer () in
  fstat_async_raw loop buf fd (fun r d -> k (Common.result r d (fun _ -> stat_read buf)))
