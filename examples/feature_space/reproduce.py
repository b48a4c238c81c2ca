#!/usr/bin/env python3
"""Feature-space comparisons of Goscinski's thesis (EPFL 2024, ch. 2), reproduced qualitatively with
`atomfp compare` and `atomfp dims` on random CH4 environments (made here) and the bundled Si data.

  1. body order: 3-body (power spectrum, nu = 2) features reconstruct 2-body (radial spectrum,
     nu = 1) features far better than the reverse, and 4-body (bispectrum) ones reconstruct 3-body
     ones better than the reverse;
  2. SOAP reconstructs ACSF better than the reverse at similar feature counts (Si, equal cutoffs),
     once SOAP has a few dozen features (a curve over feature-set sizes);
  3. CUR needs far fewer ACSF than SOAP features to reconstruct the whole set (ACSF is redundant);
  4. kernel-induced features: linear features reconstruct RBF-kernel features worse as gamma grows.

usage: reproduce.py ATOMFP_EXECUTABLE WORK_DIR [--quick]   (--quick: fewer CH4 structures; checks)
"""
import csv
import json
import os
import subprocess
import sys

import ase
import ase.io
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def random_methane(n, seed):
    """CH4 with the four H at random directions and distances 0.8-2.0 Å from the carbon."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n):
        directions = rng.normal(size=(4, 3))
        directions /= np.linalg.norm(directions, axis=1)[:, None]
        distances = rng.uniform(0.8, 2.0, size=4)
        frames.append(ase.Atoms("CH4", positions=np.vstack([[0, 0, 0], directions * distances[:, None]])))
    return frames


def compare(exe, work, a, b, data, *extra):
    prefix = os.path.join(work, f"{os.path.basename(a)[:-5]}__{os.path.basename(b)[:-5]}{'_'.join(extra[1::2])}")
    subprocess.run([exe, "compare", "--spec", a, "--spec", b, data, "-o", prefix, *extra], check=True,
                   capture_output=True, text=True)
    with open(prefix + ".csv") as f:
        rows = list(csv.DictReader(f))
    return {(r["from"], r["to"]): r for r in rows}, rows


def dims(exe, work, spec, data, *extra):
    prefix = os.path.join(work, "dims_" + os.path.basename(spec)[:-5])
    subprocess.run([exe, "dims", "--spec", spec, data, "-o", prefix, "--points", "12", *extra], check=True,
                   capture_output=True, text=True)
    with open(prefix + ".csv") as f:
        return [(int(r["n_features"]), float(r["gfre_cur"])) for r in csv.DictReader(f)]


def features_needed(curve, target):
    for n, error in curve:
        if error <= target:
            return n
    return None


def main():
    exe, work = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv
    os.makedirs(work, exist_ok=True)
    specs = os.path.join(HERE, "specs")
    spec = lambda name: os.path.join(specs, name + ".json")  # noqa: E731
    methane = os.path.join(work, "random_methane.extxyz")
    ase.io.write(methane, random_methane(400 if quick else 1000, seed=7))
    silicon = os.path.join(HERE, "..", "..", "tests", "data", "si_sw_subset.extxyz")
    carbon = ("--species", "6")
    ok, lines = True, []

    def report(text):
        lines.append(text)
        print(text, flush=True)

    def check(condition, text):
        nonlocal ok
        ok &= bool(condition)
        report(("ok      " if condition else "FAILED  ") + text)

    report("| comparison (data) | features | GFRE(A→B) | GFRE(B→A) | GFRD(A,B) | GFRD(B,A) |")
    report("|---|---|---|---|---|---|")
    results = {}
    for a, b, data, extra, label in [
        ("ch4_nu1", "ch4_nu2", methane, carbon, "ν=1 vs ν=2 (CH4)"),
        ("ch4_nu2", "ch4_nu3", methane, carbon, "ν=2 vs ν=3 (CH4)"),
        ("ch4_nu2_n3l2", "ch4_nu3", methane, carbon, "ν=2 vs ν=3, both n 3 l 2 (CH4)"),
        ("si_soap", "si_acsf", silicon, (), "SOAP vs ACSF (Si)"),
        ("ch4_soap", "ch4_acsf", methane, carbon, "SOAP vs ACSF (CH4)"),
    ]:
        table, rows = compare(exe, work, spec(a), spec(b), data, *extra)
        forward, backward = table[a, b], table[b, a]
        results[a, b] = (float(forward["gfre"]), float(backward["gfre"]))
        report(f"| {label} | {forward['n_features_from']} / {forward['n_features_to']} | {float(forward['gfre']):.4f} | "
               f"{float(backward['gfre']):.4f} | {float(forward['gfrd']):.3f} | {float(backward['gfrd']):.3f} |")
    report("")
    up, down = results["ch4_nu1", "ch4_nu2"]
    check(down < 0.2 * up, f"GFRE(ν=2→ν=1) {down:.4f} ≪ GFRE(ν=1→ν=2) {up:.4f}")
    low, high = results["ch4_nu2", "ch4_nu3"]
    check(high < low, f"GFRE(ν=3→ν=2) {high:.4f} < GFRE(ν=2→ν=3) {low:.4f}")
    low, high = results["ch4_nu2_n3l2", "ch4_nu3"]
    check(high < 0.5 * low, f"same basis (n 3, l 2): GFRE(ν=3→ν=2) {high:.4f} < half of GFRE(ν=2→ν=3) {low:.4f}")
    soap_to_acsf, acsf_to_soap = results["si_soap", "si_acsf"]
    check(soap_to_acsf < acsf_to_soap, f"Si: GFRE(SOAP→ACSF) {soap_to_acsf:.4f} < GFRE(ACSF→SOAP) {acsf_to_soap:.4f}")

    # SOAP against ACSF over feature-set sizes (thesis Fig. 2.4): SOAP (n, l) grows with an ACSF grid
    # of R centred radial functions (eta = 1/(2 r^2), r from 1 to 5 Å) and A angular ones.
    report("")
    report("| SOAP (n, l) | ACSF (radial, angular) | features SOAP / ACSF | GFRE(SOAP→ACSF) | GFRE(ACSF→SOAP) |")
    report("|---|---|---|---|---|")
    curve = []
    for (n, l), (radial, angular) in (((2, 1), (2, 4)), ((3, 2), (4, 8)), ((4, 3), (6, 16)), ((5, 4), (8, 32)),
                                      ((6, 5), (10, 48))):
        soap_path = os.path.join(work, f"si_soap_n{n}l{l}.json")
        acsf_path = os.path.join(work, f"si_acsf_r{radial}a{angular}.json")
        with open(soap_path, "w") as f:
            json.dump({"type": "soap_power_spectrum", "species": [14], "cutoff": 5.0, "atomic_gaussian_width": 0.5,
                       "max_radial": n, "max_angular": l}, f)
        angular_grid = [{"eta": eta, "zeta": zeta, "lambda": sign} for zeta in (1, 2, 4, 16) for sign in (-1, 1)
                        for eta in (0.005, 0.02, 0.05, 0.1, 0.2, 0.4)]
        with open(acsf_path, "w") as f:
            json.dump({"type": "acsf", "species": [14], "cutoff": 5.0,
                       "radial": [{"eta": 1 / (2 * r * r)} for r in np.linspace(1.0, 5.0, radial)],
                       "angular": angular_grid[:angular]}, f)
        table, _ = compare(exe, work, soap_path, acsf_path, silicon)
        a, b = os.path.basename(soap_path)[:-5], os.path.basename(acsf_path)[:-5]
        forward, backward = float(table[a, b]["gfre"]), float(table[b, a]["gfre"])
        curve.append((forward, backward))
        report(f"| ({n}, {l}) | ({radial}, {angular}) | {table[a, b]['n_features_from']} / {table[a, b]['n_features_to']} | "
               f"{forward:.4f} | {backward:.4f} |")
    report("")
    check(curve[0][0] > curve[0][1] and all(f < b for f, b in curve[-2:]),
          "SOAP reconstructs ACSF better than the reverse once it has a few dozen features; with 6 it does not")
    check(all(curve[k + 1][0] < curve[k][0] for k in range(len(curve) - 1)),
          "GFRE(SOAP→ACSF) falls as both sets grow")

    acsf_curve = dims(exe, work, spec("ch4_acsf"), methane, *carbon)
    soap_curve = dims(exe, work, spec("ch4_soap"), methane, *carbon)
    report("")
    report("| CUR-selected features (CH4 carbon) | ACSF GFRE | SOAP GFRE |")
    report("|---|---|---|")
    soap_by_n = dict(soap_curve)
    for n, error in acsf_curve:
        nearest = min(soap_by_n, key=lambda m: abs(m - n))
        report(f"| {n} (SOAP {nearest}) | {error:.2e} | {soap_by_n[nearest]:.2e} |")
    n_acsf, n_soap = features_needed(acsf_curve, 1e-2), features_needed(soap_curve, 1e-2)
    report("")
    check(n_acsf is not None and n_soap is not None and n_acsf * 1.5 <= n_soap,
          f"GFRE ≤ 0.01 needs {n_acsf} CUR-selected ACSF features but {n_soap} SOAP features")

    report("")
    report("| kernel (CH4, ν=1 features) | kernel features | GFRE(linear→RBF) | GFRE(RBF→linear) |")
    report("|---|---|---|---|")
    kernel_errors = []
    for gamma in ("0.01", "1", "10"):
        table, rows = compare(exe, work, spec("ch4_nu1"), spec("ch4_nu1"), methane, *carbon, "--kernel", "rbf",
                              "--gamma", gamma)
        forward = rows[0]
        kernel_errors.append(float(forward["gfre"]))
        report(f"| RBF γ = {gamma} | {forward['n_features_to']} | {float(forward['gfre']):.4f} | "
               f"{float(rows[1]['gfre']):.4f} |")
    check(kernel_errors[0] < kernel_errors[1] < kernel_errors[2],
          "linear features reconstruct RBF-kernel features worse as γ grows")
    with open(os.path.join(work, "summary.md"), "w") as out:
        out.write("\n".join(lines) + "\n")
    print(f"{'all checks passed' if ok else 'some checks FAILED'}; summary in {work}/summary.md")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
