#!/usr/bin/env python3
"""A reference method for the active-learning tests: ASE's EMT potential (Cu). Reads the candidates'
extended XYZ, writes them back with energy, forces and stress.

usage: label_emt.py INPUT OUTPUT
Behaviour switches (files in the directory that holds the learning WORKDIR):
  calls.txt              one line per invocation is appended (the test counts them)
  fail                   exit with status 3 without output
  nan_first              the first structure's forces are NaN
  kill_after_output      after writing the output, SIGKILL the process whose pid is in learn.pid,
                         then remove this switch (a run killed between labelling and appending)
"""
import os
import signal
import sys

import ase.io
import numpy as np
from ase.calculators.emt import EMT

source, target = sys.argv[1], sys.argv[2]
control = os.path.dirname(os.path.dirname(os.path.abspath(os.getcwd())))  # above WORKDIR/iteration_k
with open(os.path.join(control, "calls.txt"), "a") as calls:
    calls.write(f"{os.path.basename(os.getcwd())}\n")
if os.path.exists(os.path.join(control, "fail")):
    print("label_emt: told to fail")
    sys.exit(3)
frames = ase.io.read(source, index=":")
for k, atoms in enumerate(frames):
    atoms.calc = EMT()
    energy, forces = atoms.get_potential_energy(), atoms.get_forces()
    stress = atoms.get_stress(voigt=False)
    atoms.calc = None
    if k == 0 and os.path.exists(os.path.join(control, "nan_first")):
        forces[0, 0] = np.nan
    atoms.info["energy"] = energy
    atoms.info["stress"] = stress.ravel()
    atoms.arrays["forces"] = forces
ase.io.write(target, frames, format="extxyz")
if os.path.exists(os.path.join(control, "kill_after_output")):
    os.remove(os.path.join(control, "kill_after_output"))
    with open(os.path.join(control, "learn.pid")) as f:
        os.kill(int(f.read()), signal.SIGKILL)
