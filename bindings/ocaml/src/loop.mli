(* SPDX-License-Identifier: MIT *)
(** The event loop (loop.h).

    A loop belongs to the thread that runs it; only {!post} and {!remote_post} may be called
    from other threads. Callbacks run from {!run} (or from {!close}, with ECANCELED), never
    inside the call that started the operation, with the runtime lock held; [run] and
    [close] release it while they wait. An exception raised by a callback stops the loop
    and is raised again from [run]. A loop must be closed: one left to the collector is
    leaked (closing it there would run callbacks from the collector). *)

type t

type op
(** A pending operation, returned by every asynchronous call. *)

type mode =
  | Default  (** until nothing is pending or [stop] *)
  | Once  (** wait for events once, run their callbacks *)
  | Nowait  (** run what is ready without waiting *)

val create : unit -> t

val close : t -> unit
(** Completes every pending operation with ECANCELED (their callbacks run here) and frees
    the loop. Idempotent. *)

val run : ?mode:mode -> t -> bool
(** Runs callbacks; returns whether operations are still pending. *)

val stop : t -> unit

val backend_fd : t -> Unix.file_descr
(** Readable whenever fdkit has work, for a host loop that watches it (level-triggered);
    the loop keeps it: never close it. See also {!backend_timeout}. *)

val backend_timeout : t -> int
(** Milliseconds a host may wait on {!backend_fd}; -1 when no timer is due. *)

val post : t -> (unit -> unit) -> unit
(** Queues [f] to run on the loop's thread. Safe from any thread, also while another closes
    the loop: [f] then either runs (during [close] at the latest) or [post] raises
    [Unix.Unix_error (ESHUTDOWN, _, _)], as it does after [close]. *)

type remote
(** A handle for posting from other threads that never keeps the loop alive. *)

val remote : t -> remote

val remote_post : remote -> (unit -> unit) -> unit
(** As {!post}; raises [Unix_error (ESHUTDOWN, _, _)] once the loop is closed or closing. *)

val pending : op -> bool
(** Whether an operation's callback has not run yet. *)

val cancel : op -> bool
(** Asks an operation to complete with ECANCELED; false if it already completed. *)
