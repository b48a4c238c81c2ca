"""The shipped SiC model loads and reproduces, on structures of its own training set, the training
errors its README states (a check that the file and its predictions are intact, not a validation);
its record says how it was made; and the slab frames written with pbc="T T F" predict exactly what
the same frames give with pbc="T T T" (the vacuum, 15 A, exceeds the 3 A cutoff).

usage: check_model.py ATOMFP_EXECUTABLE MODEL TRAINING_SET WORK_DIR
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
from ase.io import read, write

exe, model, data, work = sys.argv[1:5]
os.makedirs(work, exist_ok=True)
passes, failures = [], []


def check(ok, message):
    print(("ok    " if ok else "FAIL  ") + message)
    (passes if ok else failures).append(message)


def predict(frames, name):
    path = os.path.join(work, name + ".extxyz")
    write(path, frames, format="extxyz")
    out = os.path.join(work, name + "_predicted.extxyz")
    proc = subprocess.run([exe, "predict", "--model", model, path, "-o", out], capture_output=True, text=True)
    check(proc.returncode == 0, f"predict {name}: {proc.stderr.strip()}")
    return proc, read(out, ":")


training = read(data, ":")
# Every 12th structure: all kinds of configuration, a few seconds on one core.
sample = training[::12]
proc, predicted = predict(sample, "sample")
energy = float(re.search(r"energy\s+RMSE ([0-9.]+) meV/atom", proc.stdout).group(1))
force = float(re.search(r"forces\s+RMSE ([0-9.]+) eV/A", proc.stdout).group(1))
numpy_force = np.sqrt(np.mean(np.concatenate([(p.arrays["atomfp_forces"] - r.get_forces()).ravel()
                                              for p, r in zip(predicted, sample)]) ** 2))
check(abs(numpy_force - force) < 1e-3, f"printed force RMSE {force} equals NumPy's {numpy_force:.4f}")
check(energy <= 1.5 and force <= 0.25, f"on {len(sample)} of its training structures: {energy} meV/atom, {force} eV/A")

slabs = [f for f in training if f.info.get("config_type") == "slab_ppf"]
check(len(slabs) == 8 and all(list(f.pbc) == [True, True, False] for f in slabs), "the slab_ppf frames are read as T T F")
periodic = [f.copy() for f in slabs]
for f in periodic:
    f.pbc = True
_, open_z = predict(slabs, "slab_open")
_, closed = predict(periodic, "slab_periodic")
energy_gap = max(abs(a.info["atomfp_energy"] - b.info["atomfp_energy"]) for a, b in zip(open_z, closed))
force_gap = max(np.abs(a.arrays["atomfp_forces"] - b.arrays["atomfp_forces"]).max() for a, b in zip(open_z, closed))
check(energy_gap < 1e-9 and force_gap < 1e-10,
      f"T T F and T T T with 15 A of vacuum agree: energies to {energy_gap:.1e} eV, forces to {force_gap:.1e} eV/A")

info = json.loads(subprocess.run([exe, "info", model, "--json"], capture_output=True, text=True, check=True).stdout)
metadata = info["metadata"]
check(metadata["training_files"][0]["structures"] == 240 and len(metadata["cross_validation"]["per_config_type"]) == 18,
      "the model records its 240 training structures and 5-fold CV errors for the 18 config_types")
check("repulsion" in info, "the model carries its core repulsion")
pair_cutoffs = info["descriptor"].get("pair_cutoffs", {})
check(pair_cutoffs.get("C-Si", pair_cutoffs.get("Si-C", {})).get("cutoff") == 2.6 and pair_cutoffs.get("C-C", {}).get("cutoff") == 2.15,
      f"the descriptor's cutoffs per species pair follow Tersoff's: {pair_cutoffs}")
print(f"{len(passes)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
