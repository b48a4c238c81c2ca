#!/usr/bin/env python3
"""`atomfp kim-model`: a user's own model into LAMMPS in one command, from an installed atomfp.

atomfp is installed into a scratch prefix. With no atomfp environment set, its `atomfp fit` trains
tiny models on bundled data (Stillinger-Weber Si; Erhart-Albe Tersoff SiC, two species), and
`atomfp kim-model ... --install DIR` builds and installs each as a KIM portable model (and the
atomfp model driver) into a scratch environment collection. Debian's LAMMPS then runs them with
`kim init NAME metal` / `kim interactions ...`, and the energy and forces must equal
`atomfp predict` on the positions LAMMPS used to 1e-10 relative; the deployment example's NVE input
runs with the SiC model and conserves energy. The two-species model carries a core repulsion. Also: a species map (`user01` for
Si), replacing an installed model of the same name, and the errors for a bad name, a missing model
file and a species map naming a species the model lacks. The published uncertainty threshold
(`kim param set uncertainty_threshold`) logs a warning in kim.log exactly when an atom's variance
from `atomfp predict` exceeds it, and is refused for a model without a posterior covariance.

usage: check_kim_model.py <build dir> <lmp> <test data dir> <work dir> <SiC training set>
"""
import json
import pathlib
import shutil
import sys

import ase.io
import numpy as np

tests = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(tests / "support"), str(tests / "kim")]
from checks import Checks, clean_environment, install_tree  # noqa: E402
from lammps_runs import read_dump, single_point_script, thermo_rows, write_exact_extxyz  # noqa: E402

checks = Checks()
build, lmp, data, work = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]), pathlib.Path(sys.argv[4]).resolve()
sic_training_set = pathlib.Path(sys.argv[5])
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
prefix = work / "prefix"
install_tree(build, prefix)
atomfp = prefix / "bin" / "atomfp"
collection = work / "collection"


def run(*args, cwd=work, env=None, expect=0):
    return checks.run(args, cwd=cwd, env=env, expect=expect)


def fit(name, frames, species, zeta, width=0.4, max_radial=4, max_angular=3, references=40, repulsion=None, **settings):
    train = work / f"{name}_train.extxyz"
    ase.io.write(train, frames, format="extxyz")
    config = {"descriptor": {"type": "soap_power_spectrum", "species": species, "cutoff": 3.5,
                             "atomic_gaussian_width": width, "max_radial": max_radial, "max_angular": max_angular},
              "kernel": {"type": "polynomial", "zeta": zeta}, "sparse_per_species": references, "sigma_energy": 0.002,
              "sigma_forces": 0.05}
    if repulsion:
        config["repulsion"] = repulsion
    config.update(settings)
    (work / f"{name}.json").write_text(json.dumps(config))
    model = work / f"{name}.afp"
    run(atomfp, "fit", "--config", work / f"{name}.json", train, "-o", model)
    return model


def lammps_against_predict(tag, kim_name, model, atoms, kim_species, species, env=None):
    """LAMMPS with the installed KIM model on `atoms` against `atomfp predict` with `model`."""
    case = work / tag
    case.mkdir()
    ase.io.write(case / "structure.data", atoms, format="lammps-data", atom_style="atomic", specorder=species)
    (case / "in.lmp").write_text(single_point_script(kim_name, "structure.data", kim_species))
    env = env or clean_environment(KIM_API_MODEL_DRIVERS_DIR=str(collection / "model-drivers"),
                                   KIM_API_PORTABLE_MODELS_DIR=str(collection / "portable-models"), OMP_NUM_THREADS="1")
    result = run(lmp, "-in", "in.lmp", "-log", "log.lammps", "-screen", "none", cwd=case, env=env)
    if result.returncode != 0:
        return None
    header, rows = thermo_rows(case / "log.lammps")
    lammps_energy = dict(zip(header, rows[-1]))["PotEng"]
    dumped = read_dump(case / "forces.dump")
    frame = atoms.copy()
    frame.positions = dumped.positions
    write_exact_extxyz(case / "frame.extxyz", frame)
    if run(atomfp, "predict", "--model", model, "frame.extxyz", "-o", "predicted.extxyz", cwd=case).returncode:
        return None
    predicted = ase.io.read(case / "predicted.extxyz")
    energy, forces = float(predicted.info["atomfp_energy"]), predicted.arrays["atomfp_forces"]
    energy_error = abs(lammps_energy - energy) / abs(energy)
    force_error = np.abs(dumped.get_forces() - forces).max() / np.abs(forces).max()
    checks.check(energy_error <= 1e-10, f"{tag}: LAMMPS energy {lammps_energy:.10f} eV, atomfp predict "
                                        f"{energy:.10f} eV (relative {energy_error:.1e})")
    checks.check(force_error <= 1e-10, f"{tag}: forces relative to max |F| {force_error:.1e} ({len(atoms)} atoms)")
    return lammps_energy


