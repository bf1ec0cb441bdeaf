(* SPDX-License-Identifier: MIT *)
(* The confined calls added with scoped dirs: open_dir's flags and their refusals, link
   ~follow, publishing an O_TMPFILE, mknod/mkfifo, truncate, access, rename ~whiteout,
   extended attributes, and the asynchronous form of each. *)
open Fdkit
open Fs_util

let expect_async err = function
  | Error (e, detail) when e = err -> Tap.check "detail" (detail <> "")
  | Error (e, _) -> failwith ("expected " ^ Unix.error_message err ^ ", got " ^ Unix.error_message e)
  | Ok _ -> failwith ("expected " ^ Unix.error_message err)

let kind d path = (Dir.stat ~follow:false d path).kind

(* sub/f, sub/l -> f, sub/abs -> /f, sub/inner/up -> ../f, lsub -> sub *)
let tree d =
  Dir.mkdir d "sub";
  write_file d "sub/f" "F";
  Dir.symlink "f" d "sub/l";
  Dir.symlink "/f" d "sub/abs";
  Dir.mkdir d "sub/inner";
  Dir.symlink "../f" d "sub/inner/up";
  Dir.symlink "sub" d "lsub"

let () =
  Random.self_init ();
  Tap.run "fs-scoped"
    [
      ( "nofollow, no_symlinks and in_root refuse as documented",
        fun () ->
          let _, d, cleanup = scratch () in
          tree d;
          Tap.check "a last symlink is followed by default" (read_file (Dir.open_dir d "lsub") "f" = "F");
          Tap.expect_error Unix.ENOTDIR (fun () -> Dir.open_dir ~nofollow:true d "lsub");
          Tap.expect_error Unix.ELOOP (fun () -> Dir.open_dir ~no_symlinks:true d "lsub");
          let ns = Dir.open_dir ~no_symlinks:true d "sub" in
          Tap.check "plain names resolve" (read_file ns "f" = "F");
          Tap.expect_error Unix.ELOOP (fun () -> Dir.openat ns "l");
          Tap.check "a last symlink not followed is fine" (kind ns "l" = Dir.Symlink);
          (* a dir opened beneath a scoped one keeps the scoping *)
          let inner = Dir.open_dir ns "inner" in
          Tap.expect_error Unix.ELOOP (fun () -> Dir.openat inner "up");
          let plain = Dir.open_dir d "sub" in
          Tap.expect_error Unix.EXDEV (fun () -> Dir.openat plain "abs");
          Tap.expect_error Unix.EXDEV (fun () -> Dir.openat plain "../sub/f");
          let root = Dir.open_dir ~in_root:true d "sub" in
          Tap.check ".. stays at the root" (read_file root "../f" = "F" && read_file root "../../inner/up" = "F");
          Tap.check "absolute paths start at the root" (read_file root "/f" = "F" && read_file root "abs" = "F");
          Tap.check "realpath in the root" (Dir.realpath root "/inner/../abs" = "f");
          cleanup () );
      ( "no_xdev refuses crossing a mount point",
        fun () ->
          let fs = Dir.fs () in
          (* /proc is a mount of its own wherever the suite runs (the suite reads it) *)
          Tap.check "/proc is a mount" ((Dir.stat fs "/proc").dev <> (Dir.stat fs "/").dev);
          let top = Dir.open_dir ~no_xdev:true fs "/" in
          Tap.expect_error Unix.EXDEV (fun () -> Dir.open_dir top "proc");
          Tap.check "within one mount" ((Dir.stat top "etc").kind = Dir.Directory) );
      ( "link ~follow and a tmpfile published by link_fd",
        fun () ->
          let _, d, cleanup = scratch () in
          write_file d "f" "data";
          Dir.symlink "f" d "l";
          Dir.link d "l" d "h1";
          Tap.check "the symlink itself" (kind d "h1" = Dir.Symlink);
          Dir.link ~follow:true d "l" d "h2";
          Tap.check "its target" (kind d "h2" = Dir.Regular && (Dir.stat d "h2").ino = (Dir.stat d "f").ino);
          Tap.check "nlink" ((Dir.stat d "f").nlink = 2);
          Tap.expect_error Unix.EXDEV (fun () -> Dir.link ~follow:true d "../x" d "h3");
          let before = Dir.readdir d in
          let t = Dir.openat ~flags:Dir.(tmpfile lor rdwr) ~mode:0o600 d "." in
          ignore (Io.write t "tmp" 0 3);
          Tap.check "unnamed" (Dir.readdir d = before);
          Dir.link_fd t d "pub";
          Tap.check "published" (read_file d "pub" = "tmp" && (Dir.stat d "pub").perm = 0o600);
          Tap.expect_error Unix.EEXIST (fun () -> Dir.link_fd t d "pub");
          Fd.close t;
          Tap.expect_error Unix.EBADF (fun () -> Dir.link_fd t d "again");
          let never = Dir.openat ~flags:Dir.(tmpfile lor wronly lor excl) d "." in
          Tap.expect_error Unix.ENOENT (fun () -> Dir.link_fd never d "x");
          Fd.close never;
          Tap.expect_error Unix.EINVAL (fun () -> Dir.openat ~flags:Dir.(tmpfile lor rdonly) d ".");
          cleanup () );
      ( "mknod, mkfifo, truncate and access",
        fun () ->
          let _, d, cleanup = scratch () in
          Dir.mkfifo ~mode:0o600 d "fifo";
          let st = Dir.stat d "fifo" in
          Tap.check "fifo" (st.kind = Dir.Fifo && st.perm = 0o600);
          Dir.mknod d "sock" Dir.Socket;
          Dir.mknod d "reg" Dir.Regular;
          Tap.check "socket and regular" (kind d "sock" = Dir.Socket && kind d "reg" = Dir.Regular);
          Tap.expect_error Unix.EINVAL (fun () -> Dir.mknod d "dir" Dir.Directory);
          Tap.expect_error Unix.EEXIST (fun () -> Dir.mkfifo d "reg");
          (match Dir.mknod ~dev:0x103L d "null" Dir.Char_device with
          | () -> Tap.check "device number" (let st = Dir.stat d "null" in st.kind = Dir.Char_device && st.rdev = 0x103)
          | exception Unix.Unix_error (Unix.EPERM, _, _) -> () (* no CAP_MKNOD *));
          write_file d "f" "12345";
          Dir.truncate d "f" 2L;
          Tap.check "shrunk" (read_file d "f" = "12");
          Dir.symlink "f" d "l";
          Dir.truncate d "l" 10L;
          Tap.check "through a symlink" ((Dir.stat d "f").size = 10L);
          Tap.expect_error Unix.EINVAL (fun () -> Dir.truncate d "f" (-1L));
          Dir.mkdir d "sub";
          Tap.expect_error Unix.EISDIR (fun () -> Dir.truncate d "sub" 0L);
          Tap.expect_error Unix.EXDEV (fun () -> Dir.truncate d "../f" 0L);
          Dir.access d "f" [ Unix.R_OK; Unix.W_OK ];
          Dir.access ~effective:true d "f" [ Unix.F_OK ];
          (* 0o644 has no execute bit: refused even to root *)
          Tap.expect_error Unix.EACCES (fun () -> Dir.access d "f" [ Unix.X_OK ]);
          Dir.symlink "missing" d "dangling";
          Dir.access ~follow:false d "dangling" [];
          Tap.expect_error Unix.ENOENT (fun () -> Dir.access d "dangling" []);
          cleanup () );
      ( "rename ~whiteout leaves a 0:0 character device",
        fun () ->
          let _, d, cleanup = scratch () in
          write_file d "a" "A";
          Tap.expect_error Unix.EINVAL (fun () -> Dir.rename ~whiteout:true ~exchange:true d "a" d "b");
          (match Dir.rename ~whiteout:true d "a" d "b" with
          | () ->
              let st = Dir.stat d "a" in
              Tap.check "whiteout" (st.kind = Dir.Char_device && st.rdev = 0 && read_file d "b" = "A")
          | exception Unix.Unix_error ((Unix.EPERM | Unix.EINVAL), _, _) ->
              (* no CAP_MKNOD, or a file system without whiteouts: nothing moved *)
              Tap.check "unchanged" (Dir.readdir d = [ "a" ]));
          cleanup () );
      ( "extended attributes",
        fun () ->
          let _, d, cleanup = scratch () in
          write_file d "f" "";
          Dir.symlink "f" d "l";
          Dir.setxattr d "f" "user.k" "v1";
          Tap.check "get" (Dir.getxattr d "f" "user.k" = "v1");
          Dir.setxattr d "l" "user.bin" "a\000b";
          Tap.check "through a symlink, with a NUL" (Dir.getxattr d "f" "user.bin" = "a\000b");
          Tap.check "list" (List.sort compare (Dir.listxattr d "f") = [ "user.bin"; "user.k" ]);
          Tap.expect_error Unix.EEXIST (fun () -> Dir.setxattr ~create:true d "f" "user.k" "v2");
          Tap.expect_error Dir.enodata (fun () -> Dir.setxattr ~replace:true d "f" "user.none" "v");
          Tap.expect_error Unix.EINVAL (fun () -> Dir.setxattr ~create:true ~replace:true d "f" "user.k" "v");
          Dir.setxattr ~replace:true d "f" "user.k" "";
          Tap.check "emptied" (Dir.getxattr d "f" "user.k" = "");
          Tap.expect_error Unix.EPERM (fun () -> Dir.setxattr ~follow:false d "l" "user.k" "v");
          Dir.removexattr d "f" "user.k";
          Tap.expect_error Dir.enodata (fun () -> Dir.getxattr d "f" "user.k");
          Tap.expect_error Dir.enodata (fun () -> Dir.removexattr d "f" "user.k");
          Tap.expect_error Unix.EXDEV (fun () -> Dir.listxattr d "../f");
          Tap.expect_error Unix.ENOENT (fun () -> Dir.getxattr d "f" "user.\000k");
          cleanup () );
      ( "every asynchronous form",
        fun () ->
          let _, d, cleanup = scratch () in
          tree d;
          let l = Loop.create () in
          let ns = ok (await l (Dir.open_dir_async l ~no_symlinks:true d "sub")) in
          expect_async Unix.ELOOP (await l (Dir.openat_async l ns "l"));
          expect_async Unix.ENOTDIR (await l (Dir.open_dir_async l ~nofollow:true d "lsub"));
          let root = ok (await l (Dir.open_dir_async l ~in_root:true d "sub")) in
          Tap.check "in_root" (read_file root "/f" = "F");
          ok (await l (Dir.link_async l ~follow:true d "sub/l" d "hard"));
          Tap.check "linked the target" (kind d "hard" = Dir.Regular);
          let t = Dir.openat ~flags:Dir.(tmpfile lor wronly) d "." in
          ok (await l (Dir.link_fd_async l t d "pub"));
          expect_async Unix.EEXIST (await l (Dir.link_fd_async l t d "pub"));
          Fd.close t;
          Tap.check "published" (kind d "pub" = Dir.Regular);
          ok (await l (Dir.mkfifo_async l d "fifo"));
          ok (await l (Dir.mknod_async l ~mode:0o600 d "sock" Dir.Socket));
          Tap.check "nodes" (kind d "fifo" = Dir.Fifo && kind d "sock" = Dir.Socket && (Dir.stat d "sock").perm = 0o600);
          ok (await l (Dir.truncate_async l d "hard" 7L));
          Tap.check "truncated" ((Dir.stat d "sub/f").size = 7L);
          ok (await l (Dir.access_async l d "hard" [ Unix.R_OK ]));
          expect_async Unix.EACCES (await l (Dir.access_async l ~effective:true d "hard" [ Unix.X_OK ]));
          ok (await l (Dir.setxattr_async l d "hard" "user.a" "1"));
          expect_async Unix.EEXIST (await l (Dir.setxattr_async l ~create:true d "hard" "user.a" "2"));
          Tap.check "getxattr_async" (ok (await l (Dir.getxattr_async l d "sub/f" "user.a")) = "1");
          Tap.check "listxattr_async" (ok (await l (Dir.listxattr_async l d "hard")) = [ "user.a" ]);
          ok (await l (Dir.removexattr_async l d "hard" "user.a"));
          expect_async Dir.enodata (await l (Dir.getxattr_async l d "hard" "user.a"));
          write_file d "w" "W";
          (match await l (Dir.rename_async l ~whiteout:true d "w" d "w2") with
          | Ok () -> Tap.check "whiteout" (kind d "w" = Dir.Char_device && read_file d "w2" = "W")
          | Error ((Unix.EPERM | Unix.EINVAL), _) -> Tap.check "unchanged" (read_file d "w" = "W")
          | Error (e, d) -> failwith (Unix.error_message e ^ ": " ^ d));
          (* argument errors raise at the start and never call back *)
          let called = ref false in
          Tap.expect_error Unix.EINVAL (fun () ->
              Dir.setxattr_async l ~create:true ~replace:true d "hard" "user.a" "v" (fun _ -> called := true));
          Tap.expect_error Unix.EINVAL (fun () -> Dir.truncate_async l d "hard" (-1L) (fun _ -> called := true));
          ignore (Loop.run l);
          Tap.check "no callback for a failed start" (not !called);
          Loop.close l;
          cleanup () );
    ]
