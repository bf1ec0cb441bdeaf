(* SPDX-License-Identifier: MIT *)
open Fdkit

let buffer n = Bigarray.Array1.create Bigarray.char Bigarray.c_layout n

let string_of_buffer b n = String.init n (Bigarray.Array1.get b)

let buffer_of_string s =
  let b = buffer (String.length s) in
  String.iteri (Bigarray.Array1.set b) s;
  b

let () =
  Tap.run "io"
    [
      ( "an async read completes on the loop",
        fun () ->
          let l = Loop.create () in
          let r, w = Fd.pipe () in
          let got = ref "" and wrote = ref 0 in
          let buf = buffer 64 in
          ignore (Io.read_async l r buf (function Ok n -> got := string_of_buffer buf n | Error _ -> ()));
          ignore (Io.write_async l w (buffer_of_string "hello") (function Ok n -> wrote := n | Error _ -> ()));
          Tap.check "not inside the call" (!got = "");
          ignore (Loop.run l);
          Tap.check "read" (!got = "hello" && !wrote = 5);
          Loop.close l;
          Fd.close r;
          Fd.close w );
      ( "closing the handle cancels a pending read",
        fun () ->
          let l = Loop.create () in
          let r, w = Fd.pipe () in
          let got = ref false in
          ignore (Io.read_async l r (buffer 8) (function Error (e, d) -> got := e = Common.ecanceled && d <> "" | _ -> ()));
          Fd.close r;
          ignore (Loop.run l);
          Tap.check "ECANCELED" !got;
          Loop.close l;
          Fd.close w );
      ( "bounds are checked",
        fun () ->
          let r, w = Fd.pipe () in
          Tap.check "invalid" (match Io.read r (Bytes.create 4) 2 4 with _ -> false | exception Invalid_argument _ -> true);
          Fd.close r;
          Fd.close w );
      ( "positioned I/O, seek and truncate on a file",
        fun () ->
          let path = Filename.temp_file "fdkit-ocaml" "" in
          let raw = Unix.openfile path [ Unix.O_RDWR; Unix.O_CLOEXEC ] 0 in
          Sys.remove path;
          let fd = Fd.adopt raw in
          Tap.check "pwrite" (Io.pwrite fd "0123456789" 0 10 ~pos:0 = 10);
          let buf = Bytes.create 3 in
          Tap.check "pread" (Io.pread fd buf 0 3 ~pos:4 = 3 && Bytes.to_string buf = "456");
          Tap.check "position unmoved" (Io.lseek fd 0 Unix.SEEK_CUR = 0);
          Io.ftruncate fd 4;
          Tap.check "end" (Io.lseek fd 0 Unix.SEEK_END = 4);
          Io.fsync ~data_only:true fd;
          Tap.expect_error Unix.EINVAL (fun () -> Io.lseek fd (-10) Unix.SEEK_CUR);
          Fd.close fd );
      ( "random bytes, sync and async",
        fun () ->
          let a = Bytes.create 32 in
          Tap.check "sync" (Io.getrandom a 0 32 = 32);
          let l = Loop.create () in
          let b = buffer 32 and n = ref 0 in
          ignore (Io.getrandom_async l b (function Ok k -> n := k | Error _ -> ()));
          ignore (Loop.run l);
          Loop.close l;
          (* 256 random bits twice the same, or all zero, would mean no randomness. *)
          Tap.check "async" (!n = 32 && string_of_buffer b 32 <> Bytes.to_string a);
          Tap.check "not zero" (Bytes.to_string a <> String.make 32 '\000') );
      ( "vectored, positioned and file calls on the loop",
        fun () ->
          let l = Loop.create () in
          let got = ref [] in
          let note v = got := v :: !got in
          let count = function Ok n -> note (string_of_int n) | Error (e, _) -> note (Unix.error_message e) in
          let r, w = Fd.pipe () in
          ignore (Io.writev_async l w [ buffer_of_string "ab"; buffer_of_string "cde" ] count);
          ignore (Loop.run l);
          let a = buffer 2 and b = buffer 8 in
          ignore (Io.readv_async l r [ a; b ] count);
          ignore (Loop.run l);
          Tap.check "scattered" (string_of_buffer a 2 = "ab" && string_of_buffer b 3 = "cde");
          let path = Filename.temp_file "fdkit-ocaml" "" in
          let raw = Unix.openfile path [ Unix.O_RDWR; Unix.O_CLOEXEC ] 0 in
          Sys.remove path;
          let fd = Fd.adopt raw in
          let step start = ignore (start ()); ignore (Loop.run l) in
          step (fun () -> Io.pwrite_async l fd (buffer_of_string "0123456789") ~pos:0 count);
          let c = buffer 3 in
          step (fun () -> Io.pread_async l fd c ~pos:4 count);
          Tap.check "pread" (string_of_buffer c 3 = "456");
          step (fun () -> Io.ftruncate_async l fd 4 (fun _ -> note "truncated"));
          step (fun () -> Io.fsync_async ~data_only:true l fd (fun _ -> note "synced"));
          step (fun () -> Io.lseek_async l fd 0 Unix.SEEK_END count);
          step (fun () -> Io.lseek_async l fd (-100) Unix.SEEK_CUR (function Error (Unix.EINVAL, _) -> note "EINVAL" | _ -> note "?"));
          Tap.check "results" (List.rev !got = [ "5"; "5"; "10"; "3"; "truncated"; "synced"; "4"; "EINVAL" ]);
          Loop.close l;
          List.iter Fd.close [ r; w; fd ] );
      ( "queued writes arrive whole and in order",
        fun () ->
          let l = Loop.create () in
          let a, b = Net.socketpair Unix.PF_UNIX Unix.SOCK_STREAM in
          let mib = 1 lsl 20 in
          let chunks = List.init 4 (fun i -> String.make mib (Char.chr (65 + i))) in
          let order = ref [] in
          List.iteri
            (fun i c ->
              ignore (Io.write_all_async l a (buffer_of_string c) (function Ok n when n = mib -> order := i :: !order | _ -> ())))
            chunks;
          Tap.check "queued" (Io.write_queue_size l a > 3 * mib);
          let got = Buffer.create (4 * mib) and buf = buffer 65536 in
          let rec more () =
            ignore
              (Io.read_async l b buf (function
                | Ok n ->
                    Buffer.add_string got (string_of_buffer buf n);
                    if Buffer.length got < 4 * mib then more ()
                | Error _ -> ()))
          in
          more ();
          ignore (Loop.run l);
          Tap.check "order" (List.rev !order = [ 0; 1; 2; 3 ]);
          Tap.check "bytes" (Buffer.contents got = String.concat "" chunks);
          Tap.check "drained" (Io.write_queue_size l a = 0);
          Loop.close l;
          List.iter Fd.close [ a; b ] );
      ( "readv / writev and an ordered writev_all_async",
        fun () ->
          let r, w = Fd.pipe () in
          Tap.check "writev" (Io.writev w [ buffer_of_string "ab"; buffer_of_string "cde" ] = 5);
          let a = buffer 3 and b = buffer 8 in
          Tap.check "readv" (Io.readv r [ a; b ] = 5 && string_of_buffer a 3 = "abc" && string_of_buffer b 2 = "de");
          let l = Loop.create () in
          let results = ref [] in
          ignore (Io.writev_all_async l w [ buffer_of_string "12"; buffer_of_string "34" ] (fun r -> results := r :: !results));
          ignore (Io.write_all_async l w (buffer_of_string "56") (fun r -> results := r :: !results));
          ignore (Loop.run l);
          Tap.check "completed in order" (!results = [ Ok 2; Ok 4 ]);
          let buf = Bytes.create 16 in
          let n = Io.read r buf 0 16 in
          Tap.check "bytes in order" (Bytes.sub_string buf 0 n = "123456");
          Loop.close l;
          Fd.close r;
          Fd.close w;
          Tap.expect_error Unix.EBADF (fun () -> Io.readv r [ a ]) );
    ]
