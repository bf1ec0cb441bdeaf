(* SPDX-License-Identifier: MIT *)
(* Trace spans (trace.h). An fdkit hook runs on whatever thread performs an operation,
   libuv's workers included, where calling OCaml is not safe: so [start] installs a hook
   that records events in C, and [take] hands over what was recorded (up to 65536 events
   between takes; [take] also says how many were dropped beyond that). *)

type event = {
  begin_ : bool;
  name : string;
  span_id : int64;
  fd : int;
  path : string;  (* "" when none; at most 63 bytes *)
  result : int64;  (* end: bytes, 0, or a negative errno *)
  detail : string;
  duration_ns : int64;
}

external start : unit -> unit = "fdkml_trace_start"

(* After [stop] returns, no new event is recorded. *)
external stop : unit -> unit = "fdkml_trace_stop"

external take_raw : unit -> (bool * string * int64 * int * string * int64 * string * int64) list * int
  = "fdkml_trace_take"

let take () =
  let raw, dropped = take_raw () in
  ( List.map
      (fun (begin_, name, span_id, fd, path, result, detail, duration_ns) ->
        { begin_; name; span_id; fd; path; result; detail; duration_ns })
      raw,
    dropped )
