(* SPDX-License-Identifier: MIT *)
open Fdkit

let () =
  let tmp = Dir.open_dir (Dir.fs ()) (Filename.get_temp_dir_name ()) in
  let name = Printf.sprintf "scoped-%d" (Unix.getpid ()) in
  Dir.mkdir tmp name;
  (* a root: ".." stays in it and "/" is it; no symlink is ever followed beneath it *)
  let jail = Dir.open_dir ~in_root:true ~no_symlinks:true tmp name in
  (* write a file unnamed, then publish it whole under its name *)
  let f = Dir.openat ~flags:Dir.(tmpfile lor wronly) jail "/" in
  ignore (Io.write f "v1" 0 2);
  Dir.link_fd f jail "/../config";
  Fd.close f;
  Dir.setxattr jail "config" "user.origin" "example";
  Dir.truncate jail "config" 1L;
  Dir.access jail "config" [ Unix.R_OK ];
  Dir.symlink "config" jail "link";
  (match Dir.stat jail "link" with
  | _ -> assert false
  | exception Unix.Unix_error (Unix.ELOOP, _, _) -> print_endline "symlinks refused");
  let loop = Loop.create () in
  ignore
    (Dir.listxattr_async loop jail "config" (function
      | Ok names -> List.iter print_endline names
      | Error (err, detail) -> Printf.printf "%s: %s\n" (Unix.error_message err) detail));
  ignore (Loop.run loop);
  Loop.close loop;
  List.iter (Dir.unlink jail) [ "config"; "link" ];
  Dir.rmdir tmp name;
  print_endline "scoped done"
