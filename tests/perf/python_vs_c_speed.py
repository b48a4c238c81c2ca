#!/usr/bin/env python3
"""The cost of the Python binding: Descriptor.compute on 1,000 rattled diamond Si atoms (ACSF r_c 6 Å,
the default set; SOAP power spectrum r_c 5 Å, n 8, l 6), features and features + gradients, four
ways measured alternately in one run: the C function called directly into buffers allocated once
(what a C host does); Descriptor.compute of ase.Atoms (a neighbour list built per call) and of a
reused System, both with fresh outputs; and Descriptor.compute with out= and gradients_out=
buffers and a reused System. Reports wall and CPU time (best of `repeats`) and the
ratio to the C call. A benchmark, not a test.

usage (build tree): PYTHONPATH=interfaces/python ATOMFP_LIBRARY=build/src/libatomfp.so \
    OMP_NUM_THREADS=1 /usr/bin/python3 tests/perf/python_vs_c_speed.py [repeats]
"""
import ctypes
import os
import sys
import time

import ase.build
import numpy as np

import atomfp
from atomfp import _capi

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
atoms = ase.build.bulk("Si", "diamond", 5.431, cubic=True) * (5, 5, 5)
atoms.rattle(0.1, seed=42)
specs = {
    "ACSF": {"type": "acsf", "species": [14], "cutoff": 6.0},
    "SOAP": {"type": "soap_power_spectrum", "species": [14], "cutoff": 5.0, "cutoff_width": 0.5,
             "max_radial": 8, "max_angular": 6},
}
print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, atomfp kernels: {atomfp.simd_kernels()}, "
      f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
for title, spec in specs.items():
    descriptor = atomfp.Descriptor(spec)
    system = atomfp.neighbour_list(atoms.positions, atoms.numbers, descriptor.cutoff, cell=atoms.cell.array)
    nf = descriptor.n_features
    print(f"{title}: {len(atoms)} atoms, {system.n_pairs / system.n_centers:.1f} neighbours, {nf} features")
    for gradients in (False, True):
        features = np.empty((system.n_centers, nf))
        values = np.empty((system.n_blocks, 3, nf)) if gradients else None
        c_system = system.c_struct()

        def c_call():
            _capi.check(_capi.lib.atomfp_descriptor_compute(descriptor._handle, ctypes.byref(c_system),
                                                            _capi.pointer(features, ctypes.c_double),
                                                            _capi.pointer(values, ctypes.c_double)))

        variants = {
            "C call, buffers reused": c_call,
            "Python, ase.Atoms": lambda: descriptor.compute(atoms, gradients=gradients),
            "Python, System": lambda: descriptor.compute(system, gradients=gradients),
            "Python, out= + System": lambda: descriptor.compute(system, gradients=gradients, out=features,
                                                                gradients_out=values),
        }
        best = {}
        for _ in range(repeats):
            for name, function in variants.items():
                wall, cpu = time.perf_counter(), time.process_time()
                function()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                if name not in best or wall < best[name][0]:
                    best[name] = (wall, cpu)
        what = "features + gradients" if gradients else "features"
        size = f" ({values.nbytes / 2**20:.0f} MiB of gradients)" if gradients else ""
        print(f"  {what}{size}")
        for name, (wall, cpu) in best.items():
            ratio = wall / best["C call, buffers reused"][0]
            print(f"    {name:24s}: wall {1e3 * wall:8.1f} ms, CPU {1e3 * cpu:8.1f} ms, {ratio:5.2f}x the C call")
