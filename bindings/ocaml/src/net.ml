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

(* Sockets: close-on-exec and non-blocking handles; calls that wait (connect, accept) do it
   without the runtime lock. Addresses are Unix.sockaddr values. *)
external socket_raw : Unix.socket_domain -> Unix.socket_type -> int -> Fd.t = "fdkml_socket"

let socket ?(protocol = 0) domain kind = socket_raw domain kind protocol

external bind : Fd.t -> Unix.sockaddr -> unit = "fdkml_bind"
external listen : Fd.t -> int -> unit = "fdkml_listen"
external connect : Fd.t -> Unix.sockaddr -> unit = "fdkml_connect"
external accept : Fd.t -> Fd.t * Unix.sockaddr = "fdkml_accept"
external getsockname : Fd.t -> Unix.sockaddr = "fdkml_getsockname"
external getpeername : Fd.t -> Unix.sockaddr = "fdkml_getpeername"

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

external setsockopt : Fd.t -> sockopt -> int -> unit = "fdkml_setsockopt"
external getsockopt : Fd.t -> sockopt -> int = "fdkml_getsockopt"

let ai_passive = 0x01
let ai_canonname = 0x02
let ai_numerichost = 0x04
let ai_numericserv = 0x08
let ai_addrconfig = 0x10
let ai_v4mapped = 0x20
let ai_all = 0x40

type ai_flag = Numericserv | Addrconfig | V4mapped | All

let domain_index = function Unix.PF_UNIX -> 0 | Unix.PF_INET -> 1 | Unix.PF_INET6 -> 2
let type_index = function Unix.SOCK_STREAM -> 0 | Unix.SOCK_DGRAM -> 1 | Unix.SOCK_RAW -> 2 | Unix.SOCK_SEQPACKET -> 3

let query host service opts flags =
  let family, socktype, protocol, bits =
    List.fold_left
      (fun (f, t, p, b) -> function
        | Unix.AI_FAMILY d -> (domain_index d, t, p, b)
        | Unix.AI_SOCKTYPE k -> (f, type_index k, p, b)
        | Unix.AI_PROTOCOL n -> (f, t, n, b)
        | Unix.AI_NUMERICHOST -> (f, t, p, b lor ai_numerichost)
        | Unix.AI_CANONNAME -> (f, t, p, b lor ai_canonname)
        | Unix.AI_PASSIVE -> (f, t, p, b lor ai_passive))
      (-1, -1, 0, 0) opts
  in
  let bits =
    List.fold_left
      (fun b -> function
        | Numericserv -> b lor ai_numericserv
        | Addrconfig -> b lor ai_addrconfig
        | V4mapped -> b lor ai_v4mapped
        | All -> b lor ai_all)
      bits flags
  in
  (host, service, family, socktype, protocol, bits)

external getaddrinfo_raw : string * string * int * int * int * int -> Unix.addr_info list = "fdkml_getaddrinfo"

let getaddrinfo ?(flags = []) host service opts = getaddrinfo_raw (query host service opts flags)

external getaddrinfo_async_raw :
  Loop.t -> string * string * int * int * int * int -> (int -> string -> Unix.addr_info list -> unit) -> Loop.op
  = "fdkml_getaddrinfo_async"

let payload_result k r d payload = k (Common.result r d (fun _ -> payload))

let getaddrinfo_async loop ?(flags = []) host service opts k =
  getaddrinfo_async_raw loop (query host service opts flags) (payload_result k)

external connect_async_raw : Loop.t -> Fd.t -> Unix.sockaddr -> (int -> string -> unit) -> Loop.op
  = "fdkml_connect_async"

let connect_async loop fd addr k = connect_async_raw loop fd addr (fun r d -> k (Common.result r d ignore))

external accept_async_raw : Loop.t -> Fd.t -> (int -> string -> Fd.t * Unix.sockaddr -> unit) -> Loop.op
  = "fdkml_accept_async"

let accept_async loop fd k = accept_async_raw loop fd (payload_result k)

external shutdown_async_raw : Loop.t -> Fd.t -> Unix.shutdown_command -> (int -> string -> unit) -> Loop.op
  = "fdkml_shutdown_async"

let shutdown_async loop fd how k = shutdown_async_raw loop fd how (fun r d -> k (Common.result r d ignore))

external send_msg_async_raw :
  Loop.t -> Fd.t -> Io.buffer * int * int -> Unix.sockaddr option -> Fd.t list -> (int -> string -> unit) -> Loop.op
  = "fdkml_send_msg_async_bc" "fdkml_send_msg_async"

let send_msg_async loop fd ?(off = 0) ?len ?dest ?(fds = []) buf k =
  let len = Io.span "send_msg_async" buf off len in
  send_msg_async_raw loop fd (buf, off, len) dest fds (fun r d -> k (Common.result r d Fun.id))

type received = {
  length : int;
  received_fds : Fd.t list;
  truncated : bool;
  fds_lost : bool;
  from : Unix.sockaddr option;
}

let msg_trunc = 0x1
let msg_ctrunc = 0x2

external recv_msg_async_raw :
  Loop.t -> Fd.t -> Io.buffer * int * int -> int -> (int -> string -> Fd.t list * int * Unix.sockaddr option -> unit) ->
  Loop.op = "fdkml_recv_msg_async"

let recv_msg_async loop fd ?(off = 0) ?len ?(max_fds = 0) buf k =
  let len = Io.span "recv_msg_async" buf off len in
  (* the payload is () unless r >= 0: read it only in the success branch *)
  recv_msg_async_raw loop fd (buf, off, len) max_fds (fun r d payload ->
      k
        (Common.result r d (fun length ->
             let fds, flags, from = payload in
             { length; received_fds = fds; truncated = flags land msg_trunc <> 0; fds_lost = flags land msg_ctrunc <> 0; from })))
