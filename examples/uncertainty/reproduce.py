#!/usr/bin/python3
"""Two signals of an untrustworthy prediction, measured where each should fire: the predictive
variance of a sparse GPR (a distance in feature space) and the fingerprint blind-spot index (the
local sensitivity of the fingerprint to the atoms), with the Python package.

1. CH4, the four-body test of Parsaeifard & Goedecker (2022) in a milder setting (SOAP n = l = 8): a model
   of the torsion energy on the carbon's SOAP vector, trained on ordinary structures, meets
   structures on a traced manifold of quasi-constant SOAP. Errors, calibrated variances and
   blind-spot indices on ordinary test structures and on the manifold.
2. Si (Stillinger-Weber data): a model trained on crystal, liquid, strained and defect cells meets
   structures far from them (compressed cells, a (111) slab, a small cluster). Variances, extrapolation
   flags and blind-spot indices against those of test structures like the training set.

usage: reproduce.py OUTPUT_DIR   (about 10 s)
Writes OUTPUT_DIR/summary.md and summary.json; exits with status 1 if a claim of README.md fails.
Environment: PYTHONPATH with the atomfp package, ATOMFP_LIBRARY.
"""
import itertools
import json
import os
import sys
import time

import ase.build
import ase.io
import numpy as np
from ase import Atoms

import atomfp

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
started = time.perf_counter()
rng = np.random.default_rng(2022)
summary, lines, claims = {}, [], []


def claim(condition, text):
    claims.append((bool(condition), text))


# ---- 1. CH4: a manifold of quasi-constant SOAP ------------------------------------------------------
def torsion_energy(positions):
    """sum over the 24 ordered triples of distinct hydrogens of cos^2(torsion H_i-C-H_j-H_k)."""
    c, h = positions[0], positions[1:]
    total = 0.0
    for i, j, k in itertools.permutations(range(4), 3):
        b1, b2, b3 = c - h[i], h[j] - c, h[k] - h[j]
        n1, n2 = np.cross(b1, b2), np.cross(b2, b3)
        total += (n1 @ n2) ** 2 / ((n1 @ n1) * (n2 @ n2))
    return total


tetrahedron = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) * 1.09 / np.sqrt(3)
start = np.vstack([np.zeros(3), tetrahedron + 0.12 * rng.standard_normal((4, 3))])


def ordinary(count):
    return [Atoms("CH4", positions=np.vstack([np.zeros(3), start[1:] + 0.05 * rng.standard_normal((4, 3))]))
            for _ in range(count)]


train, calibration, test = ordinary(1000), ordinary(100), ordinary(200)
soap = json.load(open(os.path.join(here, "specs", "soap.json")))
descriptor = atomfp.Descriptor(soap)
path = atomfp.trace_manifold(descriptor, Atoms("CH4", positions=start), 0, options=
                             {"steps": 2400, "step": 0.0004, "max_step": 0.0004, "random_samples": 0})
manifold = [Atoms("CH4", positions=p - p[0]) for p in path["positions"][::10]]

carbon = np.array([descriptor.compute(a)[0] for a in train])
squares = (carbon * carbon).sum(axis=1)
distances = np.maximum(squares[:, None] + squares[None, :] - 2 * carbon @ carbon.T, 0.0)
gamma = 0.01 / np.median(distances[np.triu_indices(len(carbon), 1)])
trainer = atomfp.Trainer({"descriptor": soap, "kernel": {"type": "squared_exponential", "gamma": gamma},
                          "use_forces": False, "learned_species": ["C"], "baselines": {"C": 0.0, "H": 0.0},
                          "sparse_per_species": len(train), "sigma_energy": 1e-4})
for a in train:
    trainer.add(a, energy=torsion_energy(a.positions))
model = trainer.train()


def carbon_signals(frames):
    """Errors, the carbon's raw variance and blind-spot index of every frame."""
    errors = np.array([model.predict(a, forces=False, virial=False)["energy"] - torsion_energy(a.positions)
                       for a in frames])
    variances = np.array([model.predict_variance(a)["variances"][0] for a in frames])
    index = np.array([atomfp.blind_spot_indices(descriptor, a)[0][0] for a in frames])
    return errors, variances, index


