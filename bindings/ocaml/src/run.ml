(* SPDX-License-Identifier: MIT *)
(* Running a command to completion with its output captured (run.h), on a private loop;
   the runtime lock is released meanwhile. Raises Unix_error for what stopped the start (a
   missing program, bad options); how the child ended is in the result. *)

(* [Signaled] carries OCaml's signal number ([Sys.sigkill]), as [Unix.WSIGNALED] does. *)
type status = Exited of int | Signaled of int

type output = { status : status; stdout : string; stderr : string; timed_out : bool }

external run_raw : string list -> string option -> int -> bool -> Dir.t option -> bool * int * string * string * bool
  = "fdkml_run"

(* [timeout_ms] kills the child (and its group with [new_group]) when it passes; [dir] is
   where the child starts. *)
let run ?stdin ?(timeout_ms = 0) ?(new_group = false) ?dir argv =
  let signalled, value, stdout, stderr, timed_out = run_raw argv stdin timeout_ms new_group dir in
  { status = (if signalled then Signaled value else Exited value); stdout; stderr; timed_out }
