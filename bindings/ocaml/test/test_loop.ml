open Fdkit

let canceled = function Error (e, detail) -> e = Common.ecanceled && detail <> "" | _ -> false

let () =
  Tap.run "loop"
    [
      ( "an idle loop returns at once",
        fun () ->
          let l = Loop.create () in
          Tap.check "default" (not (Loop.run l));
          Tap.check "nowait" (not (Loop.run ~mode:Loop.Nowait l));
          ignore (Unix.fstat (Loop.backend_fd l));
          Loop.close l );
      ( "a post from another thread runs on the loop's thread",
        fun () ->
          let l = Loop.create () in
          let ran_on = ref (-1) in
          Thread.join (Thread.create (fun () -> Loop.post l (fun () -> ran_on := Thread.id (Thread.self ()))) ());
          ignore (Loop.run l);
          Tap.check "thread" (!ran_on = Thread.id (Thread.self ()));
          Loop.close l );
      ( "a sleep never ends early and completes from the loop",
        fun () ->
          let l = Loop.create () in
          let deadline = Io.now_ns () + 20_000_000 in
          let woke = ref 0 in
          let op = Io.sleep_until l deadline (function Ok () -> woke := Io.now_ns () | Error _ -> ()) in
          Tap.check "not inside the call" (!woke = 0 && Loop.pending op);
          ignore (Loop.run l);
          Tap.check "deadline" (!woke >= deadline);
          Tap.check "done" ((not (Loop.pending op)) && not (Loop.cancel op));
          Loop.close l );
      ( "cancel completes with ECANCELED",
        fun () ->
          let l = Loop.create () in
          let r, w = Fd.pipe () in
          let got = ref false in
          let op = Io.read_async l r (Bigarray.Array1.create Bigarray.char Bigarray.c_layout 8) (fun res -> got := canceled res) in
          Tap.check "cancel" (Loop.cancel op);
          ignore (Loop.run l);
          Tap.check "ECANCELED" !got;
          Loop.close l;
          Fd.close r;
          Fd.close w );
      ( "closing the loop cancels pending operations",
        fun () ->
          let l = Loop.create () in
          let got = ref false in
          ignore (Io.sleep_until l (Io.now_ns () + 60_000_000_000) (fun res -> got := canceled res));
          Loop.close l;
          Tap.check "ECANCELED" !got );
      ( "an exception in a callback comes out of run",
        fun () ->
          let l = Loop.create () in
          ignore (Io.sleep_until l 0 (fun _ -> failwith "boom"));
          (match Loop.run l with _ -> failwith "run returned" | exception Failure m -> Tap.check "boom" (m = "boom"));
          let later = ref false in
          ignore (Io.sleep_until l 0 (fun res -> later := res = Ok ()));
          ignore (Loop.run l);
          Tap.check "usable afterwards" !later;
          Loop.close l );
      ( "run from inside a callback is EBUSY",
        fun () ->
          let l = Loop.create () in
          let got = ref false in
          ignore
            (Io.sleep_until l 0 (fun _ ->
                 got := match Loop.run ~mode:Loop.Nowait l with _ -> false | exception Unix.Unix_error (Unix.EBUSY, _, _) -> true));
          ignore (Loop.run l);
          Tap.check "EBUSY" !got;
          Loop.close l );
    ]
