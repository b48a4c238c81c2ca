#!/usr/bin/env bash
# Installs the dependencies, builds atomfp, describes the bundled example structures and traces a
# manifold of quasi-constant SOAP fingerprint around the carbon of a distorted methane, and predicts
# energies, forces and the virial of the bundled Si structure with the shipped Si model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
mkdir -p build/example_output
./build/src/atomfp describe --spec data/acsf_si.json data/si64_md1000.extxyz \
  -o build/example_output/si64_features.npy --gradients build/example_output/si64_gradients.npy
./build/src/atomfp describe --spec data/acsf_ch.json data/ch4.extxyz -o build/example_output/ch4_features.npy
./build/src/atomfp describe --spec data/soap_si.json data/si64_md1000.extxyz \
  -o build/example_output/si64_soap.npy --gradients build/example_output/si64_soap_gradients.npy
./build/src/atomfp optimize-basis --spec data/soap_dvr_primitive_si.json --max-radial 8 data/si64_md1000.extxyz \
  -o build/example_output/soap_optimal_si.json
./build/src/atomfp describe --spec build/example_output/soap_optimal_si.json data/si64_md1000.extxyz \
  -o build/example_output/si64_soap_optimal.npy
./build/src/atomfp manifold --spec examples/sensitivity/specs/soap.json --probe examples/sensitivity/specs/omfp_sp.json \
  --center 0 examples/sensitivity/ch4.xyz -o build/example_output/ch4_soap_manifold
./build/src/atomfp predict --model examples/models/si_sw/si_sw_soap.afp data/si64_md1000.extxyz \
  --svg build/example_output/si64_parity.svg
