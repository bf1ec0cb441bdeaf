(* SPDX-License-Identifier: MIT *)
open Fdkit

exception Signalled

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
      ( "posts racing close either run or fail with ESHUTDOWN",
        fun () ->
          for _ = 1 to 20 do
            let l = Loop.create () in
            let m = Mutex.create () in
            let ran = ref 0 and accepted = ref 0 and refused = ref [] in
            let poster () =
              let rec go () =
                match Loop.post l (fun () -> incr ran) with
                | () ->
                    Mutex.lock m;
                    incr accepted;
                    Mutex.unlock m;
                    (* Posts run with the runtime lock: let the loop's thread have it. *)
                    Thread.yield ();
                    go ()
                | exception e ->
                    Mutex.lock m;
                    refused := e :: !refused;
                    Mutex.unlock m
              in
              go ()
            in
            let threads = List.init 4 (fun _ -> Thread.create poster ()) in
            Thread.yield ();
            ignore (Loop.run ~mode:Loop.Nowait l);
            Loop.close l;
            List.iter Thread.join threads;
            Tap.check "every poster refused with ESHUTDOWN"
              (List.length !refused = 4
              && List.for_all (function Unix.Unix_error (Unix.ESHUTDOWN, _, _) -> true | _ -> false) !refused);
            Tap.check "every accepted post ran" (!ran = !accepted)
          done );
      ( "an exception from a signal handler never unwinds through the loop",
        fun () ->
          let old = Sys.signal Sys.sigalrm (Sys.Signal_handle (fun _ -> raise Signalled)) in
          let l = Loop.create () in
          (* SIGALRM arrives while the loop waits without the runtime lock; the sleep's
             callback does not allocate, so the handler is still pending when it returns:
             it must run where an exception may propagate, outside fdkit's frames. *)
          ignore (Unix.setitimer Unix.ITIMER_REAL { Unix.it_interval = 0.; it_value = 0.02 });
          ignore (Io.sleep_until_raw l (Io.now_ns () + 200_000_000) (fun _ _ -> ()));
          let raised = ref (match Loop.run l with _ -> false | exception Signalled -> true) in
          (try
             for _ = 1 to 1000 do
               ignore (Sys.opaque_identity (ref 0))
             done
           with Signalled -> raised := true);
          Sys.set_signal Sys.sigalrm old;
          Tap.check "the handler's exception reached OCaml" !raised;
          let later = ref false in
          Loop.post l (fun () -> later := true);
          Tap.check "the loop still runs" ((match Loop.run l with r -> not r | exception Unix.Unix_error (Unix.EBUSY, _, _) -> false) && !later);
          Loop.close l );
    ]
