#!/usr/bin/python3
"""The four-body learning test of Parsaeifard & Goedecker (J. Chem. Phys. 156, 034302, 2022, Fig. 3)
and of their response to a comment (kernel ridge regression with a full (gamma, lambda) scan,
manifold structures added to training, Figs 3 and 4), in the papers' settings.

Data: a near-equilibrium CH4 starts the manifolds of quasi-constant SOAP (n_max = l_max = 16,
sigma = 0.3 A, r_c = 4.8 A) and ACSF (10 radial + 48 angular functions, r_c = 4.8 A) fingerprint of
the carbon; ordinary structures displace the hydrogens of the equilibrium tetrahedron at random and
surround the manifolds. Target: E = sum over the 24 ordered triples (i, j, k) of distinct hydrogens
of cos^2 of the torsion angle H_i-C-H_j-H_k. Learner: kernel ridge regression with a Gaussian
kernel on the carbon's fingerprint alone, gamma and lambda chosen by 3-fold cross-validation on a
full grid. Fingerprints: SOAP, ACSF, the s+p overlap-matrix fingerprint with the default and with
1.5x wider orbitals, the SOAP bispectrum, and the ten labelled interatomic distances as a complete
(but not permutation-invariant) control.

usage: reproduce.py ATOMFP_EXECUTABLE OUTPUT_DIR [--quick]
Writes OUTPUT_DIR/summary.md (the tables of README.md) and exits with status 1 if a finding of the
papers is not reproduced (the checks are listed at the end of the summary). --quick (the test
suite's run) trains on ordinary structures only; the full run adds manifold structures (response,
Fig. 3) and the non-transfer test between two SOAP manifolds (response, Fig. 4).
"""
import functools
import itertools
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
exe, out = sys.argv[1], sys.argv[2]
quick = "--quick" in sys.argv[3:]
os.makedirs(out, exist_ok=True)
started = time.perf_counter()

N_TRAIN, N_TEST = 2000, 300     # ordinary structures
RATTLE = 0.05                   # Å, Gaussian displacement of each hydrogen coordinate (ordinary set)
START_DISTORTION = {"A": 0.03, "B": 0.08}   # Å, per coordinate, of the manifolds' start structures
TRACE = {"steps": 8000, "step": 0.0002, "max_step": 0.0002, "random_samples": 8}
ADDED = (16, 160, 800)          # manifold structures added to training (full run)
GAMMAS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)   # in units of 1 / median squared distance
LAMBDAS = (1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4)
FOLDS = 3
NARROW_GAMMA = 0.3
# label -> spec file (None: the ten labelled distances, computed here)
FINGERPRINTS = {"SOAP": "soap", "ACSF": "acsf", "OMFP s+p": "omfp_sp", "OMFP s+p, orbitals ×1.5": "omfp_sp_wide",
                "bispectrum": "bispectrum", "SOAP (8, 8, 0.2)": "soap_n8_l8_sigma02", "distances (control)": None}
# Manifolds: name -> (traced fingerprint, start). SOAP (8, 8, 0.2) is the milder parameter set of the
# comment by Pozdnyakov et al. (2022) to which the response replies; the full run adds a second SOAP
# manifold from another start (response, Fig. 4).
MANIFOLDS = {"SOAP-A": ("SOAP", "A"), "ACSF-A": ("ACSF", "A"), "SOAP(8,8,0.2)-A": ("SOAP (8, 8, 0.2)", "A")}
if not quick:
    MANIFOLDS["SOAP-B"] = ("SOAP", "B")