# The prior scale that makes held-out ordinary errors unit-variance (what `atomfp fit --cv` fits).
errors, variances, _ = carbon_signals(calibration)
scale = float(np.mean(errors ** 2 / variances))
ch4 = {}
for name, frames in (("ordinary", test), ("manifold", manifold)):
    errors, variances, index = carbon_signals(frames)
    sigma = np.sqrt(scale * variances)
    z = np.abs(errors) / sigma
    ch4[name] = {"frames": len(frames), "rmse": float(np.sqrt(np.mean(errors ** 2))),
                 "median_sigma": float(np.median(sigma)), "within_2_sigma": float(np.mean(z <= 2)),
                 "median_abs_z": float(np.median(z)), "median_blind_spot_index": float(np.median(index)),
                 "min_blind_spot_index": float(index.min())}
acsf = atomfp.Descriptor(json.load(open(os.path.join(here, "specs", "acsf.json"))))
ch4["ordinary"]["median_blind_spot_index_acsf"] = float(np.median([atomfp.blind_spot_indices(acsf, a)[0][0] for a in test]))
summary["ch4"] = ch4
summary["ch4_variance_scale"] = scale
o, m = ch4["ordinary"], ch4["manifold"]
lines += ["## CH4: a manifold of quasi-constant SOAP (Parsaeifard & Goedecker 2022)", "",
          f"Sparse GPR of the torsion energy on the carbon's SOAP vector (n_max = l_max = 8, σ = 0.3 Å, "
          f"r_c = 4 Å), {len(train)} ordinary training structures, variance scale s² = {scale:.3g} fitted on "
          f"{len(calibration)} held-out ordinary structures. The SOAP path has {len(path['positions'])} frames "
          f"(every tenth used: {len(manifold)}).", "",
          "| structures | RMSE | median σ | errors within 2σ | median \\|error\\|/σ | blind-spot index, median | min |",
          "|---|---|---|---|---|---|---|"]
for name in ("ordinary", "manifold"):
    r = ch4[name]
    lines.append(f"| {name} ({r['frames']}) | {r['rmse']:.4f} | {r['median_sigma']:.4f} | {r['within_2_sigma']:.2f} | "
                 f"{r['median_abs_z']:.2f} | {r['median_blind_spot_index']:.2e} | {r['min_blind_spot_index']:.2e} |")
lines += ["", f"With the ACSF (10 + 48 functions, r_c 4 Å) the ordinary structures' median blind-spot index is "
          f"{o['median_blind_spot_index_acsf']:.1e}.", ""]
claim(m["rmse"] >= 3 * o["rmse"], f"CH4: manifold RMSE {m['rmse']:.4f} >= 3 x ordinary {o['rmse']:.4f}")
claim(m["median_sigma"] <= 0.5 * m["rmse"] / o["rmse"] * o["median_sigma"],
      f"CH4: the variance rises less than half as much as the error on the manifold (sigma x "
      f"{m['median_sigma'] / o['median_sigma']:.1f}, RMSE x {m['rmse'] / o['rmse']:.1f})")
claim(o["within_2_sigma"] >= 0.85 and m["within_2_sigma"] <= o["within_2_sigma"] - 0.2,
      f"CH4: calibrated on ordinary structures ({o['within_2_sigma']:.2f} within 2 sigma), overconfident on the "
      f"manifold ({m['within_2_sigma']:.2f})")
ratio = m["median_blind_spot_index"] / o["median_blind_spot_index"]
claim(1 / 3 <= ratio <= 3,
      f"CH4: the blind-spot index does not separate the manifold from ordinary structures (median ratio {ratio:.2f}); "
      f"both are soft (~1e-3)")

# ---- 2. Si: structures far from the training set -----------------------------------------------------
si_spec = {"type": "soap_power_spectrum", "species": [14], "cutoff": 4.5, "cutoff_width": 0.5, "max_radial": 6,
           "max_angular": 4}
