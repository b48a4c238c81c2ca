"""Checks `atomfp fit` and `atomfp predict` on a Stillinger-Weber Si subset: the printed errors
equal NumPy's errors of the written predictions, forces are minus the finite-difference derivative
of the predicted energy (through `predict` on displaced copies), the fit beats the baseline-only
model, the parity SVG parses, and bad configurations and damaged model files fail cleanly.

usage: check_models_cli.py ATOMFP_EXECUTABLE DATA_DIR WORK_DIR
"""
import collections
import hashlib
import json
import os
import re
import sys
import warnings

import numpy as np
from ase import Atoms
from ase.io import read, write

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import Checks  # noqa: E402

warnings.filterwarnings("ignore", message=".*overwriting array.*")  # ASE re-writing read forces
exe, data_dir, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
checks = Checks(exe)
check, run = checks.check, checks.run

frames = read(os.path.join(data_dir, "si_sw_subset.extxyz"), ":")
train_path, test_path = os.path.join(work, "train.extxyz"), os.path.join(work, "test.extxyz")
write(train_path, frames[:17], format="extxyz")
write(test_path, frames[17:], format="extxyz")
config = {"descriptor": {"type": "soap_power_spectrum", "species": [14], "cutoff": 4.5, "atomic_gaussian_width": 0.4,
                         "max_radial": 4, "max_angular": 3},
          "kernel": {"type": "polynomial", "zeta": 4}, "sparse_per_species": 150, "sigma_energy": 0.002,
          "sigma_forces": 0.05}
config_path = os.path.join(work, "fit.json")
with open(config_path, "w") as f:
    json.dump(config, f)
with open(os.path.join(work, "spec.json"), "w") as f:
    json.dump(config["descriptor"], f)
model = os.path.join(work, "model.afp")
cv_svg = os.path.join(work, "cv.svg")
proc = run("fit", "--config", config_path, train_path, "-o", model, "--cv", "2", "--svg", cv_svg)
proc_fit_stdout = proc.stdout
checks.renders(cv_svg, "the cross-validation figure")
check("2-fold CV" in proc.stdout and "training set" in proc.stdout, "fit prints cross-validation and training errors")

# The model records how it was made; `atomfp info --json` shows it, checked against the inputs.
info = json.loads(run("info", model, "--json").stdout)
metadata = info["metadata"]
record = metadata["training_files"][0]
check(record["sha256"] == hashlib.sha256(open(train_path, "rb").read()).hexdigest() and record["structures"] == 17,
      "the model records the training file's SHA-256 and size")
types = collections.Counter(a.info.get("config_type", "(none)") for a in frames[:17])
check(metadata["training"]["config_types"] == dict(types), f"the model records structures per config_type {dict(types)}")
settings = metadata["settings"]
check(all(settings[key] == config[key] for key in ("sparse_per_species", "sigma_energy", "sigma_forces", "kernel")) and
      settings["use_virials"] is False and settings["energy_key"] == "energy",
      "the model records the fit configuration with its defaults")
cv = metadata["cross_validation"]
printed_cv = re.search(r"2-fold CV\s+energy RMSE\s+([0-9.]+) meV/atom", proc.stdout)
check(cv["folds"] == 2 and set(cv["per_config_type"]) == set(types) and printed_cv is not None and
      abs(1e3 * cv["pooled"]["energy_rmse_eV_per_atom"] - float(printed_cv.group(1))) < 0.006,
      "the model records the cross-validation errors, pooled and per config_type")
check(metadata["library"].startswith("atomfp ") and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", metadata["created"]),
      "the model records the library version and the date")
text = run("info", model).stdout
check(record["sha256"] in text and "2-fold CV" in text and "config_type" in text, "atomfp info prints the record")
run("info", os.path.join(work, "missing.afp"), expect=1)
run("info", model, "-o", os.path.join(work, "header.json"))
proc_svg = run("fit", "--config", config_path, train_path, "-o", model + ".x", "--svg", cv_svg, expect=1)
check("--cv" in proc_svg.stderr, "fit --svg without --cv is refused")
check(json.load(open(os.path.join(work, "header.json"))) == info, "info -o writes the header --json prints")

