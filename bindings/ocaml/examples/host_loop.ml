(* SPDX-License-Identifier: MIT *)
(* A host loop on Unix.select that serves its own descriptors and fdkit's together: fdkit
   is one more readable descriptor plus a timeout. *)
let drive loop ~(host : (Unix.file_descr * (unit -> unit)) list) ~until =
  let fdkit_fd = Fdkit.Loop.backend_fd loop in
  ignore (Fdkit.Loop.run ~mode:Fdkit.Loop.Nowait loop) (* arms what was started *);
  while not (until ()) do
    let ms = Fdkit.Loop.backend_timeout loop in
    let timeout = if ms < 0 then -1.0 else float_of_int ms /. 1000. in
    let ready =
      match Unix.select (fdkit_fd :: List.map fst host) [] [] timeout with
      | ready, _, _ -> ready
      | exception Unix.Unix_error (Unix.EINTR, _, _) -> []
    in
    List.iter (fun (fd, on_ready) -> if List.mem fd ready then on_ready ()) host;
    (* after a timeout too: fdkit's timers are due then *)
    ignore (Fdkit.Loop.run ~mode:Fdkit.Loop.Nowait loop)
  done

let () =
  let loop = Fdkit.Loop.create () in
  (* the host's own source: a plain pipe *)
  let host_r, host_w = Unix.pipe ~cloexec:true () in
  let host_got = ref "" in
  let on_host () =
    let buf = Bytes.create 64 in
    host_got := Bytes.sub_string buf 0 (Unix.read host_r buf 0 64)
  in
  (* fdkit's: a timer and a read *)
  let timer_done = ref false and fdkit_got = ref "" in
  ignore (Fdkit.Io.sleep_until loop (Fdkit.Io.now_ns () + 20_000_000) (fun _ -> timer_done := true));
  let r, w = Fdkit.Fd.pipe () in
  let buf = Bigarray.(Array1.create char c_layout 64) in
  ignore
    (Fdkit.Io.read_async loop r buf (function
      | Ok n -> fdkit_got := String.init n (Bigarray.Array1.get buf)
      | Error _ -> ()));
  ignore (Unix.write_substring host_w "host" 0 4);
  ignore (Fdkit.Io.write w "fdkit" 0 5);
  drive loop ~host:[ (host_r, on_host) ] ~until:(fun () -> !timer_done && !fdkit_got <> "" && !host_got <> "");
  Printf.printf "%s %s\n" !host_got !fdkit_got;
  List.iter Fdkit.Fd.close [ r; w ];
  List.iter Unix.close [ host_r; host_w ];
  Fdkit.Loop.close loop
