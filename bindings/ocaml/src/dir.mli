(* SPDX-License-Identifier: MIT *)
(** Directories that confine path resolution, and the calls made beneath them (fs.h).

    A [t] resolves every path beneath itself: "..", absolute paths and symlinks that would
    lead out raise [Unix_error (EXDEV, _, _)] ({!Common.last_error_is_escape} tells such a
    refusal from a genuine cross-device EXDEV); magic links under /proc raise ELOOP. [fs ()]
    is the unconfined file system. Each [t] holds one reference, dropped by the collector.
    Every function may be called from any thread; path calls copy the path and release the
    runtime lock. A path holding a NUL byte raises [Unix_error (ENOENT, _, path)], as
    [Unix.openfile] does. The [*_async] forms call back on the loop's thread with
    [Ok value] or [Error (error, detail)]. *)

type t

type 'a callback = ('a, Common.error) result -> unit

val fs : unit -> t
(** The unconfined file system. *)

val cwd : unit -> t
(** Confined to the current directory. *)

val open_dir : ?nofollow:bool -> ?no_xdev:bool -> ?no_symlinks:bool -> ?in_root:bool -> t -> string -> t
(** The directory at [path] beneath [base], itself confining. [nofollow]: a symlink as the
    last component of [path] raises ENOTDIR. The scoping flags hold for [path] and then for
    every path resolved beneath the new dir (and beneath dirs opened from it): [no_xdev]
    raises EXDEV on crossing a mount point; [no_symlinks] raises ELOOP on following any
    symlink; [in_root] makes the dir a root, where ".." stays and absolute paths and
    symlink targets start, instead of raising EXDEV. All default to [false]. *)

