#!/usr/bin/env python3
"""The atomfp PLUMED plugin in `plumed driver`: the collective variables against atomfp's C API
(through the Python package) and their atom and box derivatives against central finite
differences of the same functions.

Exits with 77 (ctest: skipped) when PLUMED or the plugin is absent.
usage: check_plumed.py <plumed or ""> <AtomfpColvars.so or ""> <work dir>
Environment: PYTHONPATH with the atomfp package and ATOMFP_LIBRARY.
"""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
from finite_differences import position_derivative, strain_derivative  # noqa: E402


def skip(reason):
    print(f"SKIPPED: {reason}")
    sys.exit(77)


if len(sys.argv) < 4 or not sys.argv[1] or not sys.argv[2] or not os.path.exists(sys.argv[2]):
    skip("PLUMED was not found when atomfp was configured (see interfaces/plumed/README.md to build it)")

import ase.build  # noqa: E402

import atomfp  # noqa: E402

ok = True
SE_SPEC = {"type": "spherical_expansion", "species": [8, 14], "cutoff": 4.0, "max_radial": 3, "max_angular": 2}
SOAP_SPEC = {"type": "soap_power_spectrum", "species": [8, 14], "cutoff": 4.0, "max_radial": 3, "max_angular": 2}


def check(condition, message):
    global ok
    ok &= bool(condition)
    print(("ok      " if condition else "FAILED  ") + message, flush=True)
    return bool(condition)


def structure():
    """A rattled Si cell with four oxygen substitutions (two species, so species handling shows)."""
    atoms = ase.build.bulk("Si", "diamond", 5.431, cubic=True) * (2, 1, 1)
    atoms.rattle(0.15, seed=5)
    atoms.numbers[[1, 6, 9, 14]] = 8
    return atoms


def centres_sum(atoms, index, centres):
    return atomfp.Descriptor(SE_SPEC).compute(atoms)[centres, index].sum()


def polarisation(atoms, features, centres):
    return np.sqrt((atomfp.Descriptor(SE_SPEC).compute(atoms)[centres][:, features].sum(axis=0) ** 2).sum())


def similarity(atoms, references, centres, zeta):
    x = atomfp.Descriptor(SOAP_SPEC).compute(atoms)[centres]
    k = (x @ references.T) / np.outer(np.linalg.norm(x, axis=1), np.linalg.norm(references, axis=1))
    return (k ** zeta).mean()


def uncertainty_model(path):
    """A small sparse GPR of made-up energies of rattled Si/O cells: only its posterior covariance
    matters here."""
    trainer = atomfp.Trainer({"descriptor": SOAP_SPEC, "sparse_per_species": 8, "use_forces": False,
                              "sigma_energy": 0.01})
    for seed in range(4):
        atoms = structure()
        atoms.rattle(0.05, seed=20 + seed)
        trainer.add(atoms, energy=-5.0 * len(atoms) + 0.1 * seed)
    trainer.train().save(path)
    return atomfp.Model.load(path)


def uncertainty(model, atoms, centres, beta=None):
    """The mean over `centres` of the variances, or their soft maximum (1/beta) log mean exp(beta v)."""
    v = model.predict_variance(atoms)["variances"][centres]
    return v.mean() if beta is None else np.log(np.exp(beta * v).mean()) / beta


def finite_differences(function, atoms, h=1e-5):
    """Atom derivatives (n, 3) and box derivatives as PLUMED defines them: -dS/d(strain) with the
    strain applied to the cell's rows from the right (h -> h (1 + e)), the transpose of x -> (1 + e) x."""
    return position_derivative(function, atoms, h), -strain_derivative(function, atoms, h).T


def read_derivatives(path, labels, n_atoms):
    """DUMPDERIVATIVES: a row per derivative (time, index, one column per value), atoms then box."""
    lines = pathlib.Path(path).read_text().splitlines()
    fields = lines[0].split()[2:]  # "#! FIELDS time parameter <labels>"
    table = np.loadtxt(path, comments="#", ndmin=2)
    result = {}
    for label in labels:
        column = table[:, fields.index(label)]
        # PLUMED's internal length unit is the nm: per-nm derivatives are per-Å ones times 10
        result[label] = (column[:3 * n_atoms].reshape(n_atoms, 3) / 10.0, column[3 * n_atoms:3 * n_atoms + 9].reshape(3, 3))
    return result


