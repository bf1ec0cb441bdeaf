(* SPDX-License-Identifier: MIT *)
(* Versions and errors (common.h). Failed calls raise Unix.Unix_error (error, call, detail),
   where detail is what fdkit recorded ("read: ..."); asynchronous callbacks receive
   Error (error, detail) instead. *)

type error = Unix.error * string

(* What a synchronous call that was cancelled raises: (call, detail). Unix.error has no
   constructor for ECANCELED. *)
exception Cancelled of string * string

let () = Callback.register_exception "fdkit.cancelled" (Cancelled ("", ""))

external version : unit -> int = "fdkml_version"
external version_string : unit -> string = "fdkml_version_string"
external errname : int -> string = "fdkml_errname"
external strerror : int -> string = "fdkml_strerror"
external unix_error_of_code : int -> Unix.error = "fdkml_unix_error_of_code"
external ecanceled_error : unit -> Unix.error = "fdkml_ecanceled"

let ecanceled = ecanceled_error ()
let is_cancelled err = err = ecanceled

external last_error_is_escape : unit -> bool = "fdkml_last_error_is_escape"

let result raw detail ok = if raw < 0 then Error (unix_error_of_code (-raw), detail) else Ok (ok raw)

let ok_exn ?(call = "") = function
  | Ok v -> v
  | Error (err, detail) when is_cancelled err -> raise (Cancelled (call, detail))
  | Error (err, detail) -> raise (Unix.Unix_error (err, call, detail))
