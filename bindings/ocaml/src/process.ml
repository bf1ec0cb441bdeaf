(* SPDX-License-Identifier: MIT *)
type t

type blocking = Preserve | Blocking | Nonblocking

type resource = Cpu | Fsize | Data | Stack | Core | Nofile | As | Nproc | Memlock

let rlim_infinity = max_int

type action =
  | Setsid
  | No_new_privs
  | Close_other_fds
  | Chdir of string
  | Fchdir of Fd.t
  | Inherit of int * Fd.t * blocking
  | Inherit_raw of int * Unix.file_descr * blocking
  | Setpgid of int
  | Login_tty of Fd.t
  | Setuid of int
  | Setgid of int
  | Setgroups of int list
  | Umask of int
  | Rlimit of resource * int * int
  | Pdeathsig of int
  | Signal_default of int
  | Signal_ignore of int

type backend = Auto | Fork | Posix_spawn

let backend_code = function Auto -> 0 | Fork -> 1 | Posix_spawn -> 2

external spawn_raw :
  action list ->
  string list ->
  string list option ->
  string option ->
  int ->
  (Loop.t * (int -> string -> Unix.process_status option -> unit)) option ->
  t = "fdkml_spawn_bc" "fdkml_spawn"

let exit_result k r detail status =
  if r < 0 then k (Error (Common.unix_error_of_code (-r), detail))
  else
    match status with
    | Some st -> k (Ok st)
    | None -> k (Error (Unix.ECHILD, "fdk_process_try_wait: the exit status is lost"))

let spawn ?cwd ?(fds = []) ?(setsid = false) ?(actions = []) ?(close_other_fds = false) ?env ?program
    ?(backend = Auto) ?on_exit argv =
  let actions =
    (match cwd with Some d -> [ Chdir d ] | None -> [])
    @ List.map (fun (dst, fd) -> Inherit (dst, fd, Preserve)) fds
    @ (if setsid then [ Setsid ] else [])
    @ actions
    @ if close_other_fds then [ Close_other_fds ] else []
  in
  let on_exit = Option.map (fun (loop, k) -> (loop, exit_result k)) on_exit in
  spawn_raw actions argv env program (backend_code backend) on_exit

external pid : t -> int = "fdkml_process_pid"
external pidfd : t -> Unix.file_descr = "fdkml_process_pidfd"
external signal : t -> int -> unit = "fdkml_process_signal"
external signal_group : t -> int -> unit = "fdkml_process_signal_group"
external wait : t -> Unix.process_status = "fdkml_process_wait"
external try_wait : t -> Unix.process_status option = "fdkml_process_try_wait"
external reap_detached : unit -> int = "fdkml_process_reap_detached"
