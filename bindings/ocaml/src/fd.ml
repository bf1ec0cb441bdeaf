(* SPDX-License-Identifier: MIT *)
(* Descriptor handles safe to close while other threads use them (fd.h). Each [t] holds one
   reference, dropped by the collector; the last one closes the descriptor if nobody did.
   Every function may be called from any thread. *)

type t

external adopt_raw : Unix.file_descr -> bool -> bool -> t = "fdkml_fd_adopt"

(* Takes ownership of a descriptor ([borrow]: never close it). [blocking]: it is in blocking
   mode and its open file description may be shared, so fdkit must leave it so (detected
   from the descriptor when false). On failure the caller still owns it. *)
let adopt ?(blocking = false) ?(borrow = false) fd = adopt_raw fd blocking borrow

(* A pipe: (read end, write end), both close-on-exec and non-blocking. *)
external pipe : unit -> t * t = "fdkml_pipe"

(* Another value on the same handle, with its own reference. *)
external share : t -> t = "fdkml_fd_share"

(* The descriptor number. A system call made on it can race with a close from another
   thread: prefer [use]. *)
external raw : t -> Unix.file_descr = "fdkml_fd_raw"

external use_begin : t -> Unix.file_descr = "fdkml_fd_use"
external use_end : t -> unit = "fdkml_fd_unuse"

(* Runs [f] with the descriptor marked in use: a concurrent close waits for [f] to return
   before the number can be reused. *)
let use t f =
  let fd = use_begin t in
  Fun.protect ~finally:(fun () -> use_end t) (fun () -> f fd)

(* Closes the descriptor now, or when the last running operation ends; later uses
   through any reference raise EBADF. *)
external close : t -> unit = "fdkml_fd_close"

(* Waits until no operation uses the descriptor and returns it open; the handle then
   behaves as closed. *)
external release : t -> Unix.file_descr = "fdkml_fd_release"

external is_blocking : t -> bool = "fdkml_fd_is_blocking"
