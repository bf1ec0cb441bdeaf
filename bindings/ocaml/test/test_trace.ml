(* SPDX-License-Identifier: MIT *)
open Fdkit

let () =
  Tap.run "trace"
    [
      ( "recorded spans of sync and async operations, matched",
        fun () ->
          ignore (Trace.take ());
          Trace.start ();
          let r, w = Fd.pipe () in
          ignore (Io.write w "abc" 0 3);
          let l = Loop.create () in
          let buf = Bigarray.Array1.create Bigarray.char Bigarray.c_layout 8 in
          ignore (Io.read_async l r buf (fun _ -> ()));
          ignore (Loop.run l);
          Loop.close l;
          Trace.stop ();
          let events, dropped = Trace.take () in
          let ends = List.filter_map (fun (e : Trace.event) -> if e.begin_ then None else Some (e.name, e.result)) events in
          Tap.check "write span" (List.mem ("write", 3L) ends);
          Tap.check "read span" (List.mem ("read", 3L) ends);
          let ids b = List.sort compare (List.filter_map (fun (e : Trace.event) -> if e.begin_ = b then Some e.span_id else None) events) in
          Tap.check "matched" (ids true = ids false && dropped = 0);
          ignore (Io.write w "more" 0 4);
          Tap.check "nothing after stop" (fst (Trace.take ()) = []);
          Fd.close r;
          Fd.close w );
    ]
