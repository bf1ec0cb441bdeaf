(* SPDX-License-Identifier: MIT *)
(* The event loop (loop.h). A loop belongs to the thread that runs it; only [post] may be
   called from other threads. Callbacks run from [run] (or from [close], with ECANCELED),
   never inside the call that started the operation, with the runtime lock held; [run] and
   [close] release it while they wait. An exception raised by a callback stops the loop and
   is raised again from [run]. A loop must be closed: one left to the collector is leaked
   (closing it there would run callbacks from the collector). *)

type t
type op

type mode =
  | Default  (** until nothing is pending or [stop] *)
  | Once  (** wait for events once, run their callbacks *)
  | Nowait  (** run what is ready without waiting *)

external create : unit -> t = "fdkml_loop_new"
external close : t -> unit = "fdkml_loop_free"
external run_mode : t -> int -> bool = "fdkml_loop_run"
external stop : t -> unit = "fdkml_loop_stop"
external backend_fd : t -> Unix.file_descr = "fdkml_loop_backend_fd"

(* Milliseconds a host may wait on [backend_fd]; -1 when no timer is due. *)
external backend_timeout : t -> int = "fdkml_loop_backend_timeout"

(* Queues [f] to run on the loop's thread. Safe from any thread, also while another closes
   the loop: [f] then either runs (during [close] at the latest) or [post] raises
   [Unix.Unix_error (ESHUTDOWN, _, _)], as it does after [close]. *)
external post : t -> (unit -> unit) -> unit = "fdkml_loop_post"

(* Whether an operation's callback has not run yet. *)
external pending : op -> bool = "fdkml_op_pending"

(* Asks an operation to complete with ECANCELED; false if it already completed. *)
external cancel : op -> bool = "fdkml_op_cancel"

(* Runs callbacks; returns whether operations are still pending. *)
let run ?(mode = Default) t = run_mode t (match mode with Default -> 0 | Once -> 1 | Nowait -> 2)

(* A handle for posting from other threads that never keeps the loop alive. *)
type remote

external remote : t -> remote = "fdkml_loop_remote"
external remote_post : remote -> (unit -> unit) -> unit = "fdkml_remote_post"
