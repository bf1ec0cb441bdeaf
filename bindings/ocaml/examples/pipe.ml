(* SPDX-License-Identifier: MIT *)
open Fdkit

let () =
  let loop = Loop.create () in
  let r, w = Fd.pipe () in
  let buf = Bigarray.(Array1.create char c_layout 64) in
  ignore
    (Io.read_async loop r buf (function
      | Ok n -> Printf.printf "read %d bytes\n" n
      | Error (err, detail) -> Printf.printf "%s: %s\n" (Unix.error_message err) detail));
  ignore (Io.write w "hello" 0 5);
  ignore (Loop.run loop);  (* the callback runs here *)
  Fd.close r;
  (try ignore (Io.read r (Bytes.create 4) 0 4)
   with Unix.Unix_error (Unix.EBADF, "fdk_read", detail) -> print_endline detail);
  Loop.close loop
