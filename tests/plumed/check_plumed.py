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


def main():
    plumed, plugin, work = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    atoms = structure()
    n = len(atoms)
    references = structure()
    references.rattle(0.2, seed=9)
    references.write(work / "reference.extxyz", format="extxyz")
    (work / "se.json").write_text(json.dumps(SE_SPEC))
    (work / "soap.json").write_text(json.dumps(SOAP_SPEC))
    cell = np.asarray(atoms.cell).diagonal()
    with open(work / "traj.xyz", "w") as out:
        out.write(f"{n}\n{cell[0]:.10f} {cell[1]:.10f} {cell[2]:.10f}\n")
        for symbol, position in zip(atoms.get_chemical_symbols(), atoms.positions):
            out.write(f"{symbol} {position[0]:.12f} {position[1]:.12f} {position[2]:.12f}\n")
    atoms.positions = np.loadtxt(work / "traj.xyz", skiprows=2, usecols=(1, 2, 3))  # what PLUMED reads

    labels = atomfp.Descriptor(SE_SPEC).labels
    polar = [labels.index(f"c[O,n=1,l=1,m={m}]") for m in (-1, 0, 1)]
    coefficient = labels.index("c[Si,n=0,l=2,m=1]")
    species = ",".join(str(z) for z in atoms.numbers)
    oxygens = ",".join(str(i + 1) for i in np.flatnonzero(atoms.numbers == 8))
    (work / "plumed.dat").write_text(f"""LOAD FILE={plugin}
se: ATOMFP_SPHERICAL_EXPANSION ATOMS=1-{n} SPECIES={species} SPEC_FILE=se.json COEFFICIENTS={coefficient}
pol: ATOMFP_SPHERICAL_EXPANSION ATOMS=1-{n} CENTERS=2-9 SPECIES={species} SPEC_FILE=se.json NORM_SPECIES=8 NORM_N=1 NORM_L=1
sim: ATOMFP_SIMILARITY ATOMS=1-{n} CENTERS={oxygens} SPECIES={species} SPEC_FILE=soap.json REFERENCE=reference.extxyz REFERENCE_CENTERS=2,7 ZETA=2
PRINT ARG=se.c-{coefficient},pol,sim FILE=colvar FMT=%.15g
DUMPDERIVATIVES ARG=se.c-{coefficient},pol,sim FILE=derivatives FMT=%.15g
""")
    run = subprocess.run([plumed, "--no-mpi", "driver", "--plumed", "plumed.dat", "--ixyz", "traj.xyz",
                          "--length-units", "A"], cwd=work, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-3000:])
        check(False, "plumed driver ran")
        sys.exit(1)
    values = np.loadtxt(work / "colvar", ndmin=2)[0, 1:]

    oxygen_rows = np.flatnonzero(atoms.numbers == 8)
    reference_features = atomfp.Descriptor(SOAP_SPEC).compute(references)[[1, 6]]
    functions = {
        f"se.c-{coefficient}": lambda a: centres_sum(a, coefficient, np.arange(n)),
        "pol": lambda a: polarisation(a, polar, np.arange(1, 9)),
        "sim": lambda a: similarity(a, reference_features, oxygen_rows, 2),
    }
    derivatives = read_derivatives(work / "derivatives", list(functions), n)
    for k, (label, function) in enumerate(functions.items()):
        expected = function(atoms)
        check(abs(values[k] - expected) <= 1e-9 * max(abs(expected), 1e-12),
              f"{label} = {values[k]:.12g} (atomfp C API: {expected:.12g})")
        gradient, box = finite_differences(function, atoms)
        plumed_gradient, plumed_box = derivatives[label]
        atom_error = np.abs(plumed_gradient - gradient).max() / np.abs(gradient).max()
        box_error = np.abs(plumed_box - box).max() / np.abs(box).max()
        check(atom_error < 1e-6, f"{label}: atom derivatives vs finite differences, relative {atom_error:.1e}")
        check(box_error < 1e-6, f"{label}: box derivatives vs finite differences of a strain, relative {box_error:.1e}")

    (work / "bad.dat").write_text(f"LOAD FILE={plugin}\nx: ATOMFP_SPHERICAL_EXPANSION ATOMS=1-{n} SPECIES=14 "
                                  "SPEC_FILE=se.json NORM_SPECIES=8 NORM_N=7 NORM_L=1\n")
    bad = subprocess.run([plumed, "--no-mpi", "driver", "--plumed", "bad.dat", "--ixyz", "traj.xyz", "--length-units",
                          "A"], cwd=work, capture_output=True, text=True, timeout=600)
    check(bad.returncode != 0 and "no features c[O,n=7,l=1" in bad.stdout + bad.stderr,
          "a norm of features the descriptor lacks is a PLUMED error with a message")
    print("all checks passed" if ok else "some checks FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
