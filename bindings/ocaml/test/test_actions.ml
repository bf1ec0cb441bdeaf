(* SPDX-License-Identifier: MIT *)
(* Every spawn action, the exec forms and backends, group signals, pidfds and the reaping of
   detached children. Signal numbers are OCaml's (Sys.sigterm...) throughout. *)
open Fdkit

(* Runs argv with its stdout on a pipe; returns (status, what it wrote). *)
let output ?actions ?env ?program ?backend argv =
  let r, w = Fd.pipe () in
  let p = Process.spawn ~fds:[ (1, w) ] ?actions ?env ?program ?backend argv in
  Fd.close w;
  let buf = Buffer.create 64 and chunk = Bytes.create 4096 in
  let rec drain () =
    let n = Io.read r chunk 0 4096 in
    if n > 0 then (Buffer.add_subbytes buf chunk 0 n; drain ())
  in
  drain ();
  Fd.close r;
  let st = Process.wait p in
  (st, Buffer.contents buf)

let sh script = [ "sh"; "-c"; script ]
(* Running or stopped: neither gone nor a zombie waiting for whoever adopted it. *)
let alive pid =
  match open_in (Printf.sprintf "/proc/%d/stat" pid) with
  | exception Sys_error _ -> false
  | ic ->
      let line = input_line ic in
      close_in ic;
      let state = line.[String.rindex line ')' + 2] in
      state <> 'Z' && state <> 'X'

let () =
  Tap.run "actions"
    [
      ( "umask, rlimit, no_new_privs, env and execve",
        fun () ->
          let st, out =
            output
              ~actions:Process.[ Umask 0o027; Rlimit (Nofile, 64, 64); No_new_privs ]
              (sh "umask; ulimit -n; grep NoNewPrivs /proc/self/status")
          in
          Tap.check "status" (st = Unix.WEXITED 0);
          Tap.check "applied" (out = "0027\n64\nNoNewPrivs:\t1\n");
          let _, out = output ~env:[ "FOO=bar" ] ~program:"/bin/sh" [ "my-name"; "-c"; "echo $FOO $0" ] in
          Tap.check "execve" (out = "bar my-name\n");
          Tap.expect_error Unix.EINVAL (fun () -> output ~actions:Process.[ Umask 0o1000 ] [ "true" ]);
          Tap.expect_error Unix.EINVAL (fun () -> output ~actions:Process.[ Rlimit (Nofile, 64, 32) ] [ "true" ]) );
      ( "ignored and default signals, in OCaml's numbering",
        fun () ->
          let p = Process.spawn ~actions:Process.[ Signal_ignore Sys.sigusr1 ] [ "sleep"; "30" ] in
          Process.signal p Sys.sigusr1;
          Unix.sleepf 0.1;
          Tap.check "ignored" (Process.try_wait p = None);
          Process.signal p Sys.sigkill;
          Tap.check "killed" (Process.wait p = Unix.WSIGNALED Sys.sigkill);
          let st, _ = output ~actions:Process.[ Signal_default Sys.sigterm ] (sh "kill -TERM $$; sleep 5") in
          Tap.check "default" (st = Unix.WSIGNALED Sys.sigterm);
          Tap.expect_error Unix.EINVAL (fun () -> output ~actions:Process.[ Signal_ignore Sys.sigkill ] [ "true" ]);
          let st, _ = output ~actions:Process.[ Pdeathsig Sys.sigterm ] [ "true" ] in
          Tap.check "pdeathsig" (st = Unix.WEXITED 0) );
      ( "a new group and signal_group",
        fun () ->
          let r, w = Fd.pipe () in
          let p = Process.spawn ~fds:[ (1, w) ] ~actions:Process.[ Setpgid 0 ] (sh "sleep 30 & echo $!; wait") in
          Fd.close w;
          let buf = Bytes.create 32 in
          let n = Io.read r buf 0 32 in
          let grandchild = int_of_string (String.trim (Bytes.sub_string buf 0 n)) in
          Process.signal_group p Sys.sigterm;
          Tap.check "child" (Process.wait p = Unix.WSIGNALED Sys.sigterm);
          Unix.sleepf 0.1;
          Tap.check "grandchild too" (not (alive grandchild));
          Fd.close r;
          Tap.expect_error Unix.ESRCH (fun () -> Process.signal_group p Sys.sigterm) );
      ( "ids, groups and a refused login_tty",
        fun () ->
          let st, out = output ~actions:Process.[ Setgid (Unix.getgid ()); Setuid (Unix.getuid ()) ] [ "id"; "-u" ] in
          Tap.check "same ids" (st = Unix.WEXITED 0 && out = string_of_int (Unix.getuid ()) ^ "\n");
          if Unix.getuid () <> 0 then
            Tap.expect_error Unix.EPERM (fun () -> output ~actions:Process.[ Setuid 0 ] [ "true" ])
          else Tap.check "groups" (fst (output ~actions:Process.[ Setgroups [ 0 ] ] [ "true" ]) = Unix.WEXITED 0);
          let r, w = Fd.pipe () in
          Tap.expect_error Unix.ENOTTY (fun () -> output ~actions:Process.[ Login_tty r ] [ "true" ]);
          List.iter Fd.close [ r; w ] );
      ( "fchdir, a raw inherited descriptor, every backend",
        fun () ->
          let tmp = Unix.realpath (Filename.get_temp_dir_name ()) in
          let d = Dir.openat ~flags:Dir.(directory lor path) (Dir.fs ()) tmp in
          let _, out = output ~actions:Process.[ Fchdir d ] [ "pwd"; "-P" ] in
          Fd.close d;
          Tap.check "fchdir" (out = tmp ^ "\n");
          let r, w = Unix.pipe ~cloexec:true () in
          let p = Process.spawn ~actions:Process.[ Inherit_raw (7, w, Blocking) ] (sh "echo raw >&7") in
          Unix.close w;
          Tap.check "exit" (Process.wait p = Unix.WEXITED 0);
          let buf = Bytes.create 8 in
          Tap.check "raw" (Unix.read r buf 0 8 = 4);
          Unix.close r;
          List.iter
            (fun backend -> Tap.check "backend" (output ~backend (sh "echo ok") = (Unix.WEXITED 0, "ok\n")))
            Process.[ Auto; Fork; Posix_spawn ] );
      ( "a pidfd, and a dropped handle's child is reaped, never a zombie",
        fun () ->
          let p = Process.spawn [ "sleep"; "0.2" ] in
          (match Process.pidfd p with
          | fd -> Tap.check "pidfd" ((Unix.fstat fd).Unix.st_kind <> Unix.S_DIR)
          | exception Unix.Unix_error (Unix.EUNKNOWNERR _, _, _) -> () (* ENOTSUP: a kernel without pidfds *));
          let pid = Process.pid p in
          ignore (Sys.opaque_identity p);
          Gc.full_major ();
          Tap.check "still running" (alive pid && Process.reap_detached () >= 1);
          Unix.sleepf 0.5;
          (* our own child: once reaped its /proc entry is gone; a zombie would keep it *)
          Tap.check "reaped" (Process.reap_detached () = 0 && not (Sys.file_exists (Printf.sprintf "/proc/%d" pid))) );
      ( "on_exit runs on the loop with the status, also for a dropped process",
        fun () ->
          let loop = Loop.create () in
          let got = ref None in
          ignore (Process.spawn ~on_exit:(loop, fun r -> got := Some r) (sh "exit 3"));
          (* nothing but the pending exit refers to the process now *)
          Gc.compact ();
          Tap.check "not inside the call" (!got = None);
          ignore (Loop.run loop);
          Tap.check "status" (!got = Some (Ok (Unix.WEXITED 3)));
          let p = Process.spawn ~on_exit:(loop, fun r -> got := Some r) [ "sleep"; "30" ] in
          Process.signal p Sys.sigterm;
          ignore (Loop.run loop);
          Tap.check "signalled, OCaml's number" (!got = Some (Ok (Unix.WSIGNALED Sys.sigterm)));
          got := None;
          let p = Process.spawn ~on_exit:(loop, fun r -> got := Some r) [ "sleep"; "30" ] in
          let pid = Process.pid p in
          Loop.close loop;
          (match !got with
          | Some (Error (e, _)) -> Tap.check "closing the loop cancels" (Common.is_cancelled e)
          | _ -> failwith "no ECANCELED");
          Process.signal p Sys.sigkill;
          Tap.check "reaped by wait" (Process.wait p = Unix.WSIGNALED Sys.sigkill && not (alive pid));
          match Process.spawn ~on_exit:(loop, ignore) [ "true" ] with
          | _ -> failwith "spawned on a closed loop"
          | exception Invalid_argument _ -> () );
    ]