predicted_path = os.path.join(work, "predicted.extxyz")
svg = os.path.join(work, "parity.svg")
proc = run("predict", "--model", model, test_path, "-o", predicted_path, "--svg", svg)
predicted = read(predicted_path, ":")
reference = frames[17:]
n = np.array([len(a) for a in reference])
e_ref = np.array([a.get_potential_energy() for a in reference])
e_pred = np.array([a.info["atomfp_energy"] for a in predicted])
f_ref = np.concatenate([a.get_forces() for a in reference]).ravel()
f_pred = np.concatenate([a.arrays["atomfp_forces"] for a in predicted]).ravel()
energy_rmse = 1e3 * np.sqrt(np.mean(((e_pred - e_ref) / n) ** 2))
force_rmse = np.sqrt(np.mean((f_pred - f_ref) ** 2))
printed = re.search(r"energy\s+RMSE ([0-9.]+) meV/atom", proc.stdout)
printed_force = re.search(r"forces\s+RMSE ([0-9.]+) eV/A", proc.stdout)
check(printed is not None and abs(float(printed.group(1)) - energy_rmse) < 2e-3,
      f"printed energy RMSE equals NumPy's ({printed.group(1) if printed else None} vs {energy_rmse:.3f} meV/atom)")
check(printed_force is not None and abs(float(printed_force.group(1)) - force_rmse) < 2e-4,
      f"printed force RMSE equals NumPy's ({force_rmse:.4f} eV/A)")
# A model fitted on 17 structures must beat predicting the mean energy per atom and zero forces.
baseline_energy = 1e3 * np.std(e_ref / n)
check(energy_rmse < baseline_energy / 3 and force_rmse < np.sqrt(np.mean(f_ref**2)) / 3,
      f"the fit beats the trivial model ({energy_rmse:.2f} vs {baseline_energy:.2f} meV/atom; {force_rmse:.3f} eV/A)")
checks.renders(svg, "the parity plot")

# The fitted model carries its posterior covariance: predict writes each structure's sigma and each
# atom's variance, and compares the energy errors with the sigmas. The counts it prints are those
# of the written sigmas; a structure pulled far from the data is less certain than the data.
sigma = np.array([a.info["atomfp_energy_sigma"] for a in predicted])
atom_variances = np.concatenate([a.arrays["atomfp_variance"] for a in predicted])
check(info.get("variance", {}).get("approximation") == "projected process" and np.all(sigma > 0) and np.all(atom_variances > 0),
      "predict writes positive energy sigmas and per-atom variances")
within = re.search(r"(\d+) % within 1 sigma .*?(\d+) % within 2 sigma", proc.stdout)
z = np.abs(e_pred - e_ref) / sigma
check(within is not None and abs(int(within.group(1)) - 100 * np.mean(z <= 1)) <= 0.5 and
      abs(int(within.group(2)) - 100 * np.mean(z <= 2)) <= 0.5,
      f"the printed coverage is that of the written sigmas ({within.group(0) if within else proc.stdout[-300:]})")
calibration = metadata["cross_validation"]["calibration"]
check(info["variance"]["scale"] == calibration["variance_scale"] > 0 and
      abs(calibration["with_variance_scale"]["likelihood_scale"] - 1.0) < 1e-9 and
      calibration["as_fitted"]["structures"] == 17 and "within 1 sigma" in proc_fit_stdout,
      f"fit --cv fits the variance scale on the held-out errors and the model carries it ({calibration['variance_scale']:.3g})")
