(* SPDX-License-Identifier: MIT *)
open Fdkit

let () =
  (* Sockets: Unix.sockaddr in, Unix.addr_info out. *)
  let listener = Net.socket Unix.PF_INET Unix.SOCK_STREAM in
  Net.setsockopt listener Net.Reuseaddr 1;
  Net.bind listener (Unix.ADDR_INET (Unix.inet_addr_loopback, 0));
  Net.listen listener 16;
  let addr = Net.getsockname listener in
  let loop = Loop.create () in
  ignore
    (Net.accept_async loop listener (function
      | Ok (conn, _peer) -> ignore (Io.write conn "hi" 0 2); Fd.close conn
      | Error (err, detail) -> prerr_endline (Unix.error_message err ^ ": " ^ detail)));
  let client = Net.socket Unix.PF_INET Unix.SOCK_STREAM in
  ignore (Net.connect_async loop client addr (fun r -> Common.ok_exn ~call:"connect" r));
  ignore (Loop.run loop);
  let buf = Bytes.create 2 in
  assert (Io.read client buf 0 2 = 2);
  List.iter Fd.close [ client; listener ];
  (match Net.getaddrinfo "127.0.0.1" "80" [ Unix.AI_NUMERICHOST; Unix.AI_SOCKTYPE Unix.SOCK_STREAM ] with
  | ai :: _ -> assert (ai.Unix.ai_addr = Unix.ADDR_INET (Unix.inet_addr_loopback, 80))
  | [] -> assert false);

  (* Asynchronous file system calls beneath a confined directory. *)
  let tmp = Dir.open_dir (Dir.fs ()) (Filename.get_temp_dir_name ()) in
  let name = Printf.sprintf "fdkit-tour-%d" (Unix.getpid ()) in
  ignore
    (Dir.mkdir_async loop tmp name (fun r ->
         Common.ok_exn r;
         ignore (Dir.stat_async loop tmp name (fun st -> assert ((Common.ok_exn st).kind = Dir.Directory)))));
  ignore (Loop.run loop);
  Dir.rmdir tmp name;

  (* A child built from actions; signal numbers are OCaml's. *)
  let p =
    Process.spawn ~actions:Process.[ Setpgid 0; Umask 0o077; Rlimit (Nofile, 256, 256); Signal_ignore Sys.sighup ]
      [ "sleep"; "30" ]
  in
  Process.signal_group p Sys.sigterm;
  assert (Process.wait p = Unix.WSIGNALED Sys.sigterm);

  (* A run with a stop predicate and a graceful timeout. *)
  let o = Run.run ~early_exit:(fun out -> String.length out >= 6) [ "yes" ] in
  assert (o.early_exit && String.length o.stdout >= 6);
  let o = Run.run ~timeout_ms:50 ~cancel:Run.Graceful ~kill_grace_ms:500 [ "sleep"; "30" ] in
  assert (o.timed_out && o.status = Run.Signaled Sys.sigterm);
  Loop.close loop;
  print_endline "tour done"
