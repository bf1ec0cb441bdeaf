(* SPDX-License-Identifier: MIT *)
(* Spawning a child from an ordered list of actions (process.h): [cwd], [fds] (child
   descriptor number, handle to inherit there; blocking modes preserved), [setsid],
   [close_other_fds], then the exec of [argv] (PATH searched). A failing action raises
   Unix_error naming it in the detail (the failed child is already reaped). A [t] left to
   the collector kills and reaps a child that still runs: keep it while the child matters. *)

type t

external spawn_raw : string list -> string option -> (int * Fd.t) list -> bool -> bool -> t = "fdkml_spawn"

let spawn ?cwd ?(fds = []) ?(setsid = false) ?(close_other_fds = false) argv =
  spawn_raw argv cwd fds setsid close_other_fds

external pid : t -> int = "fdkml_process_pid"

(* Raises ESRCH once the child was reaped: a recycled pid is never signalled. *)
external signal : t -> int -> unit = "fdkml_process_signal"

(* Waits for the exit (without the runtime lock), reaps, and returns how it ended. *)
external wait : t -> Unix.process_status = "fdkml_process_wait"

(* How the child ended if it has (it is reaped then). *)
external try_wait : t -> Unix.process_status option = "fdkml_process_try_wait"
