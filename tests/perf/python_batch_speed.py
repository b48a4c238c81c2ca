#!/usr/bin/env python3
"""Speed of Descriptor.compute_many (one library call, threaded over all centres) against a Python
loop of Descriptor.compute over the same structures, measured alternately in one run, for two
datasets: the 240 bundled SiC frames (27,166 centres; SOAP power spectrum of Si and C, r_c 4 Å,
n 6, l 4) and 4,000 rattled methane molecules (20,000 centres; the same descriptor for H and C),
features only and with gradients. Reports wall and CPU time per variant (the best of `repeats`
alternations) and the ratio. A benchmark, not a test.

usage (build tree): PYTHONPATH=interfaces/python ATOMFP_LIBRARY=build/src/libatomfp.so \
    OMP_NUM_THREADS=N /usr/bin/python3 tests/perf/python_batch_speed.py [data/sic_tersoff_train.extxyz] [repeats]
"""
import os
import sys
import time

import ase.io

import atomfp

path = sys.argv[1] if len(sys.argv) > 1 else "data/sic_tersoff_train.extxyz"
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
import ase.build  # noqa: E402

crystals = ase.io.read(path, ":")
molecules = []
for seed in range(4000):
    molecule = ase.build.molecule("CH4")
    molecule.rattle(0.1, seed=seed)
    molecules.append(molecule)
datasets = {
    "SiC crystals": (crystals, {"type": "soap_power_spectrum", "species": ["Si", "C"], "cutoff": 4.0,
                                "max_radial": 6, "max_angular": 4}),
    "CH4 molecules": (molecules, {"type": "soap_power_spectrum", "species": ["H", "C"], "cutoff": 4.0,
                                  "max_radial": 6, "max_angular": 4}),
}
print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
for title, (frames, spec) in datasets.items():
    soap = atomfp.Descriptor(spec)
    n_centres = sum(len(f) for f in frames)
    print(f"{title}: {len(frames)} structures, {n_centres} centres, {soap.n_features} features")
    variants = {"loop": lambda g: [soap.compute(frame, gradients=g) for frame in frames],
                "batch": lambda g: soap.compute_many(frames, gradients=g)}
    for gradients in (False, True):
        best = {}
        for _ in range(repeats):
            for name, function in variants.items():
                wall, cpu = time.perf_counter(), time.process_time()
                function(gradients)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                if name not in best or wall < best[name][0]:
                    best[name] = (wall, cpu)
        what = "features + gradients" if gradients else "features"
        for name, (wall, cpu) in best.items():
            print(f"  {what:20s} {name:5s}: wall {wall:6.2f} s, CPU {cpu:6.2f} s, {n_centres / wall:8.0f} centres/s")
        print(f"  {what:20s} batch / loop speed (wall): {best['loop'][0] / best['batch'][0]:.2f}x")
