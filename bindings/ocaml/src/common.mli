(* SPDX-License-Identifier: MIT *)
(** Versions and errors (common.h).

    A failed synchronous call raises [Unix.Unix_error (error, call, detail)]: [call] names
    the C function ("fdk_openat") and [detail] is fdkit's text for the failure
    ("openat: 'a/../../x' escapes its directory"). Asynchronous callbacks receive
    [Ok value] or [Error (error, detail)] instead. ECANCELED, which [Unix.error] has no
    constructor for, is raised as {!Cancelled} and delivered as [Error (ecanceled, _)]. *)

type error = Unix.error * string

exception Cancelled of string * string
(** [Cancelled (call, detail)]: what a synchronous call raises instead of
    [Unix_error] when fdkit answers ECANCELED. *)

val version : unit -> int
(** The loaded library's version, MAJOR * 10000 + MINOR * 100 + PATCH. *)

val version_string : unit -> string

val errname : int -> string
(** The symbolic name of an errno value, such as "EBADF". *)

val strerror : int -> string
(** fdkit's text for an errno value (either sign). *)

val unix_error_of_code : int -> Unix.error
(** The [Unix.error] of a positive errno value. *)

val ecanceled : Unix.error
(** What a cancelled operation, or a wait whose handle was closed, completes with
    ([Unix.EUNKNOWNERR] of ECANCELED's number). *)

val is_cancelled : Unix.error -> bool

val last_error_is_escape : unit -> bool
(** Whether the last failure this thread received from fdkit (a raised [Unix_error] or an
    [Error] passed to a callback) was a path refused for leaving its confined directory,
    rather than a genuine cross-device EXDEV. Ask in the handler or the callback. *)

val ok_exn : ?call:string -> ('a, error) result -> 'a
(** The value of an asynchronous result, or the exception its synchronous form would
    raise: {!Cancelled} for ECANCELED, [Unix.Unix_error (error, call, detail)] otherwise. *)

(**/**)

val result : int -> string -> (int -> 'a) -> ('a, error) result
(** The outcome of an asynchronous call from its raw result and the loop thread's detail. *)
