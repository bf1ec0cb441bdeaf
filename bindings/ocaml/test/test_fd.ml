(* SPDX-License-Identifier: MIT *)
open Fdkit

let () =
  Tap.run "fd"
    [
      ( "use after close is EBADF everywhere",
        fun () ->
          let r, w = Fd.pipe () in
          let other = Fd.share r in
          Fd.close r;
          Tap.expect_error Unix.EBADF (fun () -> Io.read other (Bytes.create 1) 0 1);
          Tap.expect_error Unix.EBADF (fun () -> Fd.close r);
          Tap.expect_error Unix.EBADF (fun () -> Fd.use r ignore);
          (* The reader is gone: EPIPE, and no SIGPIPE killed the process. *)
          Tap.expect_error Unix.EPIPE (fun () -> Io.write w "x" 0 1);
          Fd.close w );
      ( "the last reference closes the descriptor",
        fun () ->
          let r, w = Fd.pipe () in
          let raw = Fd.raw r in
          let r2 = Fd.share r in
          ignore (Sys.opaque_identity r2);
          Fd.close w;
          Gc.full_major ();
          (* r and r2 are garbage now: the collector dropped both references. *)
          Tap.check "closed" (match Unix.fstat raw with _ -> false | exception Unix.Unix_error (Unix.EBADF, _, _) -> true) );
      ( "release hands back an open descriptor",
        fun () ->
          let r, w = Fd.pipe () in
          let raw = Fd.release r in
          ignore (Io.write w "hi" 0 2);
          let buf = Bytes.create 2 in
          Tap.check "read" (Unix.read raw buf 0 2 = 2 && Bytes.to_string buf = "hi");
          Unix.close raw;
          Fd.close w );
      ( "use gives the descriptor",
        fun () ->
          let r, w = Fd.pipe () in
          Fd.use r (fun raw -> Tap.check "raw" (raw = Fd.raw r));
          Fd.close r;
          Fd.close w );
      ( "adopt detects blocking mode; borrow leaves the descriptor open",
        fun () ->
          let raw = Unix.openfile "/dev/null" [ Unix.O_RDONLY; Unix.O_CLOEXEC ] 0 in
          let fd = Fd.adopt ~borrow:true raw in
          Tap.check "blocking" (Fd.is_blocking fd);
          Fd.close fd;
          ignore (Unix.fstat raw);
          Unix.close raw );
      ( "a handle is shared with another thread",
        fun () ->
          let r, w = Fd.pipe () in
          let t = Thread.create (fun () -> ignore (Io.write w "from a thread" 0 13)) () in
          let buf = Bytes.create 32 in
          let n = Io.read r buf 0 32 in
          Thread.join t;
          Tap.check "data" (Bytes.sub_string buf 0 n = "from a thread");
          Fd.close r;
          Fd.close w );
    ]
