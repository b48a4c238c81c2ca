"""Checks `atomfp sensitivity` against NumPy: S = J^T J from the gradient blocks that
`atomfp describe --gradients` writes, its spectrum with and without the rigid-body modes (projected
out with a NumPy-built basis), and the condition number.

usage: check_sensitivity_cli.py ATOMFP_EXECUTABLE WORK_DIR
"""
import json
import os
import re
import sys

import numpy as np
from ase import Atoms
from ase.io import write

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import Checks  # noqa: E402

exe, work = sys.argv[1:3]
os.makedirs(work, exist_ok=True)
checks = Checks(exe)
check, run = checks.check, checks.run


# A generically distorted methane, C first.
positions = np.array([[0.02, -0.01, 0.03], [0.63, 0.61, 0.66], [-0.65, -0.58, 0.62], [-0.61, 0.67, -0.60], [0.66, -0.63, -0.69]])
molecule = Atoms("CH4", positions=positions)
structure = os.path.join(work, "ch4.extxyz")
write(structure, molecule, format="extxyz")
spec = os.path.join(work, "spec.json")
with open(spec, "w") as f:
    json.dump({"type": "soap_power_spectrum", "species": [1, 6], "cutoff": 4.0, "atomic_gaussian_width": 0.3,
               "max_radial": 6, "max_angular": 6}, f)

run("describe", "--spec", spec, structure, "-o", os.path.join(work, "f.npy"), "--gradients", os.path.join(work, "g.npy"),
    "--centers", "0", "--quiet")
blocks = np.load(os.path.join(work, "g.npy"))  # [1 + 4 neighbours][3][n_features]: centre 0, then atoms 1..4
J = blocks.reshape(5 * 3, -1).T  # [n_features][3N], column 3a + alpha
S = J.T @ J
full = np.linalg.eigvalsh(S)

# Rigid modes about the centre: translations and rotations, orthonormalised.
relative = positions - positions[0]
modes = []
for axis in range(3):
    t = np.zeros((5, 3))
    t[:, axis] = 1.0
    modes.append(t.ravel())
    w = np.zeros(3)
    w[axis] = 1.0
    modes.append(np.cross(w, relative).ravel())
Q, _ = np.linalg.qr(np.array(modes).T)
P = np.eye(15) - Q @ Q.T
projected = np.sort(np.linalg.eigvalsh(P @ S @ P))


def read_csv(path):
    return np.loadtxt(path, delimiter=",", skiprows=1)[:, 1]


run("sensitivity", "--spec", spec, "--center", "0", structure, "--keep-rigid", "-o", os.path.join(work, "kept.csv"))
kept = read_csv(os.path.join(work, "kept.csv"))
check(np.allclose(kept, full, atol=1e-10 * full.max()), "spectrum with rigid modes equals NumPy's eigvalsh(J^T J)")
check(np.sum(np.abs(kept) < 1e-10 * kept.max()) == 6, "exactly six (numerically) zero eigenvalues with rigid modes kept")

spectrum_svg = os.path.join(work, "spectrum.svg")
proc = run("sensitivity", "--spec", spec, "--center", "0", structure, "-o", os.path.join(work, "removed.csv"), "--svg", spectrum_svg)
checks.renders(spectrum_svg, "the sensitivity spectrum")
check("6 rigid modes (zero) to the left" in open(spectrum_svg).read(), "the spectrum figure marks the rigid modes")
removed = read_csv(os.path.join(work, "removed.csv"))
check(np.all(removed[:6] == 0.0), "rigid modes are reported as exact zeros first")
check(np.allclose(removed[6:], projected[6:], atol=1e-10 * full.max()), "rigid-free spectrum equals NumPy's projected spectrum")
condition = float(re.search(r"condition number .*: (\S+)", proc.stdout).group(1))
check(abs(condition - np.sqrt(projected[-1] / projected[6])) < 1e-6 * condition, f"condition number {condition:.6g}")

proc = run("sensitivity", "--spec", spec, "--center", "0", structure, "--scale-max", "-o", os.path.join(work, "scaled.csv"))
scaled = read_csv(os.path.join(work, "scaled.csv"))
check(abs(scaled[-1] - 1.0) < 1e-14 and np.allclose(scaled, removed / removed[-1], rtol=1e-12, atol=1e-18), "--scale-max divides by the largest")

run("sensitivity", "--spec", spec, "--center", "7", structure, expect=1)
run("sensitivity", "--spec", spec, "--center", "0", "--frame", "3", structure, expect=1)

checks.finish()
