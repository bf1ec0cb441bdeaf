(* SPDX-License-Identifier: MIT *)
type status = Exited of int | Signaled of int
type stream = Inherit | Capture | Discard | Merge
type cancel = Kill | Graceful | Wait
type group = Same_group | New_group | Session | Join of int
type fds = Cloexec_only | Close_from_3 | Keep of Unix.file_descr list

type rusage = {
  utime_ns : int;
  stime_ns : int;
  maxrss_kib : int;
  minflt : int;
  majflt : int;
  inblock : int;
  oublock : int;
  nvcsw : int;
  nivcsw : int;
}

type output = {
  status : status;
  stdout : string;
  stderr : string;
  timed_out : bool;
  truncated : bool;
  early_exit : bool;
  pipes_abandoned : bool;
  pid : int;
  duration_ns : int;
  rusage : rusage;
}

type cwd = Cwd_path of string | Cwd_fd of Fd.t | Cwd_dir of Dir.t
type stdin = Stdin_bytes of string | Stdin_fd of Fd.t

(* What fdkml_run_opts reads, field by field. *)
type config = {
  argv : string list;
  env : string list option;
  cwd : cwd option;
  stdin : stdin option;
  stdout_mode : int;
  stderr_mode : int;
  max_output : int;
  stop_at_max_output : bool;
  timeout_ms : int;
  cancel : int * int;
  stop_signal : int option;
  group : int * int;
  fds : int * Unix.file_descr list;
  early_exit : (string -> bool) option;
  backend : int;
}

type opts

external opts_raw : config -> opts = "fdkml_run_opts"
external take_exn : opts -> exn option = "fdkml_run_opts_take_exn"
external run_raw : opts -> output = "fdkml_run"
external run_async_raw : Loop.t -> opts -> (int -> string -> output -> unit) -> Loop.op = "fdkml_run_async"
external signal : Loop.op -> int -> unit = "fdkml_run_signal"

let stream_code = function Inherit -> 0 | Capture -> 1 | Discard -> 2 | Merge -> 3
let cancel_code = function Wait -> 0 | Kill -> 1 | Graceful -> 2
let group_code = function Same_group -> (0, 0) | New_group -> (1, 0) | Session -> (2, 0) | Join leader -> (3, leader)
let fds_code = function Cloexec_only -> (0, []) | Close_from_3 -> (1, []) | Keep l -> (2, l)

type 'a runner =
  ?stdin:string ->
  ?stdin_fd:Fd.t ->
  ?timeout_ms:int ->
  ?new_group:bool ->
  ?group:group ->
  ?dir:Dir.t ->
  ?cwd:string ->
  ?cwd_fd:Fd.t ->
  ?env:string list ->
  ?stdout:stream ->
  ?stderr:stream ->
  ?max_output:int ->
  ?stop_at_max_output:bool ->
  ?cancel:cancel ->
  ?kill_grace_ms:int ->
  ?stop_signal:int ->
  ?fds:fds ->
  ?early_exit:(string -> bool) ->
  ?backend:Process.backend ->
  string list ->
  'a

(* Builds the options from the arguments and hands them to [k]. *)
let with_opts k ?stdin ?stdin_fd ?(timeout_ms = 0) ?(new_group = false) ?group ?dir ?cwd ?cwd_fd ?env
    ?(stdout = Capture) ?(stderr = Capture) ?(max_output = -1) ?(stop_at_max_output = false) ?(cancel = Kill)
    ?(kill_grace_ms = 1000) ?stop_signal ?(fds = Cloexec_only) ?early_exit ?(backend = Process.Auto) argv =
  let cwd =
    match (dir, cwd, cwd_fd) with
    | Some d, _, _ -> Some (Cwd_dir d)
    | None, Some p, _ -> Some (Cwd_path p)
    | None, None, Some fd -> Some (Cwd_fd fd)
    | None, None, None -> None
  in
  let stdin =
    match (stdin, stdin_fd) with
    | Some s, _ -> Some (Stdin_bytes s)
    | None, Some fd -> Some (Stdin_fd fd)
    | None, None -> None
  in
  let group = group_code (match group with Some g -> g | None -> if new_group then New_group else Same_group) in
  k
    (opts_raw
    {
      argv;
      env;
      cwd;
      stdin;
      stdout_mode = stream_code stdout;
      stderr_mode = stream_code stderr;
      max_output;
      stop_at_max_output;
      timeout_ms;
      cancel = (cancel_code cancel, kill_grace_ms);
      stop_signal;
      group;
      fds = fds_code fds;
      early_exit;
      backend = Process.backend_code backend;
    })

let reraise opts = match take_exn opts with Some e -> raise e | None -> ()

let run : output runner =
  with_opts (fun o ->
      let out = run_raw o in
      reraise o;
      out)

let run_async loop : (output Io.callback -> Loop.op) runner =
  with_opts (fun o k ->
      run_async_raw loop o (fun r d out ->
          reraise o;
          k (Common.result r d (fun _ -> out))))
