(* SPDX-License-Identifier: MIT *)
(* fdkit's own constants are copied by hand into the OCaml modules (convention 8 makes their
   values part of the ABI), as are the constructor orders the stubs pass as numbers: each
   must equal its #define in include/fdkit/*.h, found through
   pkg-config's include path (a build tree's or an installed prefix's). *)
open Fdkit

let include_dirs () =
  let ic = Unix.open_process_in "pkg-config --cflags-only-I fdkit" in
  let line = try input_line ic with End_of_file -> "" in
  ignore (Unix.close_process_in ic);
  String.split_on_char ' ' line
  |> List.filter_map (fun w -> if String.length w > 2 && String.sub w 0 2 = "-I" then Some (String.sub w 2 (String.length w - 2)) else None)

let header_value name =
  let re = Str.regexp ("^#define " ^ name ^ "[ \t]+\\(0x[0-9a-fA-F]+\\|[0-9]+\\)u?") in
  let search file =
    let ic = open_in_bin file in
    let text = really_input_string ic (in_channel_length ic) in
    close_in ic;
    match Str.search_forward re text 0 with
    | _ -> Some (int_of_string (Str.matched_group 1 text))
    | exception Not_found -> None
  in
  include_dirs ()
  |> List.concat_map (fun dir ->
         let d = Filename.concat dir "fdkit" in
         if Sys.file_exists d then List.map (Filename.concat d) (Array.to_list (Sys.readdir d)) else [])
  |> List.find_map search

let compare_all pairs =
  List.iter
    (fun (c, v) ->
      match header_value c with
      | Some h when h = v -> ()
      | found ->
          failwith (Printf.sprintf "%s: OCaml %d, header %s" c v (match found with Some h -> string_of_int h | None -> "missing")))
    pairs

(* What a constant constructor is passed to C as: its index in the type. *)
let index (v : 'a) : int = Obj.magic v

let () =
  Tap.run "constants"
    [
      ( "the open, rename and time values equal fs.h",
        fun () ->
          compare_all
            Dir.
              [
                ("FDK_O_RDONLY", rdonly);
                ("FDK_O_WRONLY", wronly);
                ("FDK_O_RDWR", rdwr);
                ("FDK_O_APPEND", append);
                ("FDK_O_CREAT", creat);
                ("FDK_O_EXCL", excl);
                ("FDK_O_TRUNC", trunc);
                ("FDK_O_DIRECTORY", directory);
                ("FDK_O_NOFOLLOW", nofollow);
                ("FDK_O_NONBLOCK", nonblock);
                ("FDK_O_SYNC", sync);
                ("FDK_O_DSYNC", dsync);
                ("FDK_O_NOCTTY", noctty);
                ("FDK_O_PATH", path);
                ("FDK_RENAME_NOREPLACE", rename_noreplace);
                ("FDK_RENAME_EXCHANGE", rename_exchange);
                ("FDK_RENAME_WHITEOUT", rename_whiteout);
                ("FDK_O_TMPFILE", tmpfile);
                ("FDK_DIR_NOFOLLOW", dir_nofollow);
                ("FDK_DIR_NO_XDEV", dir_no_xdev);
                ("FDK_DIR_NO_SYMLINKS", dir_no_symlinks);
                ("FDK_DIR_IN_ROOT", dir_in_root);
                ("FDK_FOLLOW", follow_flag);
                ("FDK_XATTR_CREATE", xattr_create);
                ("FDK_XATTR_REPLACE", xattr_replace);
                ("FDK_ACCESS_EXISTS", access_exists);
                ("FDK_ACCESS_READ", access_read);
                ("FDK_ACCESS_WRITE", access_write);
                ("FDK_ACCESS_EXEC", access_exec);
                ("FDK_ACCESS_EFFECTIVE", access_effective);
                ("FDK_RESOLVE_AUTO", resolve_code Resolve_auto);
                ("FDK_RESOLVE_OPENAT2", resolve_code Openat2);
                ("FDK_RESOLVE_FALLBACK", resolve_code Fallback);
              ];
          (* FDK_UTIME_NOW and _OMIT are negative: "(-1)" *)
          Tap.check "utime" (Dir.utime_now = -1 && Dir.utime_omit = -2) );
      ( "kinds, inherit modes and backends are in the headers' order",
        fun () ->
          compare_all
            [
              ("FDK_KIND_UNKNOWN", index Dir.Other);
              ("FDK_KIND_FIFO", index Dir.Fifo);
              ("FDK_KIND_CHAR", index Dir.Char_device);
              ("FDK_KIND_DIR", index Dir.Directory);
              ("FDK_KIND_BLOCK", index Dir.Block_device);
              ("FDK_KIND_REGULAR", index Dir.Regular);
              ("FDK_KIND_SYMLINK", index Dir.Symlink);
              ("FDK_KIND_SOCKET", index Dir.Socket);
              ("FDK_INHERIT_PRESERVE", index Process.Preserve);
              ("FDK_INHERIT_BLOCKING", index Process.Blocking);
              ("FDK_INHERIT_NONBLOCKING", index Process.Nonblocking);
              ("FDK_SPAWN_BACKEND_AUTO", Process.backend_code Auto);
              ("FDK_SPAWN_BACKEND_FORK", Process.backend_code Fork);
              ("FDK_SPAWN_BACKEND_POSIX_SPAWN", Process.backend_code Posix_spawn);
            ];
          (* Dir.mknod passes Dir.kind_code, which must agree with the order *)
          Tap.check "kind_code"
            (List.for_all
               (fun k -> Dir.kind_code k = index k)
               Dir.[ Other; Fifo; Char_device; Directory; Block_device; Regular; Symlink; Socket ]) );
      ( "net.h flags",
        fun () ->
          compare_all
            Net.
              [
                ("FDK_AI_PASSIVE", ai_passive);
                ("FDK_AI_CANONNAME", ai_canonname);
                ("FDK_AI_NUMERICHOST", ai_numerichost);
                ("FDK_AI_NUMERICSERV", ai_numericserv);
                ("FDK_AI_ADDRCONFIG", ai_addrconfig);
                ("FDK_AI_V4MAPPED", ai_v4mapped);
                ("FDK_AI_ALL", ai_all);
                ("FDK_MSG_TRUNC", msg_trunc);
                ("FDK_MSG_CTRUNC", msg_ctrunc);
              ] );
      ( "run.h modes and policies",
        fun () ->
          compare_all
            Run.
              [
                ("FDK_RUN_INHERIT", stream_code Inherit);
                ("FDK_RUN_CAPTURE", stream_code Capture);
                ("FDK_RUN_DISCARD", stream_code Discard);
                ("FDK_RUN_MERGE", stream_code Merge);
                ("FDK_RUN_CANCEL_NONE", cancel_code Wait);
                ("FDK_RUN_CANCEL_KILL", cancel_code Kill);
                ("FDK_RUN_CANCEL_GRACEFUL", cancel_code Graceful);
                ("FDK_RUN_GROUP_INHERIT", fst (group_code Same_group));
                ("FDK_RUN_GROUP_NEW", fst (group_code New_group));
                ("FDK_RUN_GROUP_SESSION", fst (group_code Session));
                ("FDK_RUN_GROUP_JOIN", fst (group_code (Join 1)));
                ("FDK_RUN_FDS_CLOEXEC_ONLY", fst (fds_code Cloexec_only));
                ("FDK_RUN_FDS_CLOSE_FROM_3", fst (fds_code Close_from_3));
                ("FDK_RUN_FDS_ALLOWLIST", fst (fds_code (Keep [])));
              ] );
    ]