far = reference[0].copy()
far.set_cell(far.cell * 0.85, scale_atoms=True)
write(os.path.join(work, "far.extxyz"), [reference[0], far], format="extxyz")
run("predict", "--model", model, os.path.join(work, "far.extxyz"), "-o", os.path.join(work, "far_out.extxyz"))
near_out, far_out = read(os.path.join(work, "far_out.extxyz"), ":")
near_sigma, far_sigma = near_out.info["atomfp_energy_sigma"], far_out.info["atomfp_energy_sigma"]
check(far_sigma > 3 * near_sigma, f"a cell compressed by 15 % is less certain ({far_sigma:.3g} vs {near_sigma:.3g} eV)")
check(np.all(far_out.arrays["atomfp_extrapolation"] > 0) and
      np.sum(near_out.arrays["atomfp_extrapolation"]) < np.sum(far_out.arrays["atomfp_extrapolation"]),
      f"every atom of the compressed cell has features outside their training range "
      f"({list(far_out.arrays['atomfp_extrapolation'][:4])}...)")

# Forces are -dE/dx of the model's own energy: central differences through `predict`.
atoms = reference[0].copy()
displaced = []
for atom, axis in ((0, 0), (5, 2), (17, 1)):
    for sign in (1, -1):
        copy = atoms.copy()
        copy.positions[atom, axis] += sign * 1e-4
        displaced.append(copy)
write(os.path.join(work, "displaced.extxyz"), [atoms] + displaced, format="extxyz")
run("predict", "--model", model, os.path.join(work, "displaced.extxyz"), "-o", os.path.join(work, "displaced_out.extxyz"))
out = read(os.path.join(work, "displaced_out.extxyz"), ":")
forces = out[0].arrays["atomfp_forces"]
for k, (atom, axis) in enumerate(((0, 0), (5, 2), (17, 1))):
    fd = -(out[1 + 2 * k].info["atomfp_energy"] - out[2 + 2 * k].info["atomfp_energy"]) / 2e-4
    check(abs(fd - forces[atom, axis]) < 1e-5 * max(1.0, abs(fd)),
          f"force on atom {atom} axis {axis} equals -dE/dx ({forces[atom, axis]:.6f} vs {fd:.6f})")

# Hyper-parameter scan: a 2 x 2 grid, 2-fold; the printed best is the CSV's minimum.
scan_prefix = os.path.join(work, "scan")
small = {**config, "sparse_per_species": 40}
small_path = os.path.join(work, "small.json")
with open(small_path, "w") as f:
    json.dump(small, f)
proc = run("scan", "--config", small_path, "--kernel-values", "2,4", "--sigma-values", "0.001,0.01", train_path, "-o",
           scan_prefix, "--cv", "2")
table = np.genfromtxt(scan_prefix + ".csv", delimiter=",", names=True)
best = table[np.argmin(table["energy_rmse_eV_per_atom"])]
check(len(table) == 4 and f"zeta = {best['zeta']:g}, sigma_energy = {best['sigma_energy']:g}" in proc.stdout,
      f"scan reports the grid point with the lowest cross-validated energy RMSE ({best['zeta']:g}, {best['sigma_energy']:g})")
checks.renders(scan_prefix + ".svg", "the scan heat map")
check('stroke="#e41a1c"' in open(scan_prefix + ".svg").read(), "the scan marks its best cell")
check("fold 2/2" in proc.stderr and "left" in proc.stderr, f"scan reports progress per fold on stderr: {proc.stderr[:120]!r}")

# Descriptor settings are an axis of the grid: each point equals its own cross-validated fit.
cutoff_scan = os.path.join(work, "cutoff_scan")
proc = run("scan", "--config", small_path, "--descriptor", "cutoff=4.0,4.5", "--descriptor", "max_radial=3,4", train_path, "-o",
           cutoff_scan, "--cv", "2")
table = np.genfromtxt(cutoff_scan + ".csv", delimiter=",", names=True)
check(len(table) == 4 and set(table["cutoff"]) == {4.0, 4.5} and set(table["max_radial"]) == {3, 4},
      "scan crosses every descriptor value with the others")