val of_fd : Fd.t -> t
(** A confined directory on an open directory descriptor, sharing its handle: closing the
    [Fd.t] makes the dir's later calls raise EBADF. *)

val share : t -> t
(** Another value with its own reference. *)

val handle : t -> Fd.t option
(** The dir's own descriptor handle (for [Process.Fchdir] or [Fd.use]), [None] for {!fs}
    and {!cwd}. Closing it closes the dir. *)

(** {1 Open flags} fdkit's own values, combined with [lor]. Close-on-exec is always set. *)

val rdonly : int
val wronly : int
val rdwr : int
val append : int
val creat : int
val excl : int
val trunc : int
val directory : int
val nofollow : int
val nonblock : int
val sync : int
val dsync : int
val noctty : int

val path : int
(** A handle that only names the file; combines with [directory] and [nofollow] only. *)

val tmpfile : int
(** An unnamed regular file in the directory [path] names (O_TMPFILE); needs [wronly] or
    [rdwr] and excludes [creat] and [path]. {!link_fd} names it later, unless opened with
    [excl]. *)

val flags_supported : int -> bool
(** Whether every bit is known and the set is one {!openat} accepts. *)

val openat : ?flags:int -> ?mode:int -> t -> string -> Fd.t
(** Opens the file at [path]; [mode] (default 0o644) applies with [creat]. *)

(** {1 Resolution strategy} *)

type resolve_backend = Resolve_auto | Openat2 | Fallback

val resolve_backend : unit -> resolve_backend
(** The active strategy ([Openat2] or [Fallback]). *)

val set_resolve_backend : resolve_backend -> unit
(** Forces a strategy for the whole process ([Resolve_auto] probes again); ENOSYS when the
    kernel refuses openat2. *)

(** {1 Last-component calls} *)

val mkdir : ?mode:int -> t -> string -> unit
val unlink : t -> string -> unit
val rmdir : t -> string -> unit

val symlink : string -> t -> string -> unit
(** [symlink target t path] creates [path] as a symlink to [target], stored as given. *)

val readlink : t -> string -> string

val rename : ?noreplace:bool -> ?exchange:bool -> ?whiteout:bool -> t -> string -> t -> string -> unit
(** [rename old_dir old_path new_dir new_path]; [noreplace]: EEXIST if the target exists;
    [exchange]: swap the two (EINVAL where the file system lacks it); [whiteout]: leave a
    whiteout (a 0:0 character device) at [old_path], for overlay file systems (EPERM without
    CAP_MKNOD, EINVAL where the file system lacks it). [exchange] excludes the other two. *)

val link : ?follow:bool -> t -> string -> t -> string -> unit
(** A hard link; a symlink source links the symlink itself, unless [follow] (default
    [false]) links what it points to (followed confined beneath [old_dir]). *)

val link_fd : Fd.t -> t -> string -> unit
(** [link_fd fd t path] gives the file [fd] refers to a name at [path] (last component not
    followed): publishes a file opened with {!tmpfile}. ENOENT for a file with no link left
    or opened [tmpfile lor excl], EEXIST when [path] exists, EBADF for a closed [fd]. *)

val truncate : t -> string -> int64 -> unit
(** Sets the size of the file [path] names (a symlink is followed, confined). EINVAL for a
    negative length or a file that is not regular, EISDIR for a directory. *)

val access : ?follow:bool -> ?effective:bool -> t -> string -> Unix.access_permission list -> unit
(** Raises EACCES unless the caller may access [path] with every permission listed
    ([F_OK] or [[]]: it exists), as [Unix.access]; [effective] checks with the effective
    ids instead of the real ones. EROFS for [W_OK] on a read-only mount. *)

val chmod : ?follow:bool -> t -> string -> int -> unit
(** Permission bits (0o7777); a symlink itself has none (EOPNOTSUPP with [~follow:false]). *)

val chown : ?follow:bool -> ?uid:int -> ?gid:int -> t -> string -> unit
(** An omitted id is left unchanged. *)

type time = Now | Omit | At of float  (** seconds since the epoch *)

val utimes : ?follow:bool -> ?atime:time -> ?mtime:time -> t -> string -> unit
(** Sets the access and modification times (each [Omit] by default). *)

val realpath : t -> string -> string
(** The symlink-free path: relative to a confined dir ("." for itself), absolute for
    {!fs}. *)

(** {1 Extended attributes} Of what [path] names, resolved as every confined call; [follow]
    (default [true]) follows a symlink in the last position, confined. {!enodata} for a
    missing attribute, EOPNOTSUPP where the file system keeps none, EPERM for user
    attributes on a symlink or a special file, ERANGE beyond the kernel's limits. *)

val enodata : Unix.error
(** ENODATA, which [Unix.error] has no constructor for ([Unix.EUNKNOWNERR _]). *)

val getxattr : ?follow:bool -> t -> string -> string -> string
(** [getxattr t path name] is the attribute's value. *)

val setxattr : ?follow:bool -> ?create:bool -> ?replace:bool -> t -> string -> string -> string -> unit
(** [setxattr t path name value]; [create]: EEXIST when it exists; [replace]: {!enodata}
    when it does not (not both: EINVAL). *)

val listxattr : ?follow:bool -> t -> string -> string list
(** The attributes' names, in the file system's order. *)

val removexattr : ?follow:bool -> t -> string -> string -> unit

(** {1 Stat} *)

type kind = Other | Fifo | Char_device | Directory | Block_device | Regular | Symlink | Socket

type stat = {
  kind : kind;
  size : int64;
  perm : int;  (** 0o7777 bits *)
  mode : int;  (** the platform's st_mode *)
  ino : int;
  dev : int;
  rdev : int;
  nlink : int;
  uid : int;
  gid : int;
  blocks : int;  (** 512-byte units *)
  blksize : int;
  atime : float;
  mtime : float;
  ctime : float;
  btime : float option;  (** where the file system keeps a birth time *)
}

val mknod : ?mode:int -> ?dev:int64 -> t -> string -> kind -> unit
(** [mknod t path kind] creates a special file (last component not followed): [Fifo],
    [Char_device], [Block_device], [Socket] or [Regular]; [mode] (default 0o644, umask
    applies); [dev] the device number of a device (default 0). EINVAL for another kind,
    EPERM for a device without CAP_MKNOD. *)

val mkfifo : ?mode:int -> t -> string -> unit
(** [mknod] of a [Fifo]. *)

val stat : ?follow:bool -> t -> string -> stat
(** [~follow:false] describes a symlink itself. *)

val fstat : Fd.t -> stat

(** {1 Directory entries} *)

val readdir : ?path:string -> t -> string list
(** The names in the directory at [path] (default: [t] itself), sorted. *)

val entries : ?path:string -> t -> (string * kind) list
(** Names and kinds, in the file system's order. *)

type iter
(** A streaming reader for directories too large to hold; the collector closes one left
    open. *)

val iter_open : ?path:string -> t -> iter
val iter_next : iter -> (string * kind) option

val iter_close : iter -> unit
(** Later [iter_next] calls return [None]. *)

val fold : ?path:string -> (string * kind -> 'a -> 'a) -> t -> 'a -> 'a
(** Streams every entry through [f], closing the iterator at the end or on an exception. *)

(** {1 Asynchronous forms} Never blocking the loop (inline, io_uring or the worker pool). A
    cancelled call that had already produced a handle releases it. *)

val open_dir_async :
  Loop.t -> ?nofollow:bool -> ?no_xdev:bool -> ?no_symlinks:bool -> ?in_root:bool -> t -> string -> t callback -> Loop.op
val openat_async : Loop.t -> ?flags:int -> ?mode:int -> t -> string -> Fd.t callback -> Loop.op
val mkdir_async : Loop.t -> ?mode:int -> t -> string -> unit callback -> Loop.op
val unlink_async : Loop.t -> t -> string -> unit callback -> Loop.op
val rmdir_async : Loop.t -> t -> string -> unit callback -> Loop.op

val rename_async :
  Loop.t -> ?noreplace:bool -> ?exchange:bool -> ?whiteout:bool -> t -> string -> t -> string -> unit callback -> Loop.op

val link_async : Loop.t -> ?follow:bool -> t -> string -> t -> string -> unit callback -> Loop.op

val link_fd_async : Loop.t -> Fd.t -> t -> string -> unit callback -> Loop.op
(** The [Fd.t] is kept alive until the callback. *)

val mknod_async : Loop.t -> ?mode:int -> ?dev:int64 -> t -> string -> kind -> unit callback -> Loop.op
val mkfifo_async : Loop.t -> ?mode:int -> t -> string -> unit callback -> Loop.op
val truncate_async : Loop.t -> t -> string -> int64 -> unit callback -> Loop.op

val access_async :
  Loop.t -> ?follow:bool -> ?effective:bool -> t -> string -> Unix.access_permission list -> unit callback -> Loop.op

val getxattr_async : Loop.t -> ?follow:bool -> t -> string -> string -> string callback -> Loop.op

val setxattr_async :
  Loop.t -> ?follow:bool -> ?create:bool -> ?replace:bool -> t -> string -> string -> string -> unit callback -> Loop.op

val listxattr_async : Loop.t -> ?follow:bool -> t -> string -> string list callback -> Loop.op
val removexattr_async : Loop.t -> ?follow:bool -> t -> string -> string -> unit callback -> Loop.op
val symlink_async : Loop.t -> string -> t -> string -> unit callback -> Loop.op
val readlink_async : Loop.t -> t -> string -> string callback -> Loop.op
val realpath_async : Loop.t -> t -> string -> string callback -> Loop.op
val readdir_async : Loop.t -> ?path:string -> t -> string list callback -> Loop.op
val entries_async : Loop.t -> ?path:string -> t -> (string * kind) list callback -> Loop.op
val chmod_async : Loop.t -> ?follow:bool -> t -> string -> int -> unit callback -> Loop.op
val chown_async : Loop.t -> ?follow:bool -> ?uid:int -> ?gid:int -> t -> string -> unit callback -> Loop.op
val utimes_async : Loop.t -> ?follow:bool -> ?atime:time -> ?mtime:time -> t -> string -> unit callback -> Loop.op
val stat_async : Loop.t -> ?follow:bool -> t -> string -> stat callback -> Loop.op
val fstat_async : Loop.t -> Fd.t -> stat callback -> Loop.op

(**/**)

(* The headers' values, compared by the constants test. *)
val rename_noreplace : int
val rename_exchange : int
val rename_whiteout : int
val dir_nofollow : int
val dir_no_xdev : int
val dir_no_symlinks : int
val dir_in_root : int
val follow_flag : int
val xattr_create : int
val xattr_replace : int
val access_exists : int
val access_read : int
val access_write : int
val access_exec : int
val access_effective : int
val kind_code : kind -> int
val utime_now : int
val utime_omit : int
val resolve_code : resolve_backend -> int
