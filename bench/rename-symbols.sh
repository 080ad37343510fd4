#!/bin/sh
# rename-symbols.sh LD NM OBJCOPY LIBRARY PREFIX OUTPUT
#
# Turns a static library into one relocatable object whose global symbols
# all carry PREFIX. The benchmark uses it to link the detector-less build of
# the core (gomap_nodetect) next to the normal one (gomap) in one program:
# both export the same names, so one copy has to be renamed. Undefined
# references (libc, libdw) keep their names.
set -eu
[ $# -eq 6 ] || { echo "usage: $0 LD NM OBJCOPY LIBRARY PREFIX OUTPUT" >&2; exit 64; }
ld=$1 nm=$2 objcopy=$3 lib=$4 prefix=$5 out=$6

"$ld" -r -o "$out.tmp.o" --whole-archive "$lib"
"$nm" -g --defined-only "$out.tmp.o" | awk -v p="$prefix" 'NF == 3 { print $3, p $3 }' >"$out.syms"
[ -s "$out.syms" ] || { echo "$0: no global symbols in $lib" >&2; exit 1; }
"$objcopy" --redefine-syms="$out.syms" "$out.tmp.o" "$out"
rm -f "$out.tmp.o"