for row in table:
    variant = {**small, "descriptor": {**small["descriptor"], "cutoff": float(row["cutoff"]), "max_radial": int(row["max_radial"])}}
    variant_path = os.path.join(work, "variant.json")
    with open(variant_path, "w") as f:
        json.dump(variant, f)
    fitted = run("fit", "--config", variant_path, train_path, "-o", os.path.join(work, "variant.afp"), "--cv", "2")
    pooled = re.search(r"2-fold CV\s+energy RMSE\s+([0-9.]+) meV/atom", fitted.stdout)
    check(pooled is not None and abs(float(pooled.group(1)) - 1e3 * row["energy_rmse_eV_per_atom"]) < 0.006,
          f"scan point cutoff={row['cutoff']:g} max_radial={row['max_radial']:g} equals fit --cv "
          f"({1e3 * row['energy_rmse_eV_per_atom']:.3f} vs {pooled.group(1) if pooled else None} meV/atom)")
check("at the edge of the grid" in proc.stdout, "a best value at an end of its axis is flagged")
checks.renders(cutoff_scan + ".svg", "the descriptor scan heat map")
proc = run("scan", "--config", small_path, "--descriptor", "cutof=4.0", train_path, "-o", cutoff_scan, expect=1)
check("cutof" in proc.stderr, f"an unknown descriptor key in a scan is refused before fitting: {proc.stderr.strip()}")
run("scan", "--config", small_path, "--kernel-values", "2.5", "--sigma-values", "0.01", train_path, "-o", scan_prefix,
    expect=1)  # zeta must be an integer

# predict -o keeps the input: references under their keys, other info keys and per-atom columns,
# and adds the predictions under atomfp_*; the stress is -virial / V.
tagged = read(test_path, ":")
for i, a in enumerate(tagged):
    a.info["config_type"] = f"kind{i % 2}"
    a.arrays["charges_in"] = np.arange(len(a), dtype=float) * 0.5
tagged_path = os.path.join(work, "tagged.extxyz")
write(tagged_path, tagged, format="extxyz")
kept_path = os.path.join(work, "kept_predicted.extxyz")
tagged_svg = os.path.join(work, "tagged.svg")
run("predict", "--model", model, tagged_path, "-o", kept_path, "--svg", tagged_svg)
figure = open(tagged_svg).read()
check(all(text in figure for text in (">kind0<", ">kind1<", "Energy per atom: error", "Virial per atom", "eV/atom")),
      "the parity figure colours points per config_type and has residual and virial panels")
checks.renders(tagged_svg, "the parity figure per config_type")
kept = read(kept_path, ":")
untouched = read(test_path, ":")
check(all(abs(k.get_potential_energy() - r.get_potential_energy()) < 1e-9 for k, r in zip(kept, untouched)) and
      all(np.allclose(k.get_forces(), r.get_forces(), atol=1e-12, rtol=0) for k, r in zip(kept, untouched)),
      "predict -o keeps the reference energies and forces")
check(all(k.info["config_type"] == t.info["config_type"] and np.array_equal(k.arrays["charges_in"], t.arrays["charges_in"])
          for k, t in zip(kept, tagged)), "predict -o keeps other info keys and per-atom columns")
check(np.allclose([k.info["atomfp_energy"] for k in kept], e_pred, atol=1e-9, rtol=0),
      "the predictions are under atomfp_energy")
virial = np.array(kept[0].info["atomfp_virial"]).reshape(3, 3)
stress = np.array(kept[0].info["atomfp_stress"]).reshape(3, 3)
check(np.allclose(stress, -virial / kept[0].get_volume(), rtol=1e-12, atol=1e-15), "atomfp_stress = -atomfp_virial / V")
bare = [Atoms(a.numbers, a.positions, cell=a.cell, pbc=a.pbc) for a in reference]
bare_path = os.path.join(work, "bare.extxyz")
write(bare_path, bare, format="extxyz")
proc = run("predict", "--model", model, bare_path, "--svg", os.path.join(work, "bare.svg"), expect=1)
check("neither an energy key 'energy'" in proc.stderr, f"--svg on data without references is refused: {proc.stderr.strip()}")

# Label keys: a file that keeps its labels under other names fits through energy_key (in the
# configuration) and --forces-key (on the command line) to the model of the standard file.
renamed = []
for a in frames[:17]:
    b = Atoms(a.numbers, a.positions, cell=a.cell, pbc=a.pbc)
    b.info["REF_energy"] = a.get_potential_energy()
    b.arrays["REF_forces"] = a.get_forces()
    renamed.append(b)
