(* SPDX-License-Identifier: MIT *)
(* Sockets: create, bind, listen, connect, accept, names, options, the asynchronous forms and
   name resolution. *)
open Fdkit

let buffer n = Bigarray.Array1.create Bigarray.char Bigarray.c_layout n

let buffer_of_string s =
  let b = buffer (String.length s) in
  String.iteri (Bigarray.Array1.set b) s;
  b

let string_of_buffer b n = String.init n (Bigarray.Array1.get b)
let ok = function Ok v -> v | Error (e, d) -> failwith (Unix.error_message e ^ ": " ^ d)

let await loop start =
  let result = ref None in
  ignore (start (fun r -> result := Some r));
  Tap.check "not inside the starting call" (!result = None);
  while !result = None && Loop.run ~mode:Loop.Once loop do () done;
  match !result with Some r -> r | None -> failwith "the callback never ran"

let loopback () =
  let l = Net.socket Unix.PF_INET Unix.SOCK_STREAM in
  Net.setsockopt l Net.Reuseaddr 1;
  Net.bind l (Unix.ADDR_INET (Unix.inet_addr_loopback, 0));
  Net.listen l 8;
  (l, Net.getsockname l)

let () =
  Tap.run "sockets"
    [
      ( "a TCP connection on the loopback, synchronously",
        fun () ->
          let l, addr = loopback () in
          (match addr with Unix.ADDR_INET (_, port) -> Tap.check "port" (port > 0) | _ -> failwith "family");
          Tap.check "option" (Net.getsockopt l Net.Reuseaddr <> 0);
          let c = Net.socket Unix.PF_INET Unix.SOCK_STREAM in
          Net.connect c addr;
          let s, peer = Net.accept l in
          Tap.check "peer" (peer = Net.getsockname c && Net.getpeername c = addr);
          Net.setsockopt c Net.Tcp_nodelay 1;
          Tap.check "nodelay" (Net.getsockopt c Net.Tcp_nodelay <> 0);
          ignore (Io.write c "ping" 0 4);
          let buf = Bytes.create 8 in
          Tap.check "data" (Io.read s buf 0 8 = 4 && Bytes.sub_string buf 0 4 = "ping");
          Net.shutdown c Unix.SHUTDOWN_SEND;
          Tap.check "end of stream" (Io.read s buf 0 8 = 0);
          Tap.expect_error Unix.ENOTCONN (fun () -> Net.getpeername l);
          List.iter Fd.close [ c; s; l ] );
      ( "a refused connection and an unknown option",
        fun () ->
          let l, addr = loopback () in
          Fd.close l;
          let c = Net.socket Unix.PF_INET Unix.SOCK_STREAM in
          Tap.expect_error Unix.ECONNREFUSED (fun () -> Net.connect c addr);
          Tap.expect_error Unix.ENOPROTOOPT (fun () -> Net.getsockopt c (Net.Raw (1 (* SOL_SOCKET *), 0x7fff)) |> ignore);
          Fd.close c );
      ( "accept, connect, send and receive on the loop, with descriptors",
        fun () ->
          let loop = Loop.create () in
          let l, addr = loopback () in
          let accepted = ref None in
          ignore (Net.accept_async loop l (fun r -> accepted := Some (ok r)));
          let c = Net.socket Unix.PF_INET Unix.SOCK_STREAM in
          ok (await loop (Net.connect_async loop c addr));
          while !accepted = None && Loop.run ~mode:Loop.Once loop do () done;
          let s, _ = Option.get !accepted in
          Tap.check "sent" (ok (await loop (Net.send_msg_async loop c (buffer_of_string "hello"))) = 5);
          let buf = buffer 16 in
          let m = ok (await loop (Net.recv_msg_async loop s buf)) in
          Tap.check "received" (string_of_buffer buf m.length = "hello" && m.received_fds = []);
          ok (await loop (Net.shutdown_async loop c Unix.SHUTDOWN_ALL));
          List.iter Fd.close [ c; s; l ];
          let a, b = Net.socketpair Unix.PF_UNIX Unix.SOCK_DGRAM in
          let r, w = Fd.pipe () in
          ignore (ok (await loop (Net.send_msg_async loop a ~fds:[ r; w ] (buffer_of_string "fds"))));
          let m = ok (await loop (Net.recv_msg_async loop b ~max_fds:1 buf)) in
          Tap.check "one fit, the rest were closed" (m.length = 3 && List.length m.received_fds = 0 && m.fds_lost);
          ignore (ok (await loop (Net.send_msg_async loop a ~fds:[ r ] (buffer_of_string "fd"))));
          let m = ok (await loop (Net.recv_msg_async loop b ~max_fds:2 buf)) in
          Tap.check "passed" (List.length m.received_fds = 1);
          List.iter Fd.close (m.received_fds @ [ a; b; r; w ]);
          Loop.close loop );
      ( "a cancelled accept leaves the listener usable",
        fun () ->
          let loop = Loop.create () in
          let l, addr = loopback () in
          let op = Net.accept_async loop l (fun _ -> ()) in
          Tap.check "cancelled" (Loop.cancel op);
          ignore (Loop.run loop);
          let c = Net.socket Unix.PF_INET Unix.SOCK_STREAM in
          Net.connect c addr;
          let s, _ = Net.accept l in
          List.iter Fd.close [ c; s; l ];
          Loop.close loop );
      ( "name resolution returns Unix.addr_info records",
        fun () ->
          let ai = Net.getaddrinfo "127.0.0.1" "80" [ Unix.AI_NUMERICHOST; Unix.AI_SOCKTYPE Unix.SOCK_STREAM ] in
          Tap.check "one entry"
            (match ai with
            | [ { Unix.ai_family = Unix.PF_INET; ai_socktype = Unix.SOCK_STREAM; ai_addr = Unix.ADDR_INET (a, 80); _ } ] ->
                a = Unix.inet_addr_loopback
            | _ -> false);
          Tap.expect_error Unix.ENOENT (fun () -> Net.getaddrinfo "no-such-host.invalid" "" [ Unix.AI_NUMERICHOST ]);
          Tap.expect_error Unix.ENOENT (fun () -> Net.getaddrinfo ~flags:[ Net.Numericserv ] "127.0.0.1" "http" []);
          let loop = Loop.create () in
          let ai = ok (await loop (Net.getaddrinfo_async loop "::1" "443" [ Unix.AI_NUMERICHOST ])) in
          Tap.check "async" (List.exists (fun a -> a.Unix.ai_addr = Unix.ADDR_INET (Unix.inet_addr_of_string "::1", 443)) ai);
          Loop.close loop );
      ( "a dropped op still calls back: its state is rooted until then",
        fun () ->
          let loop = Loop.create () in
          let l, addr = loopback () in
          let got = ref None in
          ignore (Net.accept_async loop l (fun r -> got := Some r));
          let buf = buffer 8 in
          let a, b = Net.socketpair Unix.PF_UNIX Unix.SOCK_STREAM in
          let received = ref None in
          ignore (Net.recv_msg_async loop b ~max_fds:2 buf (fun r -> received := Some r));
          Gc.compact ();
          let c = Net.socket Unix.PF_INET Unix.SOCK_STREAM in
          Net.connect c addr;
          ignore (Net.send_msg a "x" []);
          while (!got = None || !received = None) && Loop.run ~mode:Loop.Once loop do () done;
          (match !got with Some (Ok (s, _)) -> Fd.close s | _ -> failwith "accept");
          (match !received with Some (Ok m) -> Tap.check "one byte" (m.length = 1) | _ -> failwith "recv");
          List.iter Fd.close [ a; b; c; l ];
          Loop.close loop );
    ]
