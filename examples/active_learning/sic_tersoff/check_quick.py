#!/usr/bin/python3
"""The SiC active-learning example in its quick form, with the real reference method (Erhart-Albe
Tersoff through LAMMPS + KIM): learn.json with short trajectories, a small basis of references and
two iterations of 4 labels.

Checks that the labeller reproduces the stored labels of the initial structures, that the data grow
by the budget with every structure labelled once, that each protocol's candidates are recorded and
labelled structures carry their protocol as config_type, and that the validation force error falls.
Exits 77 (skipped) when LAMMPS or the KIM model is not installed.

usage: check_quick.py <atomfp> <work dir>
"""
import json
import pathlib
import shutil
import subprocess
import sys

import ase.io
import numpy as np

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here))
sys.path.insert(0, str(here.parents[2] / "tests" / "support"))
from checks import Checks  # noqa: E402
from label_tersoff import label  # noqa: E402

exe, work = sys.argv[1], pathlib.Path(sys.argv[2]).resolve()
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
checks = Checks()

initial = ase.io.read(here / "data" / "initial.extxyz", index=":")
if shutil.which("lmp") is None:
    print("SKIPPED: no lmp on PATH (Debian: lammps, openkim-models)")
    sys.exit(77)
try:
    relabelled = label([atoms.copy() for atoms in initial[:2]])
except SystemExit as failure:
    print(f"SKIPPED: LAMMPS cannot run the KIM Tersoff model here: {failure}")
    sys.exit(77)
worst = max(float(np.abs(a.arrays["forces"] - b.get_forces()).max()) for a, b in zip(relabelled, initial[:2]))
# The stored positions have 8 decimals: 1e-8 Å times force constants of ~100 eV/Å² is 1e-6 eV/Å.
checks.check(all(abs(a.info["energy"] - b.get_potential_energy()) < 1e-6 for a, b in zip(relabelled, initial[:2])) and worst < 1e-5,
             f"the labeller reproduces the stored labels (forces to {worst:.1e} eV/A)")

config = json.loads((here / "learn.json").read_text())
config["fit"]["sparse_per_species"] = 300
config["fit"]["descriptor"].update(max_radial=6, max_angular=4)
for protocol in config["exploration"]["protocols"]:
    protocol["steps"] = 200
    protocol["sample_every"] = 40
config["selection"]["budget"] = 4
config["stopping"] = {"max_labels": 8, "max_iterations": 3}
(work / "quick.json").write_text(json.dumps(config))
for name in ("data", "label_tersoff.py"):
    (work / name).symlink_to(here / name)

run = checks.run([exe, "learn", "--config", work / "quick.json", "-o", work / "run"], env=None, what="atomfp learn")
print(run.stdout[-3000:])
state = json.loads((work / "run" / "state.json").read_text())
history = state["history"]
checks.check([r["labels"] for r in history] == [8, 12, 16], f"labelled structures per iteration {[r['labels'] for r in history]}")
names = {p["name"] for p in config["exploration"]["protocols"]}
checks.check(all(set(r["exploration"]) == names and all(p["candidates"] > 0 for p in r["exploration"].values()) for r in history[:-1]),
             "every protocol contributed candidates in every exploring iteration")
data = ase.io.read(work / "run" / "dataset.extxyz", index=":")
types = [a.info.get("config_type") for a in data[len(initial):]]
checks.check(len(data) == 16 and set(types) <= names, f"labelled structures carry their protocol ({sorted(set(types))})")
checks.check(not (work / "run" / "rejected.extxyz").exists(), "the labeller labelled every candidate")
force = [r["validation"]["force_rmse"] for r in history]
checks.check(force[-1] < force[0], f"validation force RMSE {force[0]:.3f} -> {force[-1]:.3f} eV/A")
validation = ase.io.read(here / "data" / "validation.extxyz", index=":")
components = {}
for atoms in validation:
    components[atoms.info["config_type"]] = components.get(atoms.info["config_type"], 0) + 3 * len(atoms)
groups = history[-1]["validation_by_config_type"]
pooled = sum(n * groups[t]["force_rmse"] ** 2 for t, n in components.items()) / sum(components.values())
checks.check(set(groups) == set(components) and abs(pooled - force[-1] ** 2) < 1e-9 * force[-1] ** 2,
             f"validation errors per config_type ({len(groups)}) pool to the total")
checks.finish()