def atomfp(*args):
    proc = subprocess.run([exe, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"atomfp {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def spec_path(name):
    return os.path.join(here, "specs", name + ".json")


def torsion_energy(positions):
    """Sum over ordered triples (i, j, k) of distinct hydrogens of cos^2(torsion H_i-C-H_j-H_k)."""
    c, h = positions[0], positions[1:]
    total = 0.0
    for i, j, k in itertools.permutations(range(len(h)), 3):
        b1, b2, b3 = c - h[i], h[j] - c, h[k] - h[j]
        n1, n2 = np.cross(b1, b2), np.cross(b2, b3)
        total += (n1 @ n2) ** 2 / ((n1 @ n1) * (n2 @ n2))
    return total


def labelled_distances(positions):
    return np.array([np.linalg.norm(positions[a] - positions[b]) for a, b in itertools.combinations(range(5), 2)])


def write_xyz(path, structures):
    with open(path, "w") as f:
        for p in structures:
            f.write(f'5\nProperties=species:S:1:pos:R:3 energy={torsion_energy(p):.12f} pbc="F F F"\n')
            for symbol, x in zip("CHHHH", p):
                f.write(f"{symbol} {x[0]:.10f} {x[1]:.10f} {x[2]:.10f}\n")


def read_xyz(path, key="energy"):
    """Positions and the comment line's value of `key` of every frame."""
    frames, values, lines = [], [], open(path).read().split("\n")
    k = 0
    while k < len(lines) and lines[k].strip():
        n = int(lines[k])
        found = re.search(rf'(?:^|\s){key}="?([^"\s]+)', lines[k + 1])
        values.append(float(found.group(1)) if found else np.nan)
        frames.append(np.array([[float(v) for v in line.split()[1:4]] for line in lines[k + 2:k + 2 + n]]))
        k += n + 2
    return frames, np.array(values)


def squared_distances(a, b):
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0)


# ---- data ------------------------------------------------------------------------------------------
rng = np.random.default_rng(2022)
tetrahedron = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) * 1.09 / np.sqrt(3)
starts = {name: np.vstack([np.zeros(3), tetrahedron + amplitude * rng.standard_normal((4, 3))])
          for name, amplitude in START_DISTORTION.items()}


def ordinary(count):
    return [np.vstack([np.zeros(3), tetrahedron + RATTLE * rng.standard_normal((4, 3))]) for _ in range(count)]


structures = {"train": ordinary(N_TRAIN), "test": ordinary(N_TEST)}
variation = {}
for name, (traced, start) in MANIFOLDS.items():
    start_file = os.path.join(out, f"start_{start}.extxyz")
    write_xyz(start_file, [starts[start]])
    prefix = os.path.join(out, f"manifold_{name}")
    report = atomfp("manifold", "--spec", spec_path(FINGERPRINTS[traced]), "--centre", "0", start_file, "-o", prefix,
                    "--options", json.dumps(TRACE))
    # "<spec> (traced)  |F - F_0| on the path  |F - F_0| of random moves of the same D  their ratio"
    variation[name] = [float(v) for v in re.search(r"\(traced\)\s+(\S+)\s+(\S+)\s+(\S+)", report).groups()]
    frames, _ = read_xyz(prefix + ".extxyz")
    structures[name] = [f - f[0] for f in frames]  # the carbon back at the origin (frames are superposed)
energies = {}
for name, frames in structures.items():
    write_xyz(os.path.join(out, f"{name}.extxyz"), frames)
    energies[name] = np.array([torsion_energy(p) for p in frames])

features = {}
for label, spec in FINGERPRINTS.items():
    for name, frames in structures.items():
        if spec is None:
            features[label, name] = np.array([labelled_distances(p) for p in frames])
        else:
            path = os.path.join(out, f"features_{spec}_{name}.npy")
            atomfp("describe", "--spec", spec_path(spec), "--centres", "0", os.path.join(out, f"{name}.extxyz"),
                   "-o", path, "--quiet")
            features[label, name] = np.load(path)


