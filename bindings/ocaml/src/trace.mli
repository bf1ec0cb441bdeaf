(* SPDX-License-Identifier: MIT *)
(** Trace spans (trace.h).

    An fdkit hook runs on whatever thread performs an operation, libuv's workers included,
    where calling OCaml is not safe: so {!start} installs a hook that records events in C,
    and {!take} hands over what was recorded (up to 65536 events between takes). *)

type event = {
  begin_ : bool;
  name : string;
  span_id : int64;
  fd : int;
  path : string;  (** "" when none; at most 63 bytes *)
  result : int64;  (** end: bytes, 0, or a negative errno *)
  detail : string;
  duration_ns : int64;
}

val start : unit -> unit

val stop : unit -> unit
(** After [stop] returns, no new event is recorded. *)

val take : unit -> event list * int
(** The events recorded since the last take, and how many were dropped beyond the limit. *)
