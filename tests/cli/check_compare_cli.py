"""Checks `atomfp compare`, `select` and `dims` on the Stillinger-Weber Si subset: identities (a
descriptor reconstructs itself without error or distortion), the body-order ordering of Goscinski (2024)
(3-body SOAP features reconstruct 2-body ones far better than the reverse), the written CSV files
against the printed table, CUR selections that span the features, decreasing dimensionality curves,
and clear failures for bad input.

usage: check_compare_cli.py ATOMFP_EXECUTABLE DATA_DIR WORK_DIR
"""
import csv
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import Checks  # noqa: E402

exe, data_dir, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
checks = Checks(exe)
check, run = checks.check, checks.run
data = os.path.join(data_dir, "si_sw_subset.extxyz")

common = {"species": [14], "cutoff": 5.0, "atomic_gaussian_width": 0.5, "max_radial": 6, "max_angular": 4}
radial_keys = {k: v for k, v in common.items() if k != "max_angular"}
specs = {"radial": dict(radial_keys, type="soap_radial_spectrum"), "power": dict(common, type="soap_power_spectrum")}
paths = {}
for name, spec in specs.items():
    paths[name] = os.path.join(work, f"{name}.json")
    with open(paths[name], "w") as out:
        json.dump(spec, out)


def measures(prefix):
    with open(prefix + ".csv") as f:
        return {(row["from"], row["to"]): row for row in csv.DictReader(f)}


# a descriptor against itself
prefix = os.path.join(work, "self")
copy = os.path.join(work, "power_copy.json")
with open(copy, "w") as out:
    json.dump(specs["power"], out)
run("compare", "--spec", paths["power"], "--spec", copy, data, "--max-samples", "400", "-o", prefix)
rows = measures(prefix)
for row in rows.values():
    check(float(row["gfre"]) < 1e-6 and float(row["gfrd"]) < 1e-6,
          f"{row['from']} -> {row['to']}: GFRE {float(row['gfre']):.1e}, GFRD {float(row['gfrd']):.1e} (self)")

# body order: power spectrum (3-body) vs radial spectrum (2-body)
prefix = os.path.join(work, "body_order")
proc = run("compare", "--spec", paths["radial"], "--spec", paths["power"], data, "--max-samples", "600", "-o", prefix)
rows = measures(prefix)
up = float(rows["radial", "power"]["gfre"])
down = float(rows["power", "radial"]["gfre"])
check(down < 0.2 * up and up > 0.2, f"GFRE(3-body -> 2-body) {down:.4f} << GFRE(2-body -> 3-body) {up:.4f}")
for key, row in rows.items():
    printed = re.search(rf"{key[0]} -> {key[1]}\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", proc.stdout)
    check(printed is not None and abs(float(printed.group(1)) - float(row["gfre"])) < 1e-4
          and abs(float(printed.group(3)) - float(row["gfrd"])) < 1e-4, f"{key}: the CSV matches the printed table")
with open(prefix + "_pointwise.csv") as f:
    pointwise = list(csv.DictReader(f))
column = "gfre_radial_to_power"
rms = (sum(float(r[column]) ** 2 for r in pointwise) / len(pointwise)) ** 0.5
check(abs(rms - up) < 1e-4 * max(up, 1), f"pointwise GFRE averages (rms) to the GFRE: {rms:.5f} vs {up:.5f}")
checks.renders(prefix + ".svg", "the comparison figure")
check(True, "the comparison SVG parses")

# selection: CUR picks a spanning set
prefix = os.path.join(work, "select")
proc = run("select", "--spec", paths["power"], data, "--method", "cur", "--n", "40", "--max-samples", "400", "-o", prefix)
match = re.search(r"reconstruct all of them with GFRE (\S+)", proc.stdout)
check(match is not None and float(match.group(1)) < 0.05, f"40 CUR features reconstruct all ({match and match.group(1)})")
with open(prefix + "_features.txt") as f:
    lines = [line for line in f if not line.startswith("#")]
check(len(lines) == 40 and all(re.match(r"\d+ \S+", line) for line in lines), "the selection file lists 40 features")
indices = [int(line.split()[0]) for line in lines]
full_npy, subset_npy = os.path.join(work, "full.npy"), os.path.join(work, "subset.npy")
run("describe", "--spec", paths["power"], data, "-o", full_npy, "--quiet")
run("describe", "--spec", prefix + "_spec.json", data, "-o", subset_npy, "--quiet")
import numpy as np  # noqa: E402
full, subset = np.load(full_npy), np.load(subset_npy)
check(np.array_equal(subset, full[:, indices]), "the written feature_subset spec describes exactly the selected columns")
proc = run("select", "--spec", paths["power"], data, "--method", "fps", "--n", "5", "--max-samples", "400")
check("5 of" in proc.stdout, "FPS selection of 5 features")

# dimensionality curves fall with the number of features
prefix = os.path.join(work, "dims")
run("dims", "--spec", paths["power"], data, "--max-samples", "300", "--points", "6", "-o", prefix)
with open(prefix + ".csv") as f:
    curve = list(csv.DictReader(f))
cur_errors = [float(r["gfre_cur"]) for r in curve]
variance_left = [float(r["pca_variance_left"]) for r in curve]
check(cur_errors[0] > 10 * cur_errors[-1] and variance_left == sorted(variance_left, reverse=True),
      f"CUR error falls from {cur_errors[0]:.3f} to {cur_errors[-1]:.1e}; PCA variance left decreases")

# bad input
proc = run("compare", "--spec", paths["power"], data, expect=1)
check("expected 2 --spec options" in proc.stderr, "compare with one spec says what is missing")
proc = run("compare", "--spec", paths["power"], "--spec", paths["radial"], data, "--max-samples", "2", expect=2)
check("--max-samples" in proc.stderr, f"too few samples is refused: {proc.stderr.strip()}")
proc = run("compare", "--spec", paths["power"], "--spec", paths["radial"], data, "--species", "6", expect=1)
check("no environments of the chosen species" in proc.stderr, "a species absent from the data is refused")
proc = run("select", "--spec", paths["power"], data, "--method", "random", "--n", "3", expect=2)
check("--method" in proc.stderr and "random" in proc.stderr, f"an unknown selection method is refused: {proc.stderr.strip()}")
checks.finish()
