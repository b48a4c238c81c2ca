"""Checks `atomfp describe` end to end against an independent NumPy implementation of the
default ACSF set (10 radial + 48 angular), using ASE to read the file and to find neighbours.

usage: check_describe.py ATOMFP_EXECUTABLE DATA_DIR WORK_DIR
"""
import json
import os
import sys

import numpy as np
from ase.io import read
from ase.neighborlist import neighbor_list

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import Checks  # noqa: E402

exe, data_dir, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
RC = 6.0
checks = Checks(exe)
check, run = checks.check, checks.run


def imbalzano_centred(count, rc):
    n = count - 1
    return np.array([(n ** (m / n) / rc) ** 2 for m in range(count)])


RADIAL_ETA = imbalzano_centred(10, RC)
ANGULAR = [(eta, zeta, lam) for eta in imbalzano_centred(6, RC) for zeta in (1, 2, 4, 16) for lam in (-1, 1)]


def fc(r):
    return np.where(r < RC, 0.5 * (np.cos(np.pi * r / RC) + 1.0), 0.0)


def acsf(atoms):
    i, D = neighbor_list("iD", atoms, RC)
    out = np.zeros((len(atoms), 58))
    for c in range(len(atoms)):
        d = D[i == c]
        r = np.linalg.norm(d, axis=1)
        out[c, :10] = (np.exp(-np.outer(RADIAL_ETA, r ** 2)) * fc(r)).sum(axis=1)
        cos = (d @ d.T) / np.outer(r, r)
        upper = np.triu(np.ones_like(cos, dtype=bool), k=1)
        cut = np.outer(fc(r), fc(r))
        r2 = r[:, None] ** 2 + r[None, :] ** 2
        for f, (eta, zeta, lam) in enumerate(ANGULAR):
            base = np.clip(1.0 + lam * cos, 0.0, None)
            term = 2.0 ** (1 - zeta) * base ** zeta * np.exp(-eta * r2) * cut
            out[c, 10 + f] = term[upper].sum()
    return out


spec = os.path.join(work, "spec.json")
with open(spec, "w") as handle:
    json.dump({"type": "acsf", "species": [14], "cutoff": RC}, handle)
sample = os.path.join(data_dir, "si_sw_sample.extxyz")
frames = read(sample, ":")

features_path = os.path.join(work, "features.npy")
gradients_path = os.path.join(work, "gradients.npy")
proc = run("describe", "--spec", spec, sample, "-o", features_path, "--gradients", gradients_path)
check("58 features" in proc.stdout, "the summary names the feature count")
features = np.load(features_path)
check(features.shape == (sum(len(a) for a in frames), 58), f"features shape {features.shape}")
expected = np.vstack([acsf(a) for a in frames])
error = np.max(np.abs(features - expected) / np.maximum(np.abs(expected), 1e-8))
check(error < 1e-10, f"features match the NumPy reference (max relative error {error:.2e})")

# Gradient blocks, in the documented order, summed per atom, against central differences of the
# NumPy reference for the first frame.
gradients = np.load(gradients_path)
atoms = frames[0]
i, j, S = neighbor_list("ijS", atoms, RC)
n_blocks_expected = sum(len(a) + len(neighbor_list("i", a, RC)) for a in frames)
check(gradients.shape == (n_blocks_expected, 3, 58), f"gradients shape {gradients.shape}")
n = len(atoms)
per_atom = np.zeros((n, n, 3, 58))
block = 0
for c in range(n):
    mask = i == c
    order = np.lexsort((S[mask][:, 2], S[mask][:, 1], S[mask][:, 0], j[mask]))
    per_atom[c, c] += gradients[block]
    block += 1
    for neighbour in j[mask][order]:
        per_atom[c, neighbour] += gradients[block]
        block += 1
h = 1e-5
worst = 0.0
for atom in (0, 17):
    for k in range(3):
        plus, minus = atoms.copy(), atoms.copy()
        plus.positions[atom, k] += h
        minus.positions[atom, k] -= h
        fd = (acsf(plus) - acsf(minus)) / (2 * h)
        analytic = per_atom[:, atom, k, :]
        worst = max(worst, np.max(np.abs(fd - analytic)) / np.max(np.abs(analytic)))