def kim_model(model, name, *options, expect=0, env=None):
    result = run(atomfp, "kim-model", model, name, "-o", work / "items" / name, *options, expect=expect, env=env)
    if expect == 0:
        checks.check(f"kim init {name} metal" in result.stdout and "kim interactions" in result.stdout,
                     f"kim-model {name}: prints the LAMMPS lines")
    return result


# One species: Stillinger-Weber Si
si_frames = ase.io.read(data / "si_sw_subset.extxyz", ":")
si_model = fit("si", si_frames[:8], [14], 4)
si_name = "atomfp_test_Si__MO_000000000000_000"
kim_model(si_model, si_name, "--install", collection)
si_test = si_frames[-1]
si_energy = lammps_against_predict("si", si_name, si_model, si_test, ["Si"], ["Si"])

# Two species: Erhart-Albe Tersoff SiC
sic_frames = ase.io.read(data / "sic_tersoff_subset.extxyz", ":")
# with a core repulsion reaching into the Si-C bonds (1.89 A), which LAMMPS must apply as atomfp does
sic_model = fit("sic", sic_frames[:-1], [14, 6], 4,
                repulsion={"type": "zbl", "inner": 1.0, "outer": 1.95, "pairs": {"Si-Si": {"inner": 1.5, "outer": 2.4}}})
sic_name = "atomfp_test_SiC__MO_000000000000_000"
kim_model(sic_model, sic_name, "--install", collection)
lammps_against_predict("sic", sic_name, sic_model, sic_frames[-1], ["Si", "C"], ["Si", "C"])

# The deployment example: a SiC model fitted on the crystal, strained and hot frames of the bundled
# training set, in 200 steps of NVE of 512-atom 3C-SiC at ~300 K (examples/deploy/sic_nve.lmp).
crystal_types = ("md300", "md1000", "md2000", "strain_iso", "strain_rand")
crystal = [f for f in ase.io.read(sic_training_set, ":") if f.info.get("config_type") in crystal_types]
crystal_model = fit("sic_crystal", crystal, ["Si", "C"], 4, width=0.3, max_radial=6, max_angular=4, references=200)
crystal_name = "atomfp_test_SiC_crystal__MO_000000000000_000"
kim_model(crystal_model, crystal_name, "--install", collection)
case = work / "sic_nve"
case.mkdir()
example = tests.parent / "examples" / "deploy" / "sic_nve.lmp"
result = run(lmp, "-in", example, "-var", "model", crystal_name, "-var", "steps", "200", "-log", "log.lammps", "-screen",
             "none", cwd=case, env=clean_environment(KIM_API_MODEL_DRIVERS_DIR=str(collection / "model-drivers"),
                                                     KIM_API_PORTABLE_MODELS_DIR=str(collection / "portable-models"),
                                                     OMP_NUM_THREADS="1"))
if result.returncode == 0:
    header, rows = thermo_rows(case / "log.lammps")
    total = rows[:, header.index("TotEng")]
    spread = np.ptp(total) / 512 * 1000
    temperature = rows[rows[:, 0] >= 100, header.index("Temp")].mean()
    checks.check(rows[-1, 0] == 200 and spread <= 1.0 and 150 < temperature < 450,
                 f"examples/deploy/sic_nve.lmp: 200 steps, mean T {temperature:.0f} K, total energy max - min "
                 f"{spread:.4f} meV/atom")

# A species map: the Si model with KIM species user01
mapped_name = "atomfp_test_user01__MO_000000000000_000"
kim_model(si_model, mapped_name, "--install", collection, "--species-map", "user01=14")
mapped_energy = lammps_against_predict("species_map", mapped_name, si_model, si_test, ["user01"], ["Si"])
checks.check(mapped_energy is not None and si_energy is not None and abs(mapped_energy - si_energy) <= 1e-12 * abs(si_energy),
             "species map: the model under KIM species user01 gives the Si energy")

# The uncertainty threshold, a published parameter: a compressed cell is uncertain.
squeezed = si_test.copy()
squeezed.set_cell(si_test.cell * 0.92, scale_atoms=True)
case = work / "uncertainty"
case.mkdir()
write_exact_extxyz(case / "squeezed.extxyz", squeezed)
run(atomfp, "predict", "--model", si_model, "squeezed.extxyz", "-o", "predicted.extxyz", cwd=case)
variances = ase.io.read(case / "predicted.extxyz").arrays["atomfp_variance"]
ase.io.write(case / "structure.data", squeezed, format="lammps-data", atom_style="atomic", specorder=["Si"])
kim_environment = clean_environment(KIM_API_MODEL_DRIVERS_DIR=str(collection / "model-drivers"),
                                    KIM_API_PORTABLE_MODELS_DIR=str(collection / "portable-models"), OMP_NUM_THREADS="1")