# ---- kernel ridge regression -----------------------------------------------------------------------
class KernelRidge:
    """Gaussian-kernel ridge regression, (K + lambda I) alpha = y - mean(y), with (gamma, lambda) chosen
    by k-fold cross-validation (fold of row i: i mod k) on the full grid. gamma is in units of
    1 / the median squared distance of the training fingerprints. Ties (cross-validated RMSE within a
    relative 1e-6) go to the larger lambda, then the smaller gamma: the smoother model."""

    def __init__(self, x, y, gamma=None, lam=None):
        """Scans the grid unless gamma and lam are given."""
        self.x, self.y = x, y
        d2 = squared_distances(x, x)
        self.scale = 1.0 / np.median(d2[np.triu_indices(len(x), 1)])
        self.gamma, self.lam, self.cv_rmse = gamma, lam, None
        if gamma is None or lam is None:
            self.scan(d2)
        self.mean = y.mean()
        self.alpha = np.linalg.solve(np.exp(-self.gamma * self.scale * d2) + self.lam * np.eye(len(x)), y - self.mean)

    def scan(self, d2):
        x, y = self.x, self.y
        fold = np.arange(len(x)) % FOLDS
        scores = []
        for gamma in GAMMAS:
            k = np.exp(-gamma * self.scale * d2)
            for lam in LAMBDAS:
                residuals = []
                for f in range(FOLDS):
                    fit, held = fold != f, fold == f
                    mean = y[fit].mean()
                    alpha = np.linalg.solve(k[np.ix_(fit, fit)] + lam * np.eye(fit.sum()), y[fit] - mean)
                    residuals.append(k[np.ix_(held, fit)] @ alpha + mean - y[held])
                scores.append((float(np.sqrt(np.mean(np.concatenate(residuals) ** 2))), gamma, lam))
        best = min(score for score, _, _ in scores)
        ties = [(-lam, gamma) for score, gamma, lam in scores if score <= best * (1 + 1e-6)]
        self.lam, self.gamma = -min(ties)[0], min(ties)[1]
        self.cv_rmse = best

    def predict(self, x):
        return np.exp(-self.gamma * self.scale * squared_distances(x, self.x)) @ self.alpha + self.mean


def path_measures(predicted, true):
    return {"rmse": float(np.sqrt(np.mean((predicted - true) ** 2))),
            "pearson": float(np.corrcoef(predicted, true)[0, 1]),
            "amplitude": float(predicted.std() / true.std())}


def learn(label, added, gamma=None, lam=None):
    """Fit on the ordinary training set plus `added` (manifold name -> frame indices), with (gamma, lam)
    scanned unless given; measure."""
    x = np.vstack([features[label, "train"]] + [features[label, m][i] for m, i in added.items()])
    y = np.concatenate([energies["train"]] + [energies[m][i] for m, i in added.items()])
    model = KernelRidge(x, y, gamma, lam)
    result = {"model": model, "ordinary": path_measures(model.predict(features[label, "test"]), energies["test"])}
    for m in MANIFOLDS:
        keep = held_out[m]
        result[m] = path_measures(model.predict(features[label, m][keep]), energies[m][keep])
    return result


