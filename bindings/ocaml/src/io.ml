(* SPDX-License-Identifier: MIT *)
(* Reading, writing and the other calls on an open descriptor, and timers (io.h).
   Synchronous calls release the runtime lock while they wait and may be made from any
   thread; each is one system call's worth (at most 64 KiB per call for bytes). Asynchronous
   calls take bigarray buffers, which stay where they are while the operation runs. *)

type buffer = (char, Bigarray.int8_unsigned_elt, Bigarray.c_layout) Bigarray.Array1.t
type 'a callback = ('a, Common.error) result -> unit

let check_bounds name length off len =
  if off < 0 || len < 0 || off > length - len then invalid_arg ("Fdkit.Io." ^ name)

external read_raw : Fd.t -> bytes -> int -> int -> int = "fdkml_read"
external write_raw : Fd.t -> string -> int -> int -> int = "fdkml_write"
external pread_raw : Fd.t -> bytes -> int -> int -> int -> int = "fdkml_pread"
external pwrite_raw : Fd.t -> string -> int -> int -> int -> int = "fdkml_pwrite"
external getrandom_raw : bytes -> int -> int -> int = "fdkml_getrandom"

let read fd buf off len = check_bounds "read" (Bytes.length buf) off len; read_raw fd buf off len
let write fd s off len = check_bounds "write" (String.length s) off len; write_raw fd s off len

let pread fd buf off len ~pos =
  check_bounds "pread" (Bytes.length buf) off len;
  pread_raw fd buf off len pos

let pwrite fd s off len ~pos =
  check_bounds "pwrite" (String.length s) off len;
  pwrite_raw fd s off len pos

external lseek : Fd.t -> int -> Unix.seek_command -> int = "fdkml_lseek"
external fsync_raw : Fd.t -> bool -> unit = "fdkml_fsync"

(* fsync, or fdatasync with [~data_only:true]. *)
let fsync ?(data_only = false) fd = fsync_raw fd data_only

external ftruncate : Fd.t -> int -> unit = "fdkml_ftruncate"

let getrandom buf off len = check_bounds "getrandom" (Bytes.length buf) off len; getrandom_raw buf off len

(* Nanoseconds on the monotonic clock. *)
external now_ns : unit -> int = "fdkml_now_ns"

external read_async_raw : Loop.t -> Fd.t -> buffer -> int -> int -> (int -> string -> unit) -> Loop.op
  = "fdkml_read_async_bc" "fdkml_read_async"

external write_async_raw : Loop.t -> Fd.t -> buffer -> int -> int -> (int -> string -> unit) -> Loop.op
  = "fdkml_write_async_bc" "fdkml_write_async"

external getrandom_async_raw : Loop.t -> buffer -> int -> int -> (int -> string -> unit) -> Loop.op
  = "fdkml_getrandom_async"

external sleep_until_raw : Loop.t -> int -> (int -> string -> unit) -> Loop.op = "fdkml_sleep_until"

let span name buf off len =
  let len = match len with Some l -> l | None -> Bigarray.Array1.dim buf - off in
  check_bounds name (Bigarray.Array1.dim buf) off len;
  len

(* Reads into [buf] (from [off], [len] bytes by default to its end); [k] gets the count. *)
let read_async loop fd ?(off = 0) ?len buf k =
  let len = span "read_async" buf off len in
  read_async_raw loop fd buf off len (fun r d -> k (Common.result r d Fun.id))

let write_async loop fd ?(off = 0) ?len buf k =
  let len = span "write_async" buf off len in
  write_async_raw loop fd buf off len (fun r d -> k (Common.result r d Fun.id))

(* Fills [buf] with random bytes on the worker pool. *)
let getrandom_async loop ?(off = 0) ?len buf k =
  let len = span "getrandom_async" buf off len in
  getrandom_async_raw loop buf off len (fun r d -> k (Common.result r d Fun.id))

(* Completes once [now_ns () >= deadline] (never earlier), or with ECANCELED. *)
let sleep_until loop deadline k = sleep_until_raw loop deadline (fun r d -> k (Common.result r d ignore))