def lammps_with_parameters(name, parameters, expect=0):
    """A single point of `name` on the squeezed cell after `kim param set` lines; returns kim.log."""
    (case / "kim.log").unlink(missing_ok=True)
    script = single_point_script(name, "structure.data", ["Si"]).replace(
        "kim interactions Si\n", "kim interactions Si\n" + "".join(f"kim param set {p}\n" for p in parameters))
    (case / "in.lmp").write_text(script)
    run(lmp, "-in", "in.lmp", "-log", "log.lammps", "-screen", "none", cwd=case, env=kim_environment, expect=expect)
    return (case / "kim.log").read_text() if (case / "kim.log").exists() else ""


largest = variances.max()
for threshold, expected in ((0.5 * largest, int((variances > 0.5 * largest).sum())), (2 * largest, 0)):
    log = lammps_with_parameters(si_name, [f"uncertainty_threshold 1 {threshold!r}"])
    warned = [line for line in log.splitlines() if "uncertain prediction" in line]
    checks.check(len(warned) == (1 if expected else 0) and
                 (not expected or f" {expected} of {len(squeezed)} atoms have a posterior variance above" in log),
                 f"uncertainty_threshold {threshold:.3g} eV^2 (largest atomfp predict variance {largest:.3g}): "
                 f"{'one warning for ' + str(expected) + ' atoms' if expected else 'no warning'} in kim.log")
log = lammps_with_parameters(si_name, [])
checks.check("uncertain prediction" not in log, "no uncertainty warning by default")
plain_model = fit("si_plain", si_frames[:8], [14], 4, predictive_variance=False)
plain_name = "atomfp_test_Si_plain__MO_000000000000_000"
kim_model(plain_model, plain_name, "--install", collection)
log = lammps_with_parameters(plain_name, ["uncertainty_threshold 1 0.01"], expect=1)
checks.check("needs a model that carries a posterior covariance" in log,
             "uncertainty_threshold for a model without a covariance is refused, the reason in kim.log")
log = lammps_with_parameters(si_name, ["uncertainty_stride 1 0"], expect=1)
checks.check("uncertainty_stride must be >= 1" in log, "uncertainty_stride 0 is refused with a message")

# The user collection (HOME is a scratch directory): the driver installed from the install tree with
# the KIM API's own tool, as docs/hosts.md says, then a model through kim-model.
home = clean_environment(HOME=str(work / "home"), OMP_NUM_THREADS="1")
(work / "home").mkdir()
driver_item = prefix / "share" / "atomfp" / "kim" / "atomfp__MD_000000000000_000"
result = run("kim-api-collections-management", "install", "user", driver_item, env=home)
checks.check(result.returncode == 0, "kim-api-collections-management install user <prefix>/share/atomfp/kim/<driver> works")
user_name = "atomfp_test_user_collection__MO_000000000000_000"
kim_model(si_model, user_name, "--install", "user", env=home)
user_energy = lammps_against_predict("user_collection", user_name, si_model, si_test, ["Si"], ["Si"], env=home)
checks.check(user_energy is not None and si_energy is not None and abs(user_energy - si_energy) <= 1e-12 * abs(si_energy),
             "user collection: same energy as the environment collection")

# Installing a different model under an installed name replaces it.
other_model = fit("si_zeta2", si_frames[:8], [14], 2)
kim_model(other_model, si_name, "--install", collection)
replaced_energy = lammps_against_predict("replaced", si_name, other_model, si_test, ["Si"], ["Si"])
checks.check(replaced_energy is not None and abs(replaced_energy - si_energy) > 1e-6,
             f"re-installing under the same name replaces the model ({si_energy} -> {replaced_energy} eV)")

# Errors
result = kim_model(si_model, "my_model", expect=1)
checks.check("not a valid KIM model name" in result.stderr and "__MO_" in result.stderr,
             f"a bad KIM name is refused: {result.stderr.strip()[:120]}")
result = kim_model(work / "missing.afp", si_name, expect=1)
checks.check("missing.afp" in result.stderr, f"a missing model file is an error: {result.stderr.strip()[:120]}")
result = kim_model(si_model, si_name, "--species-map", "user02=6", expect=1)
checks.check("does not have" in result.stderr, f"a species map for a species the model lacks: {result.stderr.strip()[:120]}")
result = kim_model(si_model, si_name, "--species-map", "user02", expect=1)
checks.check("KIM_NAME=Z" in result.stderr, f"a malformed species map: {result.stderr.strip()[:120]}")
checks.finish()