frames = ase.io.read(os.path.join(root, "tests", "data", "si_sw_subset.extxyz"), ":")
si_train, si_test = frames[:20], frames[20:]
si_trainer = atomfp.Trainer({"descriptor": si_spec, "kernel": {"type": "polynomial", "zeta": 4},
                             "sparse_per_species": 150, "sigma_energy": 0.002, "sigma_forces": 0.05})
for f in si_train:
    si_trainer.add(f, energy=f.get_potential_energy(), forces=f.get_forces())
si_model = si_trainer.train()
si_descriptor = si_model.descriptor
crystal = ase.build.bulk("Si", "diamond", 5.431, cubic=True) * (2, 2, 2)
crystal.rattle(0.05, seed=1)
far = []
for factor in (0.95, 0.90):
    squeezed = crystal.copy()
    squeezed.set_cell(crystal.cell * factor, scale_atoms=True)
    far.append((f"cell compressed to {factor:.2f}", squeezed))
slab = ase.build.diamond111("Si", (2, 2, 4), vacuum=8.0, a=5.431)
slab.rattle(0.02, seed=2)
far.append(("(111) slab, 8 Å vacuum", slab))
cluster = crystal[[i for i in range(len(crystal)) if np.linalg.norm(crystal.positions[i] - crystal.positions[0]) < 4.0]]
cluster.pbc, cluster.cell = False, [0, 0, 0]
far.append((f"{len(cluster)}-atom cluster", cluster))


def si_signals(atoms):
    variances = si_model.predict_variance(atoms)["variances"]
    outside, _ = si_model.extrapolation(atoms)
    index, soft = atomfp.blind_spot_indices(si_descriptor, atoms)
    return {"median_variance": float(np.median(variances)), "extrapolating": float(np.mean(outside > 0)),
            "median_blind_spot_index": float(np.median(index)), "median_soft_directions": float(np.median(soft))}


reference = [si_signals(f) for f in si_test]
si = {"test (like training)": {k: float(np.median([r[k] for r in reference])) for k in reference[0]}}
for name, atoms in far:
    si[name] = si_signals(atoms)
summary["si"] = si
base = si["test (like training)"]
lines += ["## Si: structures far from the training set", "",
          f"Sparse GPR of Stillinger-Weber Si (SOAP n_max = 6, l_max = 4, r_c = 4.5 Å, ζ = 4, 150 references), "
          f"trained on {len(si_train)} cells of the bundled sample; {len(si_test)} more cells of the same kinds are the test.",
          "", "| structures | median variance (eV²) | × test | atoms extrapolating | blind-spot index, median | "
          "soft directions (< 1e-6), median |", "|---|---|---|---|---|---|"]
for name, r in si.items():
    lines.append(f"| {name} | {r['median_variance']:.2e} | {r['median_variance'] / base['median_variance']:.0f} | "
                 f"{r['extrapolating']:.0%} | {r['median_blind_spot_index']:.1e} | {r['median_soft_directions']:.0f} |")
lines.append("")
for name, _ in far:
    claim(si[name]["median_variance"] >= 5 * base["median_variance"] and si[name]["extrapolating"] >= 0.5,
          f"Si: {name}: variance x {si[name]['median_variance'] / base['median_variance']:.0f} of the test's, "
          f"{si[name]['extrapolating']:.0%} of its atoms extrapolate")
claim(base["median_blind_spot_index"] < 1e-6,
      f"Si: in the condensed test cells the blind-spot index is already ~0 ({base['median_blind_spot_index']:.1e}, "
      f"{base['median_soft_directions']:.0f} soft directions): it cannot rise further far from the data")

lines += [f"Total time {time.perf_counter() - started:.0f} s.", ""]
lines += [("- [x] " if ok else "- [ ] ") + text for ok, text in claims]
open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
print("\n".join(lines))
sys.exit(0 if all(ok for ok, _ in claims) else 1)
