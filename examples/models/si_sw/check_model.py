"""The shipped Si model loads, predicts the 25-structure subset of its training data within the
errors the README states (these structures were part of the fit: a check that the file and its
predictions are intact, not a validation), and its forces agree with ASE's reading of the output.

usage: check_model.py ATOMFP_EXECUTABLE MODEL DATA WORK_DIR
"""
import os
import re
import subprocess
import sys

import numpy as np
from ase.io import read

exe, model, data, work = sys.argv[1:5]
os.makedirs(work, exist_ok=True)
out = os.path.join(work, "predicted.extxyz")
proc = subprocess.run([exe, "predict", "--model", model, data, "-o", out], capture_output=True, text=True)
print(proc.stdout, proc.stderr)
energy = float(re.search(r"energy\s+RMSE ([0-9.]+) meV/atom", proc.stdout).group(1))
force = float(re.search(r"forces\s+RMSE ([0-9.]+) eV/A", proc.stdout).group(1))
reference = read(data, ":")
predicted = read(out, ":")
numpy_force = np.sqrt(np.mean(np.concatenate([(p.arrays["atomfp_forces"] - r.get_forces()).ravel() for p, r in zip(predicted, reference)]) ** 2))
ok = proc.returncode == 0 and energy <= 2.0 and force <= 0.08 and abs(numpy_force - force) < 1e-3
print(f"energy RMSE {energy} meV/atom, force RMSE {force} eV/A (NumPy {numpy_force:.4f})")
print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
sys.exit(0 if ok else 1)
