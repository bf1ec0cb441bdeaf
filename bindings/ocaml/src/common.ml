(* SPDX-License-Identifier: MIT *)
(* Versions and errors (common.h). Failed calls raise Unix.Unix_error (error, call, detail),
   where detail is what fdkit recorded ("read: ..."); asynchronous callbacks receive
   Error (error, detail) instead. *)

type error = Unix.error * string

external version : unit -> int = "fdkml_version"
external version_string : unit -> string = "fdkml_version_string"

(* The symbolic name of an errno value, such as "EBADF". *)
external errname : int -> string = "fdkml_errname"
external unix_error_of_code : int -> Unix.error = "fdkml_unix_error_of_code"

(* What a cancelled operation, or a wait whose handle was closed, completes with. Unix.error
   has no constructor of its own for it. *)
external ecanceled_error : unit -> Unix.error = "fdkml_ecanceled"

let ecanceled = ecanceled_error ()

(* The outcome of an asynchronous call from its raw result and the loop thread's detail. *)
let result raw detail ok = if raw < 0 then Error (unix_error_of_code (-raw), detail) else Ok (ok raw)
