#!/usr/bin/env bash
# Installs atomfp's build and test dependencies from Debian 12 packages (run as root).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config gfortran
  libopenblas-openmp-dev nlohmann-json3-dev libcli11-dev libopenmpi-dev openmpi-bin
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev libomp-14-dev
  python3-numpy python3-ase python3-pip python3-venv python3-setuptools python3-wheel zlib1g-dev
  libkim-api-dev openkim-models lammps xxd librsvg2-bin
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
else
  echo "all Debian packages are installed"
fi
