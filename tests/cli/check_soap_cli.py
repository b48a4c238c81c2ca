"""Checks the SOAP family through the command line: `describe` for every type (the power
spectrum recomputed in NumPy from the described spherical expansion, rotation invariance with
ASE, normalisation) and `optimize-basis` (orthonormal contraction rows, residual variances that
fall with q, and a specification that `describe` accepts).

usage: check_soap_cli.py ATOMFP_EXECUTABLE DATA_DIR WORK_DIR
"""
import json
import os
import sys

import numpy as np
from ase.io import read, write

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import Checks  # noqa: E402

exe, data_dir, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
checks = Checks(exe)
check, run = checks.check, checks.run


def spec_file(name, spec):
    path = os.path.join(work, name + ".json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


data = os.path.join(data_dir, "si_sw_sample.extxyz")
frame = read(data, index=0)
one_frame = os.path.join(work, "frame0.extxyz")
write(one_frame, frame, format="extxyz")
common = {"species": [14], "cutoff": 4.5, "atomic_gaussian_width": 0.5, "max_radial": 4, "max_angular": 3}

# Power spectrum from the described expansion: p_{nn'l} = pi sqrt(8/(2l+1)) sum_m c_nlm c_n'lm.
se = spec_file("se", {"type": "spherical_expansion", **common})
ps = spec_file("ps", {"type": "soap_power_spectrum", "normalize": False, **common})
run("describe", "--spec", se, one_frame, "-o", os.path.join(work, "se.npy"), "--quiet")
run("describe", "--spec", ps, one_frame, "-o", os.path.join(work, "ps.npy"), "--labels", os.path.join(work, "ps.txt"), "--quiet")
c = np.load(os.path.join(work, "se.npy")).reshape(len(frame), 4, 16)
p = np.load(os.path.join(work, "ps.npy"))
expected = []
for n in range(4):
    for nn in range(n, 4):
        for l in range(4):
            block = slice(l * l, (l + 1) * (l + 1))
            value = np.pi * np.sqrt(8.0 / (2 * l + 1)) * np.sum(c[:, n, block] * c[:, nn, block], axis=1)
            expected.append(value * (1.0 if n == nn else np.sqrt(2.0)))
expected = np.array(expected).T
check(p.shape == expected.shape, f"power spectrum shape {p.shape}")
check(np.allclose(p, expected, rtol=1e-12, atol=1e-14 * np.abs(p).max()), "power spectrum equals its definition from the expansion")
labels = open(os.path.join(work, "ps.txt")).read().split("\n")
check(labels[1] == "p[Si,n=0;Si,n=0,l=1]", f"label {labels[1]}")

# Every type: rotation invariance of the invariants and unit norm where normalised.
rotated = frame.copy()
rotated.rotate(37, (1, 2, 3), rotate_cell=True)
rotated_file = os.path.join(work, "rotated.extxyz")
write(rotated_file, rotated, format="extxyz")
for kind in ["soap_radial_spectrum", "soap_power_spectrum", "soap_bispectrum"]:
    spec = {"type": kind, **common}
    if kind == "soap_radial_spectrum":
        del spec["max_angular"]
    path = spec_file(kind, spec)
    run("describe", "--spec", path, one_frame, "-o", os.path.join(work, kind + ".npy"), "--quiet")
    run("describe", "--spec", path, rotated_file, "-o", os.path.join(work, kind + "_rot.npy"), "--quiet")
    a = np.load(os.path.join(work, kind + ".npy"))
    b = np.load(os.path.join(work, kind + "_rot.npy"))
    # ASE writes 8 decimals, so the rotated file differs from the exact rotation at the 1e-8 Å level.
    check(np.allclose(a, b, rtol=0, atol=1e-6 * np.abs(a).max()), f"{kind} is rotation invariant")
    if kind != "soap_radial_spectrum":
        check(np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-12), f"{kind} rows are normalised")

# optimize-basis: a DVR(20) primitive contracted to 5 functions.
primitive = spec_file("primitive", {"type": "soap_power_spectrum", "radial_basis": "dvr", **{**common, "max_radial": 20}})
optimal = os.path.join(work, "optimal.json")
basis_svg = os.path.join(work, "optimal.svg")
proc = run("optimize-basis", "--spec", primitive, "--max-radial", "5", data, "-o", optimal, "--svg", basis_svg)
checks.renders(basis_svg, "the residual-variance figure")
rows = [line.split() for line in proc.stdout.splitlines() if line.strip().startswith("Si,l=")]
check(len(rows) == 4, f"{len(rows)} residual-variance rows (one per l)")
for row in rows:
    values = [float(x) for x in row[1:]]
    check(all(x >= y for x, y in zip(values, values[1:])), f"residual variance falls with q for {row[0]}")
spec = json.load(open(optimal))
check(spec["radial_basis"] == "optimal" and spec["max_radial"] == 5, "optimal specification header")
for l, u in enumerate(spec["optimal_basis"]["contraction"][0]):
    u = np.array(u)
    check(u.shape == (5, 20) and np.allclose(u @ u.T, np.eye(5), atol=1e-10), f"contraction rows for l={l} are orthonormal")
run("describe", "--spec", optimal, one_frame, "-o", os.path.join(work, "optimal.npy"), "--quiet")
check(np.load(os.path.join(work, "optimal.npy")).shape == (len(frame), 15 * 4), "optimal power spectrum has 15 x 4 features")
run("optimize-basis", "--spec", primitive, "--max-radial", "30", data, "-o", optimal, expect=1)

checks.finish()
