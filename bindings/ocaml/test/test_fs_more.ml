(* SPDX-License-Identifier: MIT *)
(* The fs calls beyond open/stat/readdir: rename flags, links, permissions, owners, times,
   realpath, streaming directories, descriptor-based dirs, and every asynchronous form. *)
open Fdkit
open Fs_util

let () =
  Random.self_init ();
  Tap.run "fs-more"
    [
      ( "rename, noreplace, exchange and link",
        fun () ->
          let _, d, cleanup = scratch () in
          write_file d "a" "A";
          write_file d "b" "B";
          Tap.expect_error Unix.EEXIST (fun () -> Dir.rename ~noreplace:true d "a" d "b");
          (match Dir.rename ~exchange:true d "a" d "b" with
          | () -> Tap.check "exchanged" (read_file d "a" = "B" && read_file d "b" = "A")
          | exception Unix.Unix_error (Unix.EINVAL, _, _) -> () (* a file system without RENAME_EXCHANGE *));
          Dir.rename d "a" d "c";
          Tap.check "renamed" (Dir.readdir d = [ "b"; "c" ]);
          Dir.link d "c" d "hard";
          Tap.check "nlink" ((Dir.stat d "c").nlink = 2 && (Dir.stat d "hard").ino = (Dir.stat d "c").ino);
          cleanup () );
      ( "chmod, chown, utimes and the whole stat",
        fun () ->
          let _, d, cleanup = scratch () in
          write_file d "f" "12345";
          Dir.chmod d "f" 0o600;
          let st = Dir.stat d "f" in
          Tap.check "perm" (st.perm = 0o600 && st.mode land 0o7777 = 0o600);
          Tap.check "owner" (st.uid = Unix.getuid () && st.gid = Unix.getgid ());
          Dir.chown ~uid:(Unix.getuid ()) d "f";
          Dir.utimes ~atime:(Dir.At 1000.5) ~mtime:(Dir.At 2000.) d "f";
          let st = Dir.stat d "f" in
          Tap.check "times" (st.atime = 1000.5 && st.mtime = 2000.);
          Dir.utimes ~mtime:Dir.Now d "f";
          let st2 = Dir.stat d "f" in
          Tap.check "now, atime omitted" (st2.atime = 1000.5 && st2.mtime > 2000.);
          Tap.check "blocks and size" (st.size = 5L && st.blksize > 0 && st.ctime > 0.);
          Dir.symlink "f" d "l";
          (* a symlink has no permission bits of its own *)
          Tap.expect_error Unix.EOPNOTSUPP (fun () -> Dir.chmod ~follow:false d "l" 0o644);
          Tap.expect_error Unix.EINVAL (fun () -> Dir.chmod d "f" 0o10000);
          let f = Dir.openat d "f" in
          Tap.check "fstat" ((Dir.fstat f).ino = st.ino);
          Fd.close f;
          cleanup () );
      ( "realpath stays relative beneath a confined dir",
        fun () ->
          let top, d, cleanup = scratch () in
          Dir.mkdir d "sub";
          Dir.symlink "sub" d "link";
          Tap.check "relative" (Dir.realpath d "link/../sub" = "sub" || Dir.realpath d "link" = "sub");
          Tap.check "itself" (Dir.realpath d "" = ".");
          Tap.check "absolute" (Dir.realpath (Dir.fs ()) top = Unix.realpath top);
          Tap.expect_error Unix.EXDEV (fun () -> Dir.realpath d "..");
          cleanup () );
      ( "an escape is told from a cross-device EXDEV",
        fun () ->
          let _, d, cleanup = scratch () in
          (match Dir.openat d "../x" with
          | _ -> failwith "escaped"
          | exception Unix.Unix_error (Unix.EXDEV, _, _) -> Tap.check "escape" (Common.last_error_is_escape ()));
          Tap.expect_error Unix.ENOENT (fun () -> Dir.openat d "missing");
          Tap.check "reset by the next failure" (not (Common.last_error_is_escape ()));
          cleanup () );
      ( "streaming a directory, entries with kinds",
        fun () ->
          let _, d, cleanup = scratch () in
          for i = 1 to 50 do
            write_file d (Printf.sprintf "f%02d" i) ""
          done;
          Dir.mkdir d "sub";
          let names = Dir.fold (fun (n, _) acc -> n :: acc) d [] in
          Tap.check "all streamed" (List.length names = 51);
          Tap.check "kinds" (List.assoc "sub" (Dir.entries d) = Dir.Directory && List.assoc "f01" (Dir.entries d) = Dir.Regular);
          let it = Dir.iter_open d in
          Tap.check "first" (Dir.iter_next it <> None);
          Dir.iter_close it;
          Tap.check "closed iterator ends" (Dir.iter_next it = None);
          cleanup () );
      ( "a dir on a descriptor shares its handle",
        fun () ->
          let top, d, cleanup = scratch () in
          write_file d "x" "X";
          let fd = Dir.openat ~flags:Dir.(directory lor path) (Dir.fs ()) top in
          let d2 = Dir.of_fd fd in
          Tap.check "reads beneath" (read_file d2 "x" = "X");
          (* the dir's own handle: closing any reference to it would close the dir *)
          Tap.check "handle" (match Dir.handle d2 with Some h -> Fd.raw h = Fd.raw fd | None -> false);
          Tap.check "singletons have none" (Dir.handle (Dir.fs ()) = None);
          Fd.close fd;
          Tap.expect_error Unix.EBADF (fun () -> read_file d2 "x");
          let d3 = Dir.share d in
          Tap.check "shared" (read_file d3 "x" = "X");
          Tap.check "flags" (Dir.flags_supported Dir.(rdwr lor creat) && not (Dir.flags_supported Dir.(wronly lor rdwr)));
          Tap.check "backend" (Dir.resolve_backend () <> Dir.Resolve_auto);
          cleanup () );
      ( "every asynchronous fs call",
        fun () ->
          let top, d, cleanup = scratch () in
          let l = Loop.create () in
          ok (await l (Dir.mkdir_async l d "sub"));
          let f = ok (await l (Dir.openat_async l ~flags:Dir.(wronly lor creat) d "sub/f")) in
          ignore (Io.write f "abc" 0 3);
          Tap.check "fstat_async" ((ok (await l (Dir.fstat_async l f))).size = 3L);
          Fd.close f;
          let sub = ok (await l (Dir.open_dir_async l d "sub")) in
          Tap.check "stat_async" ((ok (await l (Dir.stat_async l sub "f"))).kind = Dir.Regular);
          ok (await l (Dir.symlink_async l "f" sub "l"));
          Tap.check "readlink_async" (ok (await l (Dir.readlink_async l sub "l")) = "f");
          Tap.check "realpath_async" (ok (await l (Dir.realpath_async l (Dir.fs ()) top)) = Unix.realpath top);
          ok (await l (Dir.link_async l sub "f" sub "g"));
          ok (await l (Dir.rename_async l sub "g" sub "h"));
          ok (await l (Dir.chmod_async l sub "h" 0o600));
          ok (await l (Dir.chown_async l ~gid:(Unix.getgid ()) sub "h"));
          ok (await l (Dir.utimes_async l ~mtime:(Dir.At 3000.) sub "h"));
          Tap.check "applied" (let st = Dir.stat sub "h" in st.perm = 0o600 && st.mtime = 3000.);
          Tap.check "readdir_async" (ok (await l (Dir.readdir_async l sub)) = [ "f"; "h"; "l" ]);
          Tap.check "entries_async" (List.assoc "l" (ok (await l (Dir.entries_async l sub))) = Dir.Symlink);
          (match await l (Dir.openat_async l d "../escape") with
          | Error (Unix.EXDEV, detail) -> Tap.check "escape in the callback" (detail <> "" && Common.last_error_is_escape ())
          | _ -> failwith "escaped");
          List.iter (fun n -> ok (await l (Dir.unlink_async l sub n))) [ "f"; "h"; "l" ];
          ok (await l (Dir.rmdir_async l d "sub"));
          Tap.check "empty" (Dir.readdir d = []);
          Loop.close l;
          cleanup () );
      ( "a cancelled async open releases its handle",
        fun () ->
          let _, d, cleanup = scratch () in
          write_file d "f" "";
          let l = Loop.create () in
          let got = ref None in
          let op = Dir.openat_async l d "f" (fun r -> got := Some r) in
          ignore (Loop.cancel op);
          ignore (Loop.run l);
          (match !got with
          | Some (Error (e, _)) -> Tap.check "ECANCELED" (Common.is_cancelled e)
          | Some (Ok fd) -> Fd.close fd (* it finished before the cancel *)
          | None -> failwith "no callback");
          Loop.close l;
          cleanup () );
    ]
