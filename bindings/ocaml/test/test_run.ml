(* SPDX-License-Identifier: MIT *)
open Fdkit

let () =
  Tap.run "run"
    [
      ( "capture, exit code and stdin",
        fun () ->
          let o = Run.run ~stdin:"fed in" [ "sh"; "-c"; "cat; echo err >&2; exit 3" ] in
          Tap.check "status" (o.status = Run.Exited 3);
          Tap.check "output" (o.stdout = "fed in" && o.stderr = "err\n" && not o.timed_out) );
      ( "a timeout kills the group",
        fun () ->
          let o = Run.run ~timeout_ms:100 ~new_group:true [ "sh"; "-c"; "sleep 30 & wait" ] in
          (* OCaml's signal numbering, as Unix.WSIGNALED and Process.wait give it. *)
          Tap.check "timed out" (o.timed_out && o.status = Run.Signaled Sys.sigkill) );
      ( "a directory to start in, and a missing program",
        fun () ->
          let tmp = Unix.realpath (Filename.get_temp_dir_name ()) in
          let o = Run.run ~dir:(Dir.open_dir (Dir.fs ()) tmp) [ "pwd"; "-P" ] in
          Tap.check "pwd" (o.stdout = tmp ^ "\n");
          Tap.expect_error Unix.ENOENT (fun () -> Run.run [ "/nonexistent/program" ]) );
    ]
