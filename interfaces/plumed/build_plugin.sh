#!/usr/bin/env bash
# Compiles the atomfp PLUMED plugin with the compiler flags of the PLUMED installation that will
# load it (as `plumed mklib` does), plus atomfp's header and library. It is linked twice: once with
# a RUNPATH to the build tree's libatomfp (for the tests) and once with the RUNPATH it has when
# installed ($ORIGIN-relative, see docs/hosts.md).
# usage: build_plugin.sh <plumed> <source.cpp> <output.so> <atomfp include dir>... --
#                        <libatomfp.so> <installed output.so> <installed RUNPATH>
set -euo pipefail
plumed=$1 source=$2 output=$3
shift 3
includes=()
while [ "$1" != "--" ]; do includes+=("-I$1"); shift; done
library=$2 installed_output=$3 installed_rpath=$4
root=$("$plumed" --no-mpi info --root)
PLUMED_INCLUDEDIR=$("$plumed" --no-mpi info --include-dir)
PLUMED_PROGRAM_NAME=plumed
# shellcheck disable=SC1091
source "$root/src/config/compile_options.sh"
object="${output%.so}.o"
eval "$compile" '"$object"' '"$source"' '"${includes[@]}"'
eval "$link_installed" '"$output"' '"$object"' '"$library"' "-Wl,-rpath,$(dirname "$library")"
eval "$link_installed" '"$installed_output"' '"$object"' '"$library"' "'-Wl,-rpath,$installed_rpath'"
