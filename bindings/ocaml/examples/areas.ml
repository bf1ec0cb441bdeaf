(* SPDX-License-Identifier: MIT *)
let site = Fdkit.Dir.open_dir (Fdkit.Dir.fs ()) "site" (* paths below resolve inside site/ *)
let () =
  match Fdkit.Dir.openat site "../etc/passwd" with
  | _ -> assert false
  | exception Unix.Unix_error (Unix.EXDEV, _, detail) -> print_endline detail

let o = Fdkit.Run.run ~timeout_ms:200 ~new_group:true [ "sh"; "-c"; "echo hi; sleep 10" ]
(* o.stdout = "hi\n", o.timed_out = true, o.status = Signaled 9 *)

let a, b = Fdkit.Net.socketpair Unix.PF_UNIX Unix.SOCK_STREAM
let r, _w = Fdkit.Fd.pipe ()
let _ = Fdkit.Net.send_msg a "take this" [ r ] (* b receives a descriptor of its own *)
let m = Fdkit.Net.recv_msg ~max_fds:4 b 64     (* m.data, m.fds, m.fds_truncated *)

let () =
  Fdkit.Trace.start ();
  ignore (Fdkit.Dir.stat site "index.html");
  Fdkit.Trace.stop ();
  List.iter (fun (e : Fdkit.Trace.event) -> if not e.begin_ then print_endline e.name) (fst (Fdkit.Trace.take ()))
