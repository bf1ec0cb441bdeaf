(* SPDX-License-Identifier: MIT *)
open Fdkit

let () =
  Tap.run "net"
    [
      ( "descriptor passing, and reading through the passed pipe",
        fun () ->
          let a, b = Net.socketpair Unix.PF_UNIX Unix.SOCK_STREAM in
          let r, w = Fd.pipe () in
          Tap.check "sent" (Net.send_msg a "take these" [ r; w ] = 10);
          let m = Net.recv_msg ~max_fds:4 b 64 in
          Tap.check "received" (m.data = "take these" && List.length m.fds = 2 && not m.fds_truncated);
          (match m.fds with
          | [ r2; w2 ] ->
              ignore (Io.write w2 "through" 0 7);
              let buf = Bytes.create 16 in
              let n = Io.read r2 buf 0 16 in
              Tap.check "through it" (Bytes.sub_string buf 0 n = "through");
              Fd.close r2;
              Fd.close w2
          | _ -> failwith "two descriptors");
          ignore (Net.send_msg a "x" [ r; w ]);
          let m = Net.recv_msg ~max_fds:1 b 8 in
          Tap.check "truncated, nothing leaked" (m.data = "x" && m.fds = [] && m.fds_truncated);
          List.iter Fd.close [ a; b; r; w ] );
      ( "shutdown and errors",
        fun () ->
          let a, b = Net.socketpair Unix.PF_UNIX Unix.SOCK_SEQPACKET in
          Net.shutdown a Unix.SHUTDOWN_SEND;
          Tap.check "end of stream" ((Net.recv_msg b 8).data = "");
          let r, w = Fd.pipe () in
          Tap.expect_error Unix.ENOTSOCK (fun () -> Net.shutdown r Unix.SHUTDOWN_ALL);
          List.iter Fd.close [ a; b; r; w ] );
    ]
