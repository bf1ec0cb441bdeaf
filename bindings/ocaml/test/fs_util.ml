(* SPDX-License-Identifier: MIT *)
(* What the fs test programs share: scratch directories, small files, awaiting a callback. *)
open Fdkit

(* A fresh confined directory and a function that removes it (with what a test left). *)
let scratch () =
  let top = Filename.concat (Filename.get_temp_dir_name ()) (Printf.sprintf "fdkit-ml-%d-%d" (Unix.getpid ()) (Random.bits ())) in
  Unix.mkdir top 0o755;
  let rec remove path =
    match (Unix.lstat path).Unix.st_kind with
    | Unix.S_DIR ->
        Array.iter (fun n -> remove (Filename.concat path n)) (Sys.readdir path);
        Unix.rmdir path
    | _ -> Sys.remove path
  in
  (top, Dir.open_dir (Dir.fs ()) top, fun () -> remove top)

let write_file dir path text =
  let f = Dir.openat ~flags:Dir.(wronly lor creat lor trunc) dir path in
  ignore (Io.write f text 0 (String.length text));
  Fd.close f

let read_file dir path =
  let f = Dir.openat dir path in
  let buf = Bytes.create 256 in
  let n = Io.read f buf 0 256 in
  Fd.close f;
  Bytes.sub_string buf 0 n

(* Runs the loop until [k]'s result arrives; returns it. *)
let await loop start =
  let result = ref None in
  ignore (start (fun r -> result := Some r));
  Tap.check "not inside the starting call" (!result = None);
  ignore (Loop.run loop);
  match !result with Some r -> r | None -> failwith "the callback never ran"

let ok = function Ok v -> v | Error (e, d) -> failwith (Unix.error_message e ^ ": " ^ d)