renamed_path = os.path.join(work, "renamed.extxyz")
write(renamed_path, renamed, format="extxyz")
standard_model, renamed_model = os.path.join(work, "standard.afp"), os.path.join(work, "renamed.afp")
run("fit", "--config", small_path, train_path, "-o", standard_model)
keyed_path = os.path.join(work, "keyed.json")
with open(keyed_path, "w") as f:
    json.dump({**small, "energy_key": "REF_energy"}, f)
run("fit", "--config", keyed_path, renamed_path, "--forces-key", "REF_forces", "-o", renamed_model)
outputs = []
for m in (standard_model, renamed_model):
    out_path = m + ".extxyz"
    run("predict", "--model", m, test_path, "-o", out_path)
    outputs.append([a.info["atomfp_energy"] for a in read(out_path, ":")])
check(np.array_equal(outputs[0], outputs[1]), "fits through renamed label keys equal the standard file's fit")
proc = run("fit", "--config", small_path, renamed_path, "-o", renamed_model, expect=1)
check("structure 0" in proc.stderr and "'energy'" in proc.stderr and "energy_key" in proc.stderr,
      f"a missing label names the structure and the key: {proc.stderr.strip()}")
proc = run("predict", "--model", standard_model, renamed_path, "--energy-key", "REF_energy", "--forces-key", "REF_forces")
check("energy  RMSE" in proc.stdout and "forces  RMSE" in proc.stdout, "predict reads references under --energy-key/--forces-key")
unused = os.path.join(work, "unused.json")
with open(unused, "w") as f:
    json.dump({**small, "sigma_virial": 0.01}, f)
proc = run("fit", "--config", unused, train_path, "-o", standard_model, expect=1)
check("sigma_virial" in proc.stderr and "use_virials" in proc.stderr,
      f"a sigma for a quantity that is not fitted is refused: {proc.stderr.strip()}")

# Bad input.
bad = os.path.join(work, "bad.json")
with open(bad, "w") as f:
    json.dump({**config, "sparse_points": 3}, f)
proc = run("fit", "--config", bad, train_path, "-o", model, expect=1)
check("sparse_points" in proc.stderr, "an unknown configuration key is named")
proc = run("fit", "--config", config_path, train_path, "-o", model, "--cv", "40", expect=1)
check("40 folds" in proc.stderr, "more folds than structures is refused")
damaged = os.path.join(work, "damaged.afp")
payload = bytearray(open(model, "rb").read())
payload[len(payload) // 2] ^= 0xFF
open(damaged, "wb").write(bytes(payload))
proc = run("predict", "--model", damaged, test_path, expect=1)
check("checksum" in proc.stderr, "a damaged model file is refused with a checksum message")
run("predict", "--model", os.path.join(work, "missing.afp"), test_path, expect=1)

# Outputs that cannot be written fail before the computation, and existing outputs are never
# truncated by a failed command.
proc = run("fit", "--config", config_path, train_path, "-o", os.path.join(work, "no_such_dir", "m.afp"), expect=1)
check("cannot create a file next to" in proc.stderr and "training set" not in proc.stdout,
      f"fit to an unwritable path fails before fitting: {proc.stderr.strip()}")
kept = os.path.join(work, "kept.npy")
open(kept, "wb").write(b"previous contents")
proc = run("describe", "--spec", os.path.join(work, "spec.json"), train_path, "-o", kept, "--gradients",
           os.path.join(work, "no_such_dir", "g.npy"), expect=1)
check(open(kept, "rb").read() == b"previous contents" and "no_such_dir" in proc.stderr,
      f"describe with an unwritable --gradients leaves -o untouched: {proc.stderr.strip()}")
proc = run("predict", "--model", model, test_path, "-o", work, expect=1)
check("is a directory" in proc.stderr, f"predict -o DIRECTORY is refused before predicting: {proc.stderr.strip()}")
leftovers = [name for name in os.listdir(work) if ".tmp-" in name]
check(not leftovers, f"no temporary files are left behind: {leftovers}")
checks.finish()
