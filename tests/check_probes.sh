#!/bin/sh
# SPDX-License-Identifier: MIT
# The library carries the USDT probes fdkit:op__begin and fdkit:op__end (ELF notes),
# each with a semaphore so probes cost nothing until attached.
set -eu
lib=$1
notes=$(readelf -n "$lib")
for probe in op__begin op__end; do
  printf '%s\n' "$notes" | grep -A2 "Name: $probe" | grep -q 'Semaphore: 0x0*[1-9a-f]' || {
    echo "not ok 1 - probe fdkit:$probe with a semaphore in $lib"
    exit 1
  }
done
printf '%s\n' "$notes" | grep -q 'Provider: fdkit' || { echo "not ok 1 - provider fdkit"; exit 1; }
echo "1..1"
echo "ok 1 - probes fdkit:op__begin and fdkit:op__end present in $lib"