external pread_async_raw : Loop.t -> Fd.t -> buffer -> int -> int -> int -> (int -> string -> unit) -> Loop.op
  = "fdkml_pread_async_bc" "fdkml_pread_async"

external pwrite_async_raw : Loop.t -> Fd.t -> buffer -> int -> int -> int -> (int -> string -> unit) -> Loop.op
  = "fdkml_pwrite_async_bc" "fdkml_pwrite_async"

external readv_async_raw : Loop.t -> Fd.t -> buffer list -> (int -> string -> unit) -> Loop.op
  = "fdkml_readv_async"

external writev_async_raw : Loop.t -> Fd.t -> buffer list -> (int -> string -> unit) -> Loop.op
  = "fdkml_writev_async"

external lseek_async_raw : Loop.t -> Fd.t -> int -> Unix.seek_command -> (int -> string -> unit) -> Loop.op
  = "fdkml_lseek_async"

external fsync_async_raw : Loop.t -> Fd.t -> bool -> (int -> string -> unit) -> Loop.op = "fdkml_fsync_async"
external ftruncate_async_raw : Loop.t -> Fd.t -> int -> (int -> string -> unit) -> Loop.op = "fdkml_ftruncate_async"

(* Reads at [pos] without moving the file position; [k] gets the count. *)
let pread_async loop fd ?(off = 0) ?len buf ~pos k =
  let len = span "pread_async" buf off len in
  pread_async_raw loop fd buf off len pos (fun r d -> k (Common.result r d Fun.id))

let pwrite_async loop fd ?(off = 0) ?len buf ~pos k =
  let len = span "pwrite_async" buf off len in
  pwrite_async_raw loop fd buf off len pos (fun r d -> k (Common.result r d Fun.id))

(* Scatters into / gathers from whole bigarrays, in order; [k] gets the count. *)
let readv_async loop fd bufs k = readv_async_raw loop fd bufs (fun r d -> k (Common.result r d Fun.id))
let writev_async loop fd bufs k = writev_async_raw loop fd bufs (fun r d -> k (Common.result r d Fun.id))

(* Moves the file position on the worker pool; [k] gets the new offset. *)
let lseek_async loop fd offset cmd k = lseek_async_raw loop fd offset cmd (fun r d -> k (Common.result r d Fun.id))

let fsync_async ?(data_only = false) loop fd k =
  fsync_async_raw loop fd data_only (fun r d -> k (Common.result r d ignore))

let ftruncate_async loop fd length k = ftruncate_async_raw loop fd length (fun r d -> k (Common.result r d ignore))

external write_all_async_raw : Loop.t -> Fd.t -> buffer -> int -> int -> (int -> string -> unit) -> Loop.op
  = "fdkml_write_all_async_bc" "fdkml_write_all_async"

(* Writes all of the span: [k] gets its length once every byte is written, or the error.
   Writes on one handle are queued in submission order and never interleave. *)
let write_all_async loop fd ?(off = 0) ?len buf k =
  let len = span "write_all_async" buf off len in
  write_all_async_raw loop fd buf off len (fun r d -> k (Common.result r d Fun.id))

(* Bytes queued on [fd] by [write_all_async] and not yet written (back-pressure). *)
external write_queue_size : Loop.t -> Fd.t -> int = "fdkml_write_queue_size"

external writev_all_async_raw : Loop.t -> Fd.t -> buffer list -> (int -> string -> unit) -> Loop.op
  = "fdkml_writev_all_async"

(* [write_all_async] over whole bigarrays, in order: [k] gets the total once all is written. *)
let writev_all_async loop fd bufs k = writev_all_async_raw loop fd bufs (fun r d -> k (Common.result r d Fun.id))

(* Scatter / gather over whole bigarrays (one system call's worth; the count is returned).
   The runtime lock is released meanwhile. *)
external readv : Fd.t -> buffer list -> int = "fdkml_readv"
external writev : Fd.t -> buffer list -> int = "fdkml_writev"
