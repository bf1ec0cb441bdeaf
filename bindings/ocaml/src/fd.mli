(* SPDX-License-Identifier: MIT *)
(** Descriptor handles safe to close while other threads use them (fd.h).

    Each [t] holds one reference, dropped by the collector; the last one closes the
    descriptor if nobody did. Closing through any reference closes the handle for all of
    them. Every function may be called from any thread. *)

type t

val adopt : ?blocking:bool -> ?borrow:bool -> Unix.file_descr -> t
(** Takes ownership of a descriptor ([borrow]: never close it). [blocking]: it is in
    blocking mode and its open file description may be shared, so fdkit must leave it so
    (detected from the descriptor when false). On failure the caller still owns it. *)

val pipe : unit -> t * t
(** A pipe: (read end, write end), both close-on-exec and non-blocking. *)

val share : t -> t
(** Another value on the same handle, with its own reference. *)

val raw : t -> Unix.file_descr
(** The descriptor number. A system call made on it can race with a close from another
    thread: prefer {!use}. *)

val use : t -> (Unix.file_descr -> 'a) -> 'a
(** Runs [f] with the descriptor marked in use: a concurrent close waits for [f] to return
    before the number can be reused. *)

val close : t -> unit
(** Closes the descriptor now, or when the last running operation ends; later uses through
    any reference raise EBADF. Releases the runtime lock while it waits. *)

val release : t -> Unix.file_descr
(** Waits until no operation uses the descriptor and returns it open; the handle then
    behaves as closed. *)

val is_blocking : t -> bool
