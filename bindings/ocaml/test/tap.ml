(* SPDX-License-Identifier: MIT *)
(* Runs named test cases and prints TAP. Each case must leave as many descriptors open as
   it found; libuv keeps two global descriptors after its first loop, so the baseline is
   taken after one loop was created. *)

let open_fds () = Array.length (Sys.readdir "/proc/self/fd")

(* Checks that [f] raises Unix_error [err] with a detail. *)
let expect_error err f =
  match f () with
  | _ -> failwith ("expected " ^ Unix.error_message err)
  | exception Unix.Unix_error (e, _, detail) when e = err ->
      if detail = "" then failwith "the error carries no detail"

let check what cond = if not cond then failwith what

let run area tests =
  let failed = ref 0 in
  List.iteri
    (fun i (name, f) ->
      Fdkit.Loop.close (Fdkit.Loop.create ());
      Gc.full_major ();
      let before = open_fds () in
      let outcome =
        match f () with
        | () ->
            Gc.full_major ();
            let after = open_fds () in
            if after = before then None
            else Some (Printf.sprintf "leaked descriptors: %d open before, %d after" before after)
        | exception e -> Some (Printexc.to_string e)
      in
      match outcome with
      | None -> Printf.printf "ok %d - %s: %s\n%!" (i + 1) area name
      | Some why ->
          incr failed;
          Printf.printf "not ok %d - %s: %s\n# %s\n%!" (i + 1) area name why)
    tests;
  Printf.printf "1..%d\n%!" (List.length tests);
  exit (if !failed > 0 then 1 else 0)