check(worst < 1e-6, f"gradient blocks match central differences (max error {worst:.2e} of the largest)")

# CSV output and a subset of centres.
csv_path = os.path.join(work, "features.csv")
run("describe", "--spec", spec, sample, "-o", csv_path, "--format", "csv", "--quiet")
csv = np.loadtxt(csv_path, delimiter=",", skiprows=1)
check(np.array_equal(csv, features), "CSV output equals the .npy output")
subset_path = os.path.join(work, "subset.npy")
run("describe", "--spec", spec, sample, "-o", subset_path, "--centers", "0,5-6", "--quiet")
subset = np.load(subset_path)
offsets = np.cumsum([0] + [len(a) for a in frames])
rows = [o + c for o in offsets[:-1] for c in (0, 5, 6)]
check(np.array_equal(subset, features[rows]), "--centers selects the same rows in every frame")

# Errors: a malformed file names the line; a bad spec names the key; help works.
bad = os.path.join(work, "bad.extxyz")
with open(bad, "w") as handle:
    handle.write("2\nProperties=species:S:1:pos:R:3\nSi 0 0 0\nSi 1.0 x 0\n")
proc = run("describe", "--spec", spec, bad, "-o", os.path.join(work, "x.npy"), expect=1)
check("bad.extxyz:4" in proc.stderr and "'x' is not a number" in proc.stderr, "malformed extxyz names line 4")
with open(os.path.join(work, "bad.json"), "w") as handle:
    handle.write('{"type": "acsf", "species": [14], "cutof": 5}')
proc = run("describe", "--spec", os.path.join(work, "bad.json"), sample, "-o", os.path.join(work, "x.npy"), expect=1)
check("unknown key 'cutof'" in proc.stderr, "a bad spec names the key")
proc = run("describe", "--spec", spec, os.path.join(data_dir, "missing.extxyz"), "-o", "x.npy", expect=1)
check("cannot open" in proc.stderr, "a missing file is reported")
proc = run("describe", "--help")
check("--gradients" in proc.stdout, "describe --help documents the options")
proc = run("describe", "--spec", spec, sample, "-o", "x.npy", "--bogus", expect=2)
check("--bogus" in proc.stderr, f"an unknown option is named: {proc.stderr.strip()}")
# --list-types: every type with its canonical parameters, which describe itself accepts as a spec.
proc = run("describe", "--list-types")
lines = proc.stdout.splitlines()
listed = [line.split(":")[0] for line in lines[0::2]]
check(len(listed) == 8 and "soap_power_spectrum" in listed and "feature_subset" in listed, f"--list-types lists {listed}")
for name, parameters in zip(listed, lines[1::2]):
    check(json.loads(parameters)["type"] == name, f"--list-types gives {name}'s parameters")
with open(os.path.join(work, "listed.json"), "w") as handle:
    handle.write(lines[1])
run("describe", "--spec", os.path.join(work, "listed.json"), sample, "-o", os.path.join(work, "listed.npy"), "--quiet")
# A directory given as input, an empty file and an absurd --centers range are errors, not empty
# outputs or memory exhaustion.
proc = run("describe", "--spec", spec, work, "-o", os.path.join(work, "x.npy"), expect=1)
check("is a directory" in proc.stderr, f"a directory as input is refused: {proc.stderr.strip()}")
empty = os.path.join(work, "empty.extxyz")
open(empty, "w").close()
proc = run("describe", "--spec", spec, empty, "-o", os.path.join(work, "x.npy"), expect=1)
check("holds no structures" in proc.stderr, f"an empty input is refused: {proc.stderr.strip()}")
proc = run("describe", "--spec", spec, sample, "-o", os.path.join(work, "x.npy"), "--centers", "0-9223372036854775806",
           expect=1)
check("more than 100000000 atoms" in proc.stderr, f"an absurd --centers range is refused: {proc.stderr.strip()}")

checks.finish()
