(* SPDX-License-Identifier: MIT *)
(** Spawning a child from an ordered list of actions (process.h).

    The actions run in the child, in order, by code that makes raw system calls only; then
    the program is executed. A failing action raises [Unix_error] naming it in the detail
    ("spawn: action 2 (chdir ...)"); the failed child is already reaped. Signal numbers are
    OCaml's ([Sys.sigterm]...) everywhere, as in [Unix.kill] and [Unix.WSIGNALED].

    A [t] left to the collector leaves the child running, as [Unix.create_process] does:
    fdkit reaps it when it exits (at later spawns and waits, or {!reap_detached}; on its
    loop for a child spawned with [on_exit]), so it never stays a zombie.

    No OCaml function can run in the child: it may share the parent's memory and must not
    allocate or take the runtime lock, so fdk_actions_user is not offered. *)

type t

(** The blocking mode an inherited descriptor gets in the child (its open file description
    is shared with the parent). *)
type blocking = Preserve | Blocking | Nonblocking

type resource = Cpu | Fsize | Data | Stack | Core | Nofile | As | Nproc | Memlock

val rlim_infinity : int
(** No limit, in {!Rlimit}. *)

type action =
  | Setsid  (** a new session and process group *)
  | No_new_privs  (** exec can grant no privilege *)
  | Close_other_fds  (** every descriptor but 0, 1, 2 and the inherited ones *)
  | Chdir of string
  | Fchdir of Fd.t  (** the directory the handle refers to; put it before [Inherit] *)
  | Inherit of int * Fd.t * blocking  (** the handle at that number in the child *)
  | Inherit_raw of int * Unix.file_descr * blocking  (** a descriptor kept open until [spawn] returns *)
  | Setpgid of int  (** 0: lead a new group *)
  | Login_tty of Fd.t  (** a new session with this terminal as controlling tty (ENOTTY otherwise) *)
  | Setuid of int  (** after [Setgroups] and [Setgid] *)
  | Setgid of int
  | Setgroups of int list
  | Umask of int
  | Rlimit of resource * int * int  (** soft, hard *)
  | Pdeathsig of int  (** sent to the child when the spawning thread exits *)
  | Signal_default of int
  | Signal_ignore of int

(** How the child is created. *)
type backend = Auto | Fork | Posix_spawn

val spawn :
  ?cwd:string ->
  ?fds:(int * Fd.t) list ->
  ?setsid:bool ->
  ?actions:action list ->
  ?close_other_fds:bool ->
  ?env:string list ->
  ?program:string ->
  ?backend:backend ->
  ?on_exit:Loop.t * ((Unix.process_status, Common.error) result -> unit) ->
  string list ->
  t
(** [spawn argv] runs [argv] (its first element looked up in PATH), after the actions
    [Chdir cwd], [Inherit] for each of [fds] (blocking mode preserved), [Setsid], then
    [actions], then [Close_other_fds]. [env]: "K=V" strings instead of the caller's
    environment. [program]: the file to execute, without PATH search ([argv]'s first
    element is then only the name the program sees).

    [on_exit (loop, k)]: [k] runs on [loop] once the child exited, with its status (the
    child is reaped then), or with ECANCELED when the loop is closed first; the process is
    kept alive until then, also when the caller drops it, and a pending exit keeps
    [Loop.run]'s default mode going. Spawn on the loop's thread. *)

val pid : t -> int

val pidfd : t -> Unix.file_descr
(** The pidfd (owned by the process); EUNKNOWNERR ENOTSUP where the kernel has none. *)

val signal : t -> int -> unit
(** Raises ESRCH once the child was reaped: a recycled pid is never signalled. *)

val signal_group : t -> int -> unit
(** Signals the group the child leads (after [Setsid] or [Setpgid 0]). *)

val wait : t -> Unix.process_status
(** Waits for the exit (without the runtime lock), reaps, and returns how it ended. *)

val try_wait : t -> Unix.process_status option
(** How the child ended if it has (it is reaped then). *)

val reap_detached : unit -> int
(** Reaps the dropped children that have exited; returns how many still run. *)

(**/**)

val backend_code : backend -> int
