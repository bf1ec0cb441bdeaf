(* SPDX-License-Identifier: MIT *)
(* fdkit's own constants are copied by hand into the OCaml modules (convention 8 makes their
   values part of the ABI): each must equal its #define in include/fdkit/*.h, found through
   pkg-config's include path (a build tree's or an installed prefix's). *)
open Fdkit

let include_dirs () =
  let ic = Unix.open_process_in "pkg-config --cflags-only-I fdkit" in
  let line = try input_line ic with End_of_file -> "" in
  ignore (Unix.close_process_in ic);
  String.split_on_char ' ' line
  |> List.filter_map (fun w -> if String.length w > 2 && String.sub w 0 2 = "-I" then Some (String.sub w 2 (String.length w - 2)) else None)

let header_value name =
  let re = Str.regexp ("^#define " ^ name ^ "[ \t]+\\(0x[0-9a-fA-F]+\\|[0-9]+\\)") in
  let search file =
    let ic = open_in_bin file in
    let text = really_input_string ic (in_channel_length ic) in
    close_in ic;
    match Str.search_forward re text 0 with
    | _ -> Some (int_of_string (Str.matched_group 1 text))
    | exception Not_found -> None
  in
  include_dirs ()
  |> List.concat_map (fun dir ->
         let d = Filename.concat dir "fdkit" in
         if Sys.file_exists d then List.map (Filename.concat d) (Array.to_list (Sys.readdir d)) else [])
  |> List.find_map search

let () =
  Tap.run "constants"
    [
      ( "the open flags equal fs.h",
        fun () ->
          List.iter
            (fun (c, v) ->
              match header_value c with
              | Some h when h = v -> ()
              | found ->
                  failwith (Printf.sprintf "%s: OCaml %d, header %s" c v (match found with Some h -> string_of_int h | None -> "missing")))
            Dir.
              [
                ("FDK_O_RDONLY", rdonly);
                ("FDK_O_WRONLY", wronly);
                ("FDK_O_RDWR", rdwr);
                ("FDK_O_CREAT", creat);
                ("FDK_O_EXCL", excl);
                ("FDK_O_TRUNC", trunc);
                ("FDK_O_DIRECTORY", directory);
                ("FDK_O_NOFOLLOW", nofollow);
              ] );
    ]
