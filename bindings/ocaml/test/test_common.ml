(* SPDX-License-Identifier: MIT *)
open Fdkit

let () =
  Tap.run "common"
    [
      ( "version string matches the number",
        fun () ->
          let v = Common.version () in
          Tap.check "version"
            (Common.version_string () = Printf.sprintf "%d.%d.%d" (v / 10000) (v / 100 mod 100) (v mod 100)) );
      ( "errors carry Unix.error, the call and the detail",
        fun () ->
          let r, w = Fd.pipe () in
          Fd.close r;
          (match Io.read r (Bytes.create 4) 0 4 with
          | _ -> failwith "read after close succeeded"
          | exception Unix.Unix_error (Unix.EBADF, call, detail) ->
              Tap.check "call" (call = "fdk_read");
              Tap.check "detail" (detail <> ""));
          Tap.check "errname" (Common.errname 9 = "EBADF");
          Fd.close w );
    ]
