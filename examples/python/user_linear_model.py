#!/usr/bin/env python3
"""A linear energy model of your own on atomfp features, with forces and the virial.

E = sum over centres c of (b[z_c] + w[z_c] . F_c): a per-species baseline and weights on the SOAP
power spectrum of each centre, fitted by regularised least squares to the energies and forces of
the bundled SiC structures (Erhart-Albe Tersoff) but one 1000 K crystal frame, which is held out. Forces come from
the feature gradients, -dE/dx = -sum_c w[z_c] . dF_c/dx, and the virial from the strain
gradients, W = -dE/de = -sum_c w[z_c] . dF_c/de; for prediction, Descriptor.contract gives both
from dE/dF without forming the gradients. On the held-out structure they are compared with
the reference, and checked against central finite differences of the model's own energy (the
script exits non-zero if those disagree).

usage (from the repository root, with the package importable):
    /usr/bin/python3 examples/python/user_linear_model.py [tests/data/sic_tersoff_subset.extxyz]
"""
import sys

import ase.io
import numpy as np

import atomfp

path = sys.argv[1] if len(sys.argv) > 1 else "tests/data/sic_tersoff_subset.extxyz"
frames = ase.io.read(path, ":")
species = [14, 6]
soap = atomfp.Descriptor({"type": "soap_power_spectrum", "species": ["Si", "C"], "cutoff": 3.5,
                          "atomic_gaussian_width": 0.4, "max_radial": 4, "max_angular": 3})
nf = soap.n_features



def design(atoms):
    """Rows of the linear model for one structure: its energy (per species, the sum of the centres'
    features and the number of centres) and its forces (-sum over centres of that species of
    dF_c/dx), columns [w_Si, w_C, b_Si, b_C]."""
    features, gradients = soap.compute(atoms, gradients=True)
    dense = gradients.dense(len(atoms))                 # (n_centers, n_atoms, 3, n_features)
    energy_row, force_rows = [], []
    for z in species:
        mine = atoms.numbers == z
        energy_row.append(features[mine].sum(axis=0))
        force_rows.append(-dense[mine].sum(axis=0).reshape(3 * len(atoms), nf))
    counts = [float(np.sum(atoms.numbers == z)) for z in species]
    energy_row = np.concatenate(energy_row + [counts])
    force_rows = np.hstack(force_rows + [np.zeros((3 * len(atoms), len(species)))])
    return energy_row, force_rows


test_index = 3                                          # the second 1000 K crystal frame
training, test = frames[:test_index] + frames[test_index + 1:], frames[test_index]
rows, targets = [], []
for atoms in training:
    energy_row, force_rows = design(atoms)
    scale = 1.0 / (0.002 * len(atoms))                  # energies to 2 meV/atom, forces to 0.1 eV/A
    rows += [scale * energy_row, force_rows / 0.1]
    targets += [scale * atoms.get_potential_energy(), atoms.get_forces().ravel() / 0.1]
x, y = np.vstack(rows), np.hstack(targets)
coefficients = np.linalg.lstsq(np.vstack([x, 1e-3 * np.eye(x.shape[1])]), np.hstack([y, np.zeros(x.shape[1])]),
                               rcond=None)[0]
weights = coefficients[:len(species) * nf].reshape(len(species), nf)
baselines = coefficients[len(species) * nf:]
print(f"fitted on {len(training)} structures ({len(y)} rows, {x.shape[1]} coefficients)")


def energy(atoms):
    features = soap.compute(atoms)
    rows = np.searchsorted(species, atoms.numbers, sorter=np.argsort(species))
    order = np.argsort(species)[rows]
    return float(np.sum(baselines[order]) + np.einsum("cf,cf->", weights[order], features))


def forces_and_virial(atoms):
    """Through Descriptor.contract: dE/dF_c in, forces and virial out, no gradients in memory."""
    order = np.array([species.index(z) for z in atoms.numbers])
    return soap.contract(atoms, weights[order])         # dE/dF_c = w[z_c], (n_centers, n_features)


def forces_and_virial_from_gradients(atoms):
    """The same from the explicit feature and strain gradients (what training needs)."""
    features, gradients, strain = soap.compute(atoms, gradients=True, strain=True)
    w = weights[np.array([species.index(z) for z in atoms.numbers])]
    return -np.einsum("cjaf,cf->ja", gradients.dense(len(atoms)), w), -np.einsum("cabf,cf->ab", strain, w)


atoms = test.copy()
reference_energy, reference_forces = test.get_potential_energy(), test.get_forces()
forces, virial = forces_and_virial(atoms)
explicit_forces, explicit_virial = forces_and_virial_from_gradients(atoms)
route_difference = max(np.abs(forces - explicit_forces).max(), np.abs(virial - explicit_virial).max())
print(f"contraction vs explicit gradients: largest difference {route_difference:.1e}")
reference_virial = np.reshape(atoms.info["virial"], (3, 3))
print(f"held-out structure ({atoms.info.get('config_type')}, {len(atoms)} atoms): energy error "
      f"{1000 * (energy(atoms) - reference_energy) / len(atoms):.1f} meV/atom, force RMSE "
      f"{np.sqrt(np.mean((forces - reference_forces) ** 2)):.3f} eV/A, virial RMSE "
      f"{np.sqrt(np.mean((virial - reference_virial) ** 2)) / len(atoms):.4f} eV/atom")
# Directional derivatives of the model's own energy: along a random displacement d, dE/dt = -F . d;
# along a random strain S, x -> (1 + tS) x, dE/dt = -W : S.
rng = np.random.default_rng(0)
direction = rng.normal(size=atoms.positions.shape)
strain_direction = rng.normal(size=(3, 3))
h = 1e-5


def moved(t):
    result = atoms.copy()
    result.positions += t * direction
    return result


def strained(t):
    result = atoms.copy()
    result.set_cell(atoms.cell.array @ (np.eye(3) + t * strain_direction).T, scale_atoms=True)
    return result


numeric_force_work = -(energy(moved(h)) - energy(moved(-h))) / (2 * h)
numeric_virial_work = -(energy(strained(h)) - energy(strained(-h))) / (2 * h)
force_error = abs(np.sum(forces * direction) - numeric_force_work) / abs(numeric_force_work)
virial_error = abs(np.sum(virial * strain_direction) - numeric_virial_work) / abs(numeric_virial_work)
print(f"forces vs a finite difference along a random displacement: relative {force_error:.1e}")
print(f"virial vs a finite difference along a random strain: relative {virial_error:.1e}")
sys.exit(0 if force_error < 1e-6 and virial_error < 1e-6 and route_difference < 1e-10 else 1)