def write_trajectory(path, atoms):
    """An xyz frame for `plumed driver --ixyz`: the box line has the three lengths of an
    orthorhombic cell or all nine components (rows) of a triclinic one."""
    cell = np.asarray(atoms.cell)
    box = cell.diagonal() if np.allclose(cell, np.diag(cell.diagonal())) else cell.ravel()
    with open(path, "w") as out:
        out.write(f"{len(atoms)}\n" + " ".join(f"{x:.10f}" for x in box) + "\n")
        for symbol, position in zip(atoms.get_chemical_symbols(), atoms.positions):
            out.write(f"{symbol} {position[0]:.12f} {position[1]:.12f} {position[2]:.12f}\n")
    return np.loadtxt(path, skiprows=2, usecols=(1, 2, 3))  # what PLUMED reads


def run_driver(plumed, work, dat, *extra):
    (work / "plumed.dat").write_text(dat)
    return subprocess.run([plumed, "--no-mpi", "driver", "--plumed", "plumed.dat", "--ixyz", "traj.xyz",
                           "--length-units", "A", *extra], cwd=work, capture_output=True, text=True, timeout=600)


def main():
    plumed, plugin, work = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    references = structure()
    references.rattle(0.2, seed=9)
    references.write(work / "reference.extxyz", format="extxyz")
    (work / "se.json").write_text(json.dumps(SE_SPEC))
    (work / "soap.json").write_text(json.dumps(SOAP_SPEC))
    labels = atomfp.Descriptor(SE_SPEC).labels
    polar = [labels.index(f"c[O,n=1,l=1,m={m}]") for m in (-1, 0, 1)]
    coefficient = labels.index("c[Si,n=0,l=2,m=1]")
    reference_features = atomfp.Descriptor(SOAP_SPEC).compute(references)[[1, 6]]
    model = uncertainty_model(str(work / "model.afp"))

    orthorhombic = structure()
    triclinic = structure()
    triclinic.set_cell(np.asarray(triclinic.cell) + [[0, 0, 0], [0.9, 0, 0], [0.4, -0.6, 0]], scale_atoms=True)
    for tag, atoms in (("orthorhombic", orthorhombic), ("triclinic", triclinic)):
        case = work / tag
        case.mkdir(exist_ok=True)
        for name in ("reference.extxyz", "se.json", "soap.json", "model.afp"):
            (case / name).write_bytes((work / name).read_bytes())
        n = len(atoms)
        atoms.positions = write_trajectory(case / "traj.xyz", atoms)
        # a soft maximum between the mean and the maximum: beta of a few over the variances' spread
        variances = model.predict_variance(atoms)["variances"][2:12]
        beta = float(3.0 / (variances.max() - variances.min()))
        species = ",".join(str(z) for z in atoms.numbers)
        oxygens = ",".join(str(i + 1) for i in np.flatnonzero(atoms.numbers == 8))
        actions = f"""LOAD FILE={plugin}
se: ATOMFP_SPHERICAL_EXPANSION ATOMS=1-{n} SPECIES={species} SPEC_FILE=se.json COEFFICIENTS={coefficient}
pol: ATOMFP_SPHERICAL_EXPANSION ATOMS=1-{n} CENTERS=2-9 SPECIES={species} SPEC_FILE=se.json NORM_SPECIES=8 NORM_N=1 NORM_L=1
sim: ATOMFP_SIMILARITY ATOMS=1-{n} CENTERS={oxygens} SPECIES={species} SPEC_FILE=soap.json REFERENCE=reference.extxyz REFERENCE_CENTERS=2,7 ZETA=2
unc: ATOMFP_UNCERTAINTY ATOMS=1-{n} SPECIES={species} MODEL=model.afp
usoft: ATOMFP_UNCERTAINTY ATOMS=1-{n} CENTERS=3-12 SPECIES={species} MODEL=model.afp REDUCE=SOFTMAX BETA={beta!r}
"""
        oxygen_rows = np.flatnonzero(atoms.numbers == 8)
        functions = {
            f"se.c-{coefficient}": lambda a: centres_sum(a, coefficient, np.arange(n)),
            "pol": lambda a: polarisation(a, polar, np.arange(1, 9)),
            "sim": lambda a: similarity(a, reference_features, oxygen_rows, 2),
            "unc": lambda a: uncertainty(model, a, np.arange(n)),
            "usoft": lambda a: uncertainty(model, a, np.arange(2, 12), beta),
        }
        arguments = ",".join(functions)
        expected = {label: function(atoms) for label, function in functions.items()}
        exact = {label: finite_differences(function, atoms) for label, function in functions.items()}

        # Values only (PRINT): no action asks for derivatives, the way the shipped example runs.
        run = run_driver(plumed, case, actions + f"PRINT ARG={arguments} FILE=colvar FMT=%.15g\n")
        if not check(run.returncode == 0, f"{tag}: PRINT-only run (exit {run.returncode})"):
            print(run.stdout[-3000:], run.stderr[-3000:])
            continue
        values = np.loadtxt(case / "colvar", ndmin=2)[0, 1:]
        for k, label in enumerate(functions):
            check(abs(values[k] - expected[label]) <= 1e-9 * max(abs(expected[label]), 1e-12),
                  f"{tag}: {label} = {values[k]:.12g} (atomfp C API: {expected[label]:.12g})")

        # Every derivative dumped, against finite differences.
        run = run_driver(plumed, case, actions + f"DUMPDERIVATIVES ARG={arguments} FILE=derivatives FMT=%.15g\n")
        if not check(run.returncode == 0, f"{tag}: DUMPDERIVATIVES run (exit {run.returncode})"):
            print(run.stdout[-3000:], run.stderr[-3000:])
            continue
        derivatives = read_derivatives(case / "derivatives", list(functions), n)
        for label in functions:
            gradient, box = exact[label]
            plumed_gradient, plumed_box = derivatives[label]
            atom_error = np.abs(plumed_gradient - gradient).max() / np.abs(gradient).max()
            box_error = np.abs(plumed_box - box).max() / np.abs(box).max()
            check(atom_error < 1e-6, f"{tag}: {label}: atom derivatives vs finite differences, relative {atom_error:.1e}")
            check(box_error < 1e-6, f"{tag}: {label}: box derivatives vs finite differences of a strain, "
                                    f"relative {box_error:.1e}")

        # A restraint on one CV while the others are only printed: the forces PLUMED applies are
        # -kappa (s - at) ds/dx (kJ/mol per Å with Å lengths).
        kappa, at = 10.0, 0.5
        run = run_driver(plumed, case, actions + f"res: RESTRAINT ARG=sim AT={at} KAPPA={kappa}\n"
                         f"PRINT ARG={arguments},res.bias FILE=colvar FMT=%.15g\n", "--dump-forces", "forces.xyz",
                         "--dump-forces-fmt", "%.12e")
        if not check(run.returncode == 0, f"{tag}: restraint on sim, PRINT of the rest (exit {run.returncode})"):
            print(run.stdout[-3000:], run.stderr[-3000:])
            continue
        forces = np.loadtxt(case / "forces.xyz", skiprows=2, usecols=(1, 2, 3))
        expected_forces = -kappa * (expected["sim"] - at) * exact["sim"][0]
        force_error = np.abs(forces - expected_forces).max() / np.abs(expected_forces).max()
        check(force_error < 1e-6, f"{tag}: restraint forces equal -kappa (s - at) ds/dx (relative {force_error:.1e})")

    case = work / "orthorhombic"

    def refused(action, message, what):
        """`action` on the orthorhombic cell must stop plumed driver with `message` in its output."""
        (case / "bad.dat").write_text(f"LOAD FILE={plugin}\nx: {action}\nPRINT ARG=x FILE=colvar\n")
        bad = subprocess.run([plumed, "--no-mpi", "driver", "--plumed", "bad.dat", "--ixyz", "traj.xyz",
                              "--length-units", "A"], cwd=case, capture_output=True, text=True, timeout=600)
        check(bad.returncode != 0 and message in bad.stdout + bad.stderr, what)

    atoms = f"ATOMS=1-{len(orthorhombic)} SPECIES=14"
    refused(f"ATOMFP_SPHERICAL_EXPANSION {atoms} SPEC_FILE=se.json NORM_SPECIES=8 NORM_N=7 NORM_L=1",
            "no features c[O,n=7,l=1", "a norm of features the descriptor lacks is a PLUMED error with a message")
    plain = atomfp.Trainer({"descriptor": SOAP_SPEC, "sparse_per_species": 8, "use_forces": False,
                            "predictive_variance": False})
    plain.add(orthorhombic, energy=-80.0)
    plain.train().save(str(case / "no_covariance.afp"))
    refused(f"ATOMFP_UNCERTAINTY {atoms} MODEL=no_covariance.afp", "no posterior covariance",
            "the uncertainty of a model without a covariance is a PLUMED error with a message")
    refused(f"ATOMFP_UNCERTAINTY {atoms} MODEL=model.afp REDUCE=SOFTMAX", "SOFTMAX needs a positive BETA",
            "SOFTMAX without BETA is a PLUMED error with a message")
    print("all checks passed" if ok else "some checks FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
