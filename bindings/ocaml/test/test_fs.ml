(* SPDX-License-Identifier: MIT *)
open Fdkit

let temp_top () =
  let top = Filename.concat (Filename.get_temp_dir_name ()) (Printf.sprintf "fdkit-ml-%d-%d" (Unix.getpid ()) (Random.bits ())) in
  Unix.mkdir top 0o755;
  Unix.mkdir (Filename.concat top "root") 0o755;
  let oc = open_out (Filename.concat top "secret") in
  output_string oc "outside";
  close_out oc;
  top

let remove_top top =
  Sys.remove (Filename.concat top "secret");
  Unix.rmdir (Filename.concat top "root");
  Unix.rmdir top

let () =
  Random.self_init ();
  Tap.run "fs"
    [
      ( "a NUL byte in a path or argument is ENOENT, as in Unix.openfile",
        fun () ->
          let top = temp_top () in
          let dir = Dir.open_dir (Dir.fs ()) top in
          let enoent what f =
            match f () with
            | _ -> failwith (what ^ ": accepted")
            | exception Unix.Unix_error (Unix.ENOENT, _, _) -> ()
          in
          (* The reference: OCaml's own call. *)
          enoent "Unix.openfile" (fun () -> ignore (Unix.openfile (Filename.concat top "secret\000.png") [ Unix.O_RDONLY ] 0));
          enoent "openat" (fun () -> ignore (Dir.openat dir "secret\000.png"));
          enoent "stat" (fun () -> ignore (Dir.stat dir "secret\000.png"));
          enoent "unlink" (fun () -> Dir.unlink dir "secret\000x");
          enoent "open_dir" (fun () -> ignore (Dir.open_dir (Dir.fs ()) (top ^ "\000/root")));
          enoent "symlink" (fun () -> Dir.symlink "a\000b" dir "link");
          enoent "run" (fun () -> ignore (Run.run [ "echo"; "a\000b" ]));
          enoent "spawn" (fun () -> ignore (Process.spawn [ "true\000x" ]));
          Tap.check "the file is untouched" (Sys.file_exists (Filename.concat top "secret"));
          ignore dir;
          remove_top top );
      ( "files, directories, links and stat",
        fun () ->
          let top = temp_top () in
          let root = Dir.open_dir (Dir.fs ()) (Filename.concat top "root") in
          let f = Dir.openat ~flags:Dir.(wronly lor creat) ~mode:0o640 root "a.txt" in
          Tap.check "write" (Io.write f "hello" 0 5 = 5);
          Fd.close f;
          Dir.mkdir root "sub";
          Dir.symlink "../a.txt" root "sub/link";
          Tap.check "readlink" (Dir.readlink root "sub/link" = "../a.txt");
          let g = Dir.openat root "sub/link" in
          let buf = Bytes.create 16 in
          let n = Io.read g buf 0 16 in
          Fd.close g;
          Tap.check "read through the link" (Bytes.sub_string buf 0 n = "hello");
          let st = Dir.stat root "a.txt" in
          Tap.check "stat" (st.kind = Dir.Regular && st.size = 5L && st.perm = 0o640);
          Tap.check "lstat" ((Dir.stat ~follow:false root "sub/link").kind = Dir.Symlink);
          Tap.check "readdir" (Dir.readdir root = [ "a.txt"; "sub" ]);
          Dir.unlink root "sub/link";
          Dir.rmdir root "sub";
          Dir.unlink root "a.txt";
          Tap.expect_error Unix.ENOENT (fun () -> Dir.stat root "a.txt");
          remove_top top );
      ( "escapes are refused with EXDEV",
        fun () ->
          let top = temp_top () in
          let root = Dir.open_dir (Dir.fs ()) (Filename.concat top "root") in
          Dir.symlink "../secret" root "out";
          Dir.symlink "/etc" root "abs";
          List.iter
            (fun path -> Tap.expect_error Unix.EXDEV (fun () -> Dir.openat root path))
            [ "../secret"; "out"; "abs/passwd"; "/etc/passwd" ];
          Tap.expect_error Unix.EXDEV (fun () -> Dir.open_dir root "..");
          Dir.unlink root "out";
          Dir.unlink root "abs";
          remove_top top );
    ]
