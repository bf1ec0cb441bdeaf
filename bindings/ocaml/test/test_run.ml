(* SPDX-License-Identifier: MIT *)
open Fdkit

let sh script = [ "sh"; "-c"; script ]

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
      ( "environment, cwd, streams and stdin from a descriptor",
        fun () ->
          let o = Run.run ~env:[ "FOO=bar" ] ~cwd:"/" (sh "echo $FOO; pwd; echo err >&2") in
          Tap.check "env and cwd" (o.stdout = "bar\n/\n" && o.stderr = "err\n");
          let o = Run.run ~stderr:Run.Merge (sh "echo out; echo err >&2") in
          Tap.check "merged" (o.stdout = "out\nerr\n" && o.stderr = "");
          let o = Run.run ~stdout:Run.Discard (sh "echo gone") in
          Tap.check "discarded" (o.stdout = "");
          let r, w = Fd.pipe () in
          ignore (Io.write w "piped" 0 5);
          Fd.close w;
          let o = Run.run ~stdin_fd:r [ "cat" ] in
          Fd.close r;
          Tap.check "stdin fd" (o.stdout = "piped");
          let tmp = Unix.realpath (Filename.get_temp_dir_name ()) in
          let d = Dir.openat ~flags:Dir.(directory lor path) (Dir.fs ()) tmp in
          Tap.check "cwd fd" ((Run.run ~cwd_fd:d [ "pwd"; "-P" ]).stdout = tmp ^ "\n");
          Fd.close d;
          Tap.check "the result's facts" (o.pid > 0 && o.duration_ns > 0 && o.rusage.maxrss_kib <> 0) );
      ( "output limits, early exit and descriptors kept",
        fun () ->
          let o = Run.run ~max_output:10 (sh "head -c 100 /dev/zero") in
          Tap.check "truncated" (o.truncated && String.length o.stdout = 10 && o.status = Run.Exited 0);
          let o = Run.run ~max_output:10 ~stop_at_max_output:true [ "yes" ] in
          Tap.check "stopped at the limit" (o.truncated && o.status = Run.Signaled Sys.sigkill);
          let o = Run.run ~early_exit:(fun so_far -> String.length so_far >= 4) [ "yes" ] in
          Tap.check "early exit" (o.early_exit && o.status = Run.Signaled Sys.sigkill);
          (match Run.run ~early_exit:(fun _ -> failwith "from the predicate") [ "yes" ] with
          | _ -> failwith "the exception was lost"
          | exception Failure m -> Tap.check "re-raised" (m = "from the predicate"));
          let r, w = Unix.pipe () in
          let keep : int = Obj.magic w (* Unix.file_descr is the descriptor number on Unix *) in
          let o = Run.run ~fds:(Run.Keep [ w ]) (sh (Printf.sprintf "echo kept >&%d && echo yes" keep)) in
          Tap.check "kept" (o.stdout = "yes\n");
          let o = Run.run ~fds:Run.Close_from_3 (sh (Printf.sprintf "echo kept >&%d || echo closed" keep)) in
          Tap.check "closed" (o.stdout = "closed\n");
          Unix.close w;
          Unix.close r );
      ( "a graceful cancel with its stop signal, and abandoned pipes",
        fun () ->
          let o = Run.run ~timeout_ms:100 ~cancel:Run.Graceful ~stop_signal:Sys.sigusr1 [ "sleep"; "30" ] in
          Tap.check "stop signal, OCaml's number" (o.timed_out && o.status = Run.Signaled Sys.sigusr1);
          let o = Run.run ~kill_grace_ms:100 (sh "sleep 2 & echo started") in
          Tap.check "abandoned" (o.pipes_abandoned && o.stdout = "started\n" && o.status = Run.Exited 0) );
      ( "run_async, a signal passed on, and a cancel",
        fun () ->
          let loop = Loop.create () in
          let got = ref None in
          let op = Run.run_async loop ~group:Run.New_group [ "sleep"; "30" ] (fun r -> got := Some r) in
          Tap.check "not inside the call" (!got = None);
          ignore (Loop.run ~mode:Loop.Nowait loop);
          Run.signal op Sys.sigterm;
          ignore (Loop.run loop);
          (match !got with
          | Some (Ok o) -> Tap.check "signalled" (o.status = Run.Signaled Sys.sigterm)
          | _ -> failwith "no result");
          got := None;
          let op = Run.run_async loop [ "sleep"; "30" ] (fun r -> got := Some r) in
          Tap.check "cancel" (Loop.cancel op);
          ignore (Loop.run loop);
          (match !got with
          | Some (Ok o) -> Tap.check "killed" (o.status = Run.Signaled Sys.sigkill)
          | _ -> failwith "no result");
          Tap.expect_error Unix.ENOENT (fun () -> Run.run_async loop [ "/nonexistent/x" ] ignore);
          Loop.close loop );
      ( "run_async keeps its options and predicate alive through collections",
        fun () ->
          let loop = Loop.create () in
          let got = ref None and calls = ref 0 in
          ignore
            (Run.run_async loop
               ~early_exit:(fun out -> incr calls; String.length out >= 100)
               [ "yes" ] (fun r -> got := Some r));
          (* nothing but the pending state refers to the options now *)
          Gc.compact ();
          ignore (Loop.run loop);
          (match !got with
          | Some (Ok o) -> Tap.check "stopped by the predicate" (o.early_exit && !calls > 0)
          | _ -> failwith "no result");
          Loop.close loop );
    ]