# Manifold structures added to training are evenly spaced along the path; the rest (the complement of
# the largest such set) are the manifold's test frames, in every row alike.
def evenly_spaced(name, count):
    n = len(structures[name])
    return np.unique(np.linspace(0, n - 1, min(count, n // 2)).round().astype(int))


held_out = {m: np.setdiff1d(np.arange(len(structures[m])), [] if quick else evenly_spaced(m, max(ADDED)))
            for m in MANIFOLDS}
ordinary_rows = {label: learn(label, {}) for label in FINGERPRINTS}


# ---- independent routes -----------------------------------------------------------------------------
# atomfp's own kernel ridge regression (atomfp fit, "method": "krr"; it adds sigma_E^2 times the atom
# count to the diagonal) predicts what this script's does, at the chosen gamma and a lambda of 1e-6
# (at the scan's lambda of 1e-10 both solve a system of condition ~1e10 and agree only to rounding).
def atomfp_krr_check(label, spec):
    chosen = ordinary_rows[label]["model"]
    model = KernelRidge(features[label, "train"], energies["train"], chosen.gamma, 1e-6)
    config = {"descriptor": json.load(open(spec_path(spec))), "method": "krr", "use_forces": False,
              "kernel": {"type": "squared_exponential", "gamma": model.gamma * model.scale},
              "sigma_energy": float(np.sqrt(model.lam / 5.0)), "learned_species": ["C"],
              "baselines": {"C": float(model.mean), "H": 0.0}}
    config_path, model_path = os.path.join(out, f"krr_{spec}.json"), os.path.join(out, f"krr_{spec}.afp")
    json.dump(config, open(config_path, "w"))
    atomfp("fit", "--config", config_path, os.path.join(out, "train.extxyz"), "-o", model_path, "--quiet")
    name = "ACSF-A"
    predicted_path = os.path.join(out, f"krr_{spec}_{name}.extxyz")
    atomfp("predict", "--model", model_path, os.path.join(out, f"{name}.extxyz"), "-o", predicted_path, "--quiet")
    _, predicted = read_xyz(predicted_path, "atomfp_energy")
    mine = model.predict(features[label, name])
    return float(np.max(np.abs(predicted - mine)) / energies[name].std())


krr_agreement = atomfp_krr_check("ACSF", "acsf")


def nearest_training(name):
    """Distance (Å, in the space of the ten labelled interatomic distances) of each frame to the
    nearest ordinary training structure."""
    return np.sqrt(squared_distances(features["distances (control)", name],
                                     features["distances (control)", "train"])).min(axis=1)


@functools.lru_cache(maxsize=None)
def training_spacing(label):
    """Median distance of an ordinary training structure to its nearest neighbour in the training set
    (fingerprint space)."""
    x = features[label, "train"]
    d2 = squared_distances(x, x)
    np.fill_diagonal(d2, np.inf)
    return float(np.median(np.sqrt(d2.min(axis=1))))


def fingerprint_extent(label, name):
    """Largest fingerprint distance from the path's first frame, in units of training_spacing(label)."""
    path = features[label, name]
    return float(np.sqrt(squared_distances(path, path[:1])).max() / training_spacing(label))


# ---- the full run: manifold structures added (response Fig. 3), non-transfer (response Fig. 4), and
# the papers' learner, a neural network (Parsaeifard & Goedecker 2022, Fig. 3) ------------------------
sys.path.insert(0, here)
import mlp  # noqa: E402

network_gradient_error = mlp.gradient_check()
added_rows, transfer_rows, network_rows = {}, {}, {}
if not quick:
    for label, traced_name in (("SOAP", "SOAP-A"), ("ACSF", "ACSF-A")):
        for count in ADDED:
            added_rows[label, count] = learn(label, {traced_name: evenly_spaced(traced_name, count)})
        # The same data with a kernel 100 times narrower than cross-validation picks (not a scan choice):
        # does the fingerprint resolve the manifold at all once the kernel can?
        added_rows[label, f"{ADDED[-1]}, γ · median d² = {NARROW_GAMMA}"] = learn(
            label, {traced_name: evenly_spaced(traced_name, ADDED[-1])}, NARROW_GAMMA, LAMBDAS[0])
    for added in (("SOAP-A",), ("SOAP-B",), ("SOAP-A", "SOAP-B")):
        transfer_rows[added] = learn("SOAP", {m: evenly_spaced(m, ADDED[1]) for m in added})
    for label in FINGERPRINTS:
        network = mlp.Regressor(features[label, "train"], energies["train"])
        network_rows[label] = {"model": network,
                               "ordinary": path_measures(network.predict(features[label, "test"]), energies["test"])}
        for m in MANIFOLDS:
            network_rows[label][m] = path_measures(network.predict(features[label, m][held_out[m]]), energies[m][held_out[m]])

# ---- summary ---------------------------------------------------------------------------------------
names = list(MANIFOLDS)


def measured(row, m):
    return f"{row[m]['rmse']:.4f} | {row[m]['pearson']:.2f} | {row[m]['amplitude']:.2f}"


lines = ["## Four-body learning in the papers' settings (Parsaeifard & Goedecker 2022, Fig. 3; response, Figs 3, 4)", ""]
lines.append(f"{N_TRAIN} ordinary training and {N_TEST} test structures (hydrogens of the tetrahedron displaced by "
             f"{RATTLE} Å per coordinate); target std on the ordinary test set {energies['test'].std():.4f}.")
lines.append("")
lines.append("| path | traced with | frames | target std | target range | nearest training structure (Å), median / max | "
             "traced fingerprint change: on the path / random moves of the same D / ratio |")
lines.append("|---|---|---|---|---|---|---|")
for m in ["test"] + names:
    near = nearest_training(m)
    traced = f"{MANIFOLDS[m][0]} from start {MANIFOLDS[m][1]}" if m in MANIFOLDS else "ordinary test set"
    lines.append(f"| {m} | {traced} | {len(structures[m])} | {energies[m].std():.4f} | {np.ptp(energies[m]):.4f} | "
                 f"{np.median(near):.3f} / {near.max():.3f} | "
                 + (" / ".join(f"{v:.2g}" for v in variation[m]) if m in variation else "–") + " |")
lines.append("")
lines.append("Kernel ridge regression trained on ordinary structures only. Per path: RMSE, Pearson r and amplitude "
             "std(pred)/std(true) on its held-out frames; extent: the path's largest fingerprint change in units of "
             "the ordinary set's median nearest-neighbour spacing (in the same fingerprint).")
lines.append("")
lines.append("| fingerprint | γ · median d² | λ | RMSE ordinary | path | RMSE | r | amplitude | extent |")
lines.append("|---|---|---|---|---|---|---|---|---|")
for label in FINGERPRINTS:
    row = ordinary_rows[label]
    for k, m in enumerate(names):
        lead = (f"| {label} | {row['model'].gamma:g} | {row['model'].lam:.0e} | {row['ordinary']['rmse']:.4f} |" if k == 0
                else "| | | | |")
        lines.append(f"{lead} {m} | {measured(row, m)} | {fingerprint_extent(label, m):.2g} |")
lines.append("")
if added_rows:
    lines.append("Manifold structures of the fingerprint's own path added to training (response, Fig. 3):")
    lines.append("")
    lines.append("| fingerprint | added | γ · median d² | λ | RMSE ordinary | own path: RMSE | r | amplitude | other path: RMSE | r |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for (label, count), row in [((label, 0), ordinary_rows[label]) for label in ("SOAP", "ACSF")] + list(added_rows.items()):
        own, other = ("SOAP-A", "ACSF-A") if label == "SOAP" else ("ACSF-A", "SOAP-A")
        lines.append(f"| {label} | {count} | {row['model'].gamma:g} | {row['model'].lam:.0e} | {row['ordinary']['rmse']:.4f} | "
                     f"{measured(row, own)} | {row[other]['rmse']:.4f} | {row[other]['pearson']:.2f} |")
    lines.append("")
    lines.append(f"Two SOAP manifolds from different starts, {ADDED[1]} structures of one or both added (response, Fig. 4):")
    lines.append("")
    lines.append("| added | SOAP-A: RMSE | r | amplitude | SOAP-B: RMSE | r | amplitude |")
    lines.append("|---|---|---|---|---|---|---|")
    for added, row in [((), ordinary_rows["SOAP"])] + list(transfer_rows.items()):
        lines.append(f"| {' + '.join(added) or 'none'} | {measured(row, 'SOAP-A')} | {measured(row, 'SOAP-B')} |")
    lines.append("")
    lines.append("The neural network of Parsaeifard & Goedecker (2022) (tanh layers 64-128-64, Adam, early stopping; "
                 "`mlp.py`), trained on ordinary structures only:")
    lines.append("")
    lines.append("| fingerprint | epochs | RMSE ordinary | path | RMSE | r | amplitude |")
    lines.append("|---|---|---|---|---|---|---|")
    for label, row in network_rows.items():
        for k, m in enumerate(names):
            lead = f"| {label} | {row['model'].epochs} | {row['ordinary']['rmse']:.4f} |" if k == 0 else "| | | |"
            lines.append(f"{lead} {m} | {measured(row, m)} |")
    lines.append("")

checks = []


def check(ok, text):
    checks.append(ok)
    lines.append(f"- [{'x' if ok else ' '}] {text}")


r = ordinary_rows
check(krr_agreement < 1e-5, f"atomfp fit/predict (\"method\": \"krr\") predicts what this script's ridge regression "
      f"predicts (ACSF, chosen γ, λ = 1e-6: largest difference {krr_agreement:.1e} of the path's std)")
check(all(np.median(nearest_training(m)) < 1.5 * np.median(nearest_training("test")) for m in names if m.endswith("-A")),
      "the frames of the manifolds from start A are about as close to the ordinary training set as ordinary test frames "
      "(no extrapolation)")
check(all(r["distances (control)"][m]["pearson"] >= 0.99 for m in names),
      "the complete control (labelled distances) learns every path (r ≥ 0.99): the target is learnable from these data")
for label in ("bispectrum", "OMFP s+p, orbitals ×1.5"):
    check(all(r[label][m]["pearson"] >= 0.9 for m in names), f"{label} learns every path (r ≥ 0.9)")
check(r["ACSF"]["ACSF-A"]["pearson"] < 0.5 and r["ACSF"]["ACSF-A"]["amplitude"] < 0.5,
      f"ACSF fails on its manifold (r {r['ACSF']['ACSF-A']['pearson']:.2f} < 0.5, amplitude "
      f"{r['ACSF']['ACSF-A']['amplitude']:.2f} < 0.5)")
check(r["SOAP"]["ACSF-A"]["pearson"] < 0.5, f"SOAP fails on the ACSF manifold (r {r['SOAP']['ACSF-A']['pearson']:.2f} < 0.5)")
check(r["SOAP"]["SOAP-A"]["amplitude"] < 0.85,
      f"SOAP damps the target along its own manifold (amplitude {r['SOAP']['SOAP-A']['amplitude']:.2f} < 0.85)")
mild = r["SOAP (8, 8, 0.2)"]["SOAP(8,8,0.2)-A"]
check(mild["pearson"] >= 0.95 and mild["amplitude"] > r["SOAP"]["SOAP-A"]["amplitude"],
      f"the milder manifold of SOAP (8, 8, 0.2) is learned from ordinary structures (r {mild['pearson']:.2f}, amplitude "
      f"{mild['amplitude']:.2f}), the tight one of SOAP (16, 16, 0.3) is damped")
if added_rows:
    narrow = added_rows["ACSF", f"{ADDED[-1]}, γ · median d² = {NARROW_GAMMA}"]
    scanned = added_rows["ACSF", ADDED[-1]]
    check(scanned["ACSF-A"]["pearson"] < 0.5 and narrow["ACSF-A"]["pearson"] >= 0.9,
          f"with {ADDED[-1]} of its frames in training ACSF still fails on its manifold with the cross-validated kernel "
          f"(r {scanned['ACSF-A']['pearson']:.2f}) but learns it with a {NARROW_GAMMA / scanned['model'].gamma:.0f}× narrower "
          f"one (r {narrow['ACSF-A']['pearson']:.2f}; ordinary RMSE {scanned['ordinary']['rmse']:.4f} → "
          f"{narrow['ordinary']['rmse']:.4f})")
    transfer = transfer_rows["SOAP-A",]["SOAP-B"]["rmse"], ordinary_rows["SOAP"]["SOAP-B"]["rmse"]
    check(transfer[0] > 0.9 * transfer[1], f"SOAP frames of manifold A in training do not help on manifold B (RMSE "
          f"{transfer[1]:.4f} → {transfer[0]:.4f})")
check(network_gradient_error < 1e-5, f"the network's back-propagated gradient matches central finite differences "
      f"(largest relative difference {network_gradient_error:.1e})")
lines.append(f"\nTotal time {time.perf_counter() - started:.0f} s.")
open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(0 if all(checks) else 1)
