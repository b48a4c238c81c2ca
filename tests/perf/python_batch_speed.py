#!/usr/bin/env python3
"""Speed of Descriptor.compute_many (one library call, threaded over all centres) against a Python
loop of Descriptor.compute over the same structures, measured alternately in one run: SOAP power
spectrum (Si, C; r_c 4 Å, n 6, l 4) of the 240 bundled SiC frames (27,166 centres), features only
and with gradients. Reports wall and CPU time per variant (the best of `repeats` alternations) and
the ratio. A benchmark, not a test.

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
frames = ase.io.read(path, ":")
soap = atomfp.Descriptor({"type": "soap_power_spectrum", "species": ["Si", "C"], "cutoff": 4.0, "max_radial": 6,
                          "max_angular": 4})
n_centres = sum(len(f) for f in frames)


def loop(gradients):
    for frame in frames:
        soap.compute(frame, gradients=gradients)


def batch(gradients):
    soap.compute_many(frames, gradients=gradients)


print(f"{len(frames)} frames, {n_centres} centres, {soap.n_features} features, "
      f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
for gradients in (False, True):
    best = {}
    for _ in range(repeats):
        for name, function in (("loop", loop), ("batch", batch)):
            wall, cpu = time.perf_counter(), time.process_time()
            function(gradients)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu)
    for name, (wall, cpu) in best.items():
        print(f"  {'features + gradients' if gradients else 'features':22s} {name:5s}: wall {wall:6.2f} s, CPU {cpu:6.2f} s, "
              f"{n_centres / wall:8.0f} centres/s")
    print(f"  batch / loop speed (wall): {best['loop'][0] / best['batch'][0]:.2f}x")
