(* SPDX-License-Identifier: MIT *)
open Fdkit

let () =
  Tap.run "process"
    [
      ( "inherited descriptor, cwd and exit code",
        fun () ->
          let r, w = Fd.pipe () in
          let tmp = Unix.realpath (Filename.get_temp_dir_name ()) in
          let p = Process.spawn ~cwd:tmp ~fds:[ (5, w) ] ~close_other_fds:true [ "sh"; "-c"; "pwd -P >&5; exit 7" ] in
          Fd.close w;
          Tap.check "pid" (Process.pid p > 0);
          Tap.check "exit code" (Process.wait p = Unix.WEXITED 7);
          let buf = Bytes.create 4096 in
          let n = Io.read r buf 0 4096 in
          Tap.check "cwd" (Bytes.sub_string buf 0 n = tmp ^ "\n");
          Fd.close r );
      ( "signal, try_wait, and a reaped child",
        fun () ->
          let p = Process.spawn ~setsid:true [ "sleep"; "30" ] in
          Tap.check "running" (Process.try_wait p = None);
          Process.signal p Sys.sigterm;
          Tap.check "killed" (Process.wait p = Unix.WSIGNALED Sys.sigterm);
          Tap.expect_error Unix.ESRCH (fun () -> Process.signal p Sys.sigterm) );
      ( "a failing action names itself",
        fun () ->
          (match Process.spawn ~cwd:"/nonexistent-dir" [ "true" ] with
          | _ -> failwith "spawned"
          | exception Unix.Unix_error (Unix.ENOENT, _, detail) ->
              Tap.check "names chdir" (let re = Str.regexp_string "chdir" in try ignore (Str.search_forward re detail 0); true with Not_found -> false));
          Tap.expect_error Unix.ENOENT (fun () -> Process.spawn [ "no-such-program-anywhere" ]) );
    ]
