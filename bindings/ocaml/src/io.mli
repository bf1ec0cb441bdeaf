(* SPDX-License-Identifier: MIT *)
(** Reading, writing and the other calls on an open descriptor, and timers (io.h).

    Synchronous calls release the runtime lock while they wait and may be made from any
    thread; each is one system call's worth (at most 64 KiB per call for [bytes], which
    may move while the lock is released, so they go through a C buffer). Asynchronous calls
    take bigarray {!buffer}s, which never move; the pending operation keeps the buffer, the
    handle and the callback alive until the callback ran. Callbacks get [Ok value] or
    [Error (error, detail)] ({!Common.ok_exn} turns that into the native exception). *)

type buffer = (char, Bigarray.int8_unsigned_elt, Bigarray.c_layout) Bigarray.Array1.t

type 'a callback = ('a, Common.error) result -> unit

val read : Fd.t -> bytes -> int -> int -> int
(** [read fd buf off len]: the count read, 0 at end of file. *)

val write : Fd.t -> string -> int -> int -> int
val pread : Fd.t -> bytes -> int -> int -> pos:int -> int
val pwrite : Fd.t -> string -> int -> int -> pos:int -> int

val readv : Fd.t -> buffer list -> int
(** Scatters into whole bigarrays, in order (one system call; the count is returned). *)

val writev : Fd.t -> buffer list -> int
val lseek : Fd.t -> int -> Unix.seek_command -> int

val fsync : ?data_only:bool -> Fd.t -> unit
(** fsync, or fdatasync with [~data_only:true]. *)

val ftruncate : Fd.t -> int -> unit
val getrandom : bytes -> int -> int -> int

val now_ns : unit -> int
(** Nanoseconds on the monotonic clock. *)

val read_async : Loop.t -> Fd.t -> ?off:int -> ?len:int -> buffer -> int callback -> Loop.op
(** Reads into [buf] (from [off], [len] bytes, by default to its end); [k] gets the count. *)

val write_async : Loop.t -> Fd.t -> ?off:int -> ?len:int -> buffer -> int callback -> Loop.op
val pread_async : Loop.t -> Fd.t -> ?off:int -> ?len:int -> buffer -> pos:int -> int callback -> Loop.op
val pwrite_async : Loop.t -> Fd.t -> ?off:int -> ?len:int -> buffer -> pos:int -> int callback -> Loop.op
val readv_async : Loop.t -> Fd.t -> buffer list -> int callback -> Loop.op
val writev_async : Loop.t -> Fd.t -> buffer list -> int callback -> Loop.op

val write_all_async : Loop.t -> Fd.t -> ?off:int -> ?len:int -> buffer -> int callback -> Loop.op
(** Writes all of the span: [k] gets its length once every byte is written, or the error.
    Writes on one handle queue in submission order and never interleave. *)

val writev_all_async : Loop.t -> Fd.t -> buffer list -> int callback -> Loop.op
(** {!write_all_async} over whole bigarrays, in order. *)

val write_queue_size : Loop.t -> Fd.t -> int
(** Bytes queued by the [*_all_async] writes and not yet written (back-pressure). *)

val lseek_async : Loop.t -> Fd.t -> int -> Unix.seek_command -> int callback -> Loop.op
val fsync_async : ?data_only:bool -> Loop.t -> Fd.t -> unit callback -> Loop.op
val ftruncate_async : Loop.t -> Fd.t -> int -> unit callback -> Loop.op

val getrandom_async : Loop.t -> ?off:int -> ?len:int -> buffer -> int callback -> Loop.op
(** Fills [buf] with random bytes on the worker pool. *)

val sleep_until : Loop.t -> int -> unit callback -> Loop.op
(** Completes once [now_ns () >= deadline] (never earlier), or with ECANCELED. *)

(**/**)

val span : string -> buffer -> int -> int option -> int

val sleep_until_raw : Loop.t -> int -> (int -> string -> unit) -> Loop.op
(** {!sleep_until} with the raw (result, detail) callback, which allocates nothing. *)
