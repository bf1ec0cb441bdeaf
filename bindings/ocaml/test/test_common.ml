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
      ( "ECANCELED is Common.Cancelled; other errors stay Unix_error",
        fun () ->
          let l = Loop.create () in
          let got = ref None in
          let op = Io.sleep_until l (Io.now_ns () + 10_000_000_000) (fun r -> got := Some r) in
          Tap.check "cancelled" (Loop.cancel op);
          ignore (Loop.run l);
          (match Common.ok_exn ~call:"sleep_until" (Option.get !got) with
          | () -> failwith "not cancelled"
          | exception Common.Cancelled ("sleep_until", _) -> ());
          (match Common.ok_exn (Error (Unix.EBADF, "read: closed")) with
          | () -> failwith "no error"
          | exception Unix.Unix_error (Unix.EBADF, "", "read: closed") -> ());
          Tap.check "strerror" (Common.strerror 2 = Unix.error_message Unix.ENOENT && Common.strerror (-2) = Common.strerror 2);
          Loop.close l );
      ( "a remote posts from another thread and outlives the loop",
        fun () ->
          let l = Loop.create () in
          let remote = Loop.remote l in
          let ran = ref false in
          let t = Thread.create (fun () -> Loop.remote_post remote (fun () -> ran := true)) () in
          Thread.join t;
          ignore (Loop.run l);
          Tap.check "ran on the loop" !ran;
          Loop.close l;
          Tap.expect_error Unix.ESHUTDOWN (fun () -> Loop.remote_post remote ignore) );
    ]
