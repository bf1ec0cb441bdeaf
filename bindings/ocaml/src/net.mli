(* SPDX-License-Identifier: MIT *)
(** Sockets, messages with descriptor passing, and name resolution (net.h).

    Sockets are {!Fd.t} values, close-on-exec and non-blocking; addresses are
    [Unix.sockaddr] values and resolved names [Unix.addr_info] records, as the [Unix] module
    has them. Synchronous calls that wait (connect, accept, messages, resolution) release
    the runtime lock. Sends never raise SIGPIPE (a gone peer is EPIPE or ECONNRESET).
    Asynchronous calls keep their buffer and handles alive until the callback ran; a
    cancelled accept or receive leaves the socket usable and closes whatever it had
    received. *)

val socket : ?protocol:int -> Unix.socket_domain -> Unix.socket_type -> Fd.t

val socketpair : Unix.socket_domain -> Unix.socket_type -> Fd.t * Fd.t
(** A connected pair. *)

val bind : Fd.t -> Unix.sockaddr -> unit
val listen : Fd.t -> int -> unit

val connect : Fd.t -> Unix.sockaddr -> unit
(** Waits for the connection; raises the error it failed with (ECONNREFUSED...). *)

val accept : Fd.t -> Fd.t * Unix.sockaddr
(** A new close-on-exec, non-blocking connection and its peer's address. *)

val getsockname : Fd.t -> Unix.sockaddr
val getpeername : Fd.t -> Unix.sockaddr
val shutdown : Fd.t -> Unix.shutdown_command -> unit

(** Options whose value is an int. [Raw (level, name)] passes the platform's numbers. *)
type sockopt =
  | Reuseaddr
  | Reuseport
  | Keepalive
  | Broadcast
  | Rcvbuf
  | Sndbuf
  | Tcp_nodelay
  | Ipv6_only
  | Raw of int * int

val setsockopt : Fd.t -> sockopt -> int -> unit
val getsockopt : Fd.t -> sockopt -> int

(** {1 Messages} *)

val send_msg : Fd.t -> string -> Fd.t list -> int
(** Sends [data] as one message with the descriptors passed along (the receiver gets
    descriptors of its own). Returns the count sent. *)

type message = { data : string; fds : Fd.t list; fds_truncated : bool }

val recv_msg : ?max_fds:int -> Fd.t -> int -> message
(** Receives one message of up to [size] bytes with up to [max_fds] descriptors
    (close-on-exec on arrival). [fds_truncated]: more came than fit, and every one that
    arrived was closed. *)

(** {1 Name resolution} *)

(** Flags beyond [Unix.getaddrinfo_option]. *)
type ai_flag = Numericserv | Addrconfig | V4mapped | All

val getaddrinfo : ?flags:ai_flag list -> string -> string -> Unix.getaddrinfo_option list -> Unix.addr_info list
(** As [Unix.getaddrinfo host service options] ("" for no host or no service), except that
    failures raise [Unix_error] with the resolver's text: ENOENT for no such name, EAGAIN
    for a temporary failure... The canonical name ([AI_CANONNAME]) is in the first entry. *)

(** {1 Asynchronous forms} *)

val connect_async : Loop.t -> Fd.t -> Unix.sockaddr -> unit Io.callback -> Loop.op
val accept_async : Loop.t -> Fd.t -> (Fd.t * Unix.sockaddr) Io.callback -> Loop.op
val shutdown_async : Loop.t -> Fd.t -> Unix.shutdown_command -> unit Io.callback -> Loop.op

val send_msg_async :
  Loop.t -> Fd.t -> ?off:int -> ?len:int -> ?dest:Unix.sockaddr -> ?fds:Fd.t list -> Io.buffer -> int Io.callback ->
  Loop.op
(** [dest]: the destination of an unconnected datagram socket. The handles in [fds] are
    held until the callback. *)

type received = {
  length : int;
  received_fds : Fd.t list;
  truncated : bool;  (** a datagram was longer than the buffer *)
  fds_lost : bool;  (** more descriptors came than [max_fds]; all that arrived were closed *)
  from : Unix.sockaddr option;  (** the sender, where the socket type reports one *)
}

val recv_msg_async : Loop.t -> Fd.t -> ?off:int -> ?len:int -> ?max_fds:int -> Io.buffer -> received Io.callback -> Loop.op

val getaddrinfo_async :
  Loop.t -> ?flags:ai_flag list -> string -> string -> Unix.getaddrinfo_option list -> Unix.addr_info list Io.callback ->
  Loop.op
(** Resolves on libuv's worker pool (at most half its threads together). *)

(**/**)

val ai_passive : int
val ai_canonname : int
val ai_numerichost : int
val ai_numericserv : int
val ai_addrconfig : int
val ai_v4mapped : int
val ai_all : int
val msg_trunc : int
val msg_ctrunc : int
