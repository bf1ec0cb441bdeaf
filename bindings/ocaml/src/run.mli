(* SPDX-License-Identifier: MIT *)
(** Running a command to completion with its output captured (run.h).

    {!run} waits on a private loop without the runtime lock; {!run_async} runs on the
    caller's loop. Both raise [Unix_error] for what stopped the start (a missing program:
    ENOENT; bad options: EINVAL); how the child ended is in the result. Signal numbers are
    OCaml's ([Sys.sigkill]...), as in [Unix.WSIGNALED]. *)

type status = Exited of int | Signaled of int

(** What becomes of one output stream. *)
type stream = Inherit | Capture | Discard | Merge  (** [Merge]: stderr only, into stdout (2>&1) *)

(** What a timeout or a cancel does to the child. *)
type cancel =
  | Kill  (** SIGKILL at once (the default) *)
  | Graceful  (** [stop_signal] (SIGTERM), then SIGKILL after [kill_grace_ms] *)
  | Wait  (** nothing: wait for the child and report the overrun *)

(** The child's process group; only a group fdkit created is signalled as a whole. *)
type group = Same_group | New_group | Session | Join of int

(** Which of the caller's descriptors the child keeps besides 0, 1 and 2. *)
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
(** The child's own usage; every field -1 when unknown. *)

type output = {
  status : status;
  stdout : string;
  stderr : string;
  timed_out : bool;
  truncated : bool;  (** output past [max_output] was dropped *)
  early_exit : bool;  (** [early_exit] stopped the child *)
  pipes_abandoned : bool;  (** a descendant kept a pipe open past [kill_grace_ms] *)
  pid : int;  (** already reaped: for logs *)
  duration_ns : int;
  rusage : rusage;
}

(** The options of {!run} and {!run_async}, then argv. *)
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

val run : output runner
(** [run argv] (its first element looked up in PATH). Both streams are captured by
    default. [stdin] feeds bytes, [stdin_fd] a descriptor. [dir], [cwd] or [cwd_fd] is
    where the child starts. [new_group] is [~group:New_group]. [max_output] caps the bytes
    kept over both streams ([stop_at_max_output]: stop the child there instead of reading
    and dropping). [early_exit so_far] is called with the stdout captured so far each time
    more arrives (on the thread running the run, with the runtime lock); [true] stops the
    child by the cancel policy; an exception it raises stops the child too and is raised
    again by [run]. *)

val run_async : Loop.t -> (output Io.callback -> Loop.op) runner
(** The same on [loop]: [k] gets the output once the child is gone. Cancelling the op
    applies the cancel policy (the callback still gets the output); an exception from
    [early_exit] is raised from the callback (so from [Loop.run]). *)

val signal : Loop.op -> int -> unit
(** Sends a signal to the child of a pending {!run_async}, or to its whole group when the
    run created one; ESRCH once the child exited. Loop thread only. *)

(**/**)

val stream_code : stream -> int
val cancel_code : cancel -> int
val group_code : group -> int * int
val fds_code : fds -> int * Unix.file_descr list
