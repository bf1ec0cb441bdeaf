(* SPDX-License-Identifier: MIT *)
(* Sockets and messages with descriptor passing (net.h). Sockets are Fd.t values:
   close-on-exec and non-blocking; these calls wait (without the runtime lock) when needed. *)

(* A connected pair; Unix.PF_UNIX / PF_INET / PF_INET6 and SOCK_STREAM / DGRAM /
   SEQPACKET. *)
external socketpair : Unix.socket_domain -> Unix.socket_type -> Fd.t * Fd.t = "fdkml_socketpair"

external shutdown : Fd.t -> Unix.shutdown_command -> unit = "fdkml_shutdown"

(* Sends [data] as one message with [fds] passed along (the receiver gets descriptors of
   its own); never raises SIGPIPE. Returns the count sent. *)
external send_msg : Fd.t -> string -> Fd.t list -> int = "fdkml_send_msg"

type message = { data : string; fds : Fd.t list; fds_truncated : bool }

external recv_msg_raw : Fd.t -> int -> int -> string * Fd.t list * bool = "fdkml_recv_msg"

(* Receives one message of up to [size] bytes with up to [max_fds] descriptors
   (close-on-exec on arrival). [fds_truncated]: more came than fit, and every one that
   arrived was closed. *)
let recv_msg ?(max_fds = 0) fd size =
  let data, fds, fds_truncated = recv_msg_raw fd size max_fds in
  { data; fds; fds_truncated }
