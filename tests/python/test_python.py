"""Tests of the Python package and its ASE calculator (run by ctest with Debian's python3-numpy and
python3-ase). Reference values come from the C API directly (the test helper library
libatomfp_c_reference, loaded with ctypes: equal bit for bit), from finite differences, and from
invariances.

Environment: ATOMFP_LIBRARY (libatomfp), ATOMFP_C_REFERENCE (the helper library), ATOMFP_SI_MODEL,
ATOMFP_SI_DATA (extended XYZ frames of Si with energies and forces), PYTHONPATH with the package.
"""
import ctypes
import json
import os
import unittest

import ase.build
import ase.io
import numpy as np
from ase import Atoms, units
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
from ase.md.verlet import VelocityVerlet

import atomfp
from atomfp.ase import AtomfpCalculator

MODEL = os.environ["ATOMFP_SI_MODEL"]
DATA = os.environ["ATOMFP_SI_DATA"]
ACSF_SI = {"type": "acsf", "species": [14], "cutoff": 5.0}
SOAP_SI = {"type": "soap_power_spectrum", "species": [14], "cutoff": 4.0, "max_radial": 4, "max_angular": 3}
ACSF_CH = {"type": "acsf", "species": [1, 6], "cutoff": 4.0}

reference = ctypes.CDLL(os.environ["ATOMFP_C_REFERENCE"])
_p = ctypes.c_void_p
for name, args in {
    "reference_features": [ctypes.c_char_p, ctypes.c_int64, _p, _p, _p, _p, _p],
    "reference_spectrum": [ctypes.c_char_p, ctypes.c_int64, _p, _p, _p, ctypes.c_int64, ctypes.c_int32, _p, _p],
    "reference_manifold": [ctypes.c_char_p, ctypes.c_int64, _p, _p, ctypes.c_int64, ctypes.c_char_p, ctypes.c_int64,
                           ctypes.POINTER(ctypes.c_int64), _p, _p],
    "reference_predict": [ctypes.c_char_p, ctypes.c_int64, _p, _p, _p, _p, _p, _p, _p],
    "reference_train_predict": [ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64, _p, _p, _p, _p, _p, _p, _p],
}.items():
    getattr(reference, name).argtypes = args
    getattr(reference, name).restype = ctypes.c_int32


def ptr(array):
    return None if array is None else array.ctypes.data


def silicon(repeat=1, rattle=0.05, seed=1):
    atoms = ase.build.bulk("Si", "diamond", 5.431, cubic=True) * (repeat, repeat, repeat)
    atoms.rattle(rattle, seed=seed)
    return atoms


def methane():
    """A distorted CH4 with the carbon second, so that index errors show."""
    return Atoms("HCHHH", positions=[[0.62, 0.65, 0.60], [0.0, 0.02, -0.01], [-0.66, -0.61, 0.63],
                                     [-0.60, 0.64, -0.66], [0.64, -0.62, -0.61]])


def c_arrays(atoms):
    positions = np.ascontiguousarray(atoms.get_positions())
    species = np.ascontiguousarray(atoms.numbers, dtype=np.int32)
    cell = np.ascontiguousarray(np.asarray(atoms.cell)) if atoms.pbc.any() else None
    return positions, species, cell


class DescriptorTests(unittest.TestCase):
    def test_features_and_gradients_equal_the_c_api(self):
        atoms = silicon()
        soap = atomfp.Descriptor(SOAP_SI)
        features, gradients = soap.compute(atoms, gradients=True)
        positions, species, cell = c_arrays(atoms)
        ref_features = np.zeros_like(features)
        ref_gradients = np.zeros_like(gradients.values)
        self.assertEqual(reference.reference_features(json.dumps(SOAP_SI).encode(), len(atoms), ptr(positions),
                                                      ptr(species), ptr(cell), ptr(ref_features),
                                                      ptr(ref_gradients)), 0)
        self.assertTrue(np.array_equal(features, ref_features))
        self.assertTrue(np.array_equal(gradients.values, ref_gradients))

    def test_metadata(self):
        soap = atomfp.Descriptor(SOAP_SI)
        self.assertEqual(soap.n_features, 4 * 5 // 2 * 4)
        self.assertEqual(soap.cutoff, 4.0)
        self.assertEqual(len(soap.labels), soap.n_features)
        self.assertEqual(soap.parameters["max_angular"], 3)
        self.assertEqual(atomfp.Descriptor(soap.parameters).parameters, soap.parameters)
        self.assertEqual(atomfp.version(), atomfp.__version__)

    def test_gradients_match_finite_differences(self):
        atoms = silicon(rattle=0.1)
        acsf = atomfp.Descriptor(ACSF_SI)
        _, gradients = acsf.compute(atoms, gradients=True)
        dense = gradients.dense(len(atoms))
        h = 1e-5
        worst = 0.0
        for atom in (0, 5):
            for k in range(3):
                plus, minus = atoms.copy(), atoms.copy()
                plus.positions[atom, k] += h
                minus.positions[atom, k] -= h
                numeric = (acsf.compute(plus) - acsf.compute(minus)) / (2 * h)
                worst = max(worst, np.abs(numeric - dense[:, atom, k, :]).max() / (np.abs(numeric).max() + 1e-12))
        self.assertLess(worst, 1e-6)

    def test_invariances(self):
        atoms = silicon(rattle=0.1)
        acsf = atomfp.Descriptor(ACSF_SI)
        features = acsf.compute(atoms)
        moved = atoms.copy()
        moved.translate([0.3, -1.2, 2.0])
        self.assertLess(np.abs(acsf.compute(moved) - features).max(), 1e-10)
        rotated = atoms.copy()
        rotated.rotate(37, "x", rotate_cell=True)
        rotated.rotate(-71, "z", rotate_cell=True)
        self.assertLess(np.abs(acsf.compute(rotated) - features).max(), 1e-9)
        order = np.random.default_rng(3).permutation(len(atoms))
        self.assertLess(np.abs(acsf.compute(atoms[order]) - features[order]).max(), 1e-10)

    def test_hand_built_system_is_zero_based(self):
        atoms = methane()
        acsf = atomfp.Descriptor(ACSF_CH)
        full = acsf.compute(atoms)
        system = atomfp.System(atoms.positions, atoms.numbers, centers=[1, 3], offsets=[0, 4, 8],
                               neighbours=[0, 2, 3, 4, 0, 1, 2, 4])
        partial = acsf.compute(system)
        self.assertTrue(np.array_equal(partial, full[[1, 3]]))
        self.assertFalse(np.array_equal(full[1], full[2]))

    def test_neighbour_list(self):
        atoms = silicon()
        system = atomfp.neighbour_list(atoms.positions, atoms.numbers, 3.0, cell=atoms.cell)
        self.assertEqual(system.n_centers, 8)
        self.assertEqual(system.n_pairs, 32)  # four bonds per atom, both directions
        distances = np.linalg.norm(atoms.positions[system.neighbours]
                                   - atoms.positions[np.repeat(system.centers, np.diff(system.offsets))]
                                   + system.cell_shifts @ np.asarray(atoms.cell), axis=1)
        self.assertLess(distances.max(), 3.0)


class ModelTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = atomfp.Model.load(MODEL)

    def test_prediction_equals_the_c_api(self):
        atoms = silicon(repeat=2, rattle=0.1)
        result = self.model.predict(atoms)
        positions, species, cell = c_arrays(atoms)
        energy, energies = np.zeros(1), np.zeros(len(atoms))
        forces, virial = np.zeros((len(atoms), 3)), np.zeros((3, 3))
        self.assertEqual(reference.reference_predict(MODEL.encode(), len(atoms), ptr(positions), ptr(species), ptr(cell),
                                                     ptr(energy), ptr(energies), ptr(forces), ptr(virial)), 0)
        self.assertEqual(result["energy"], energy[0])
        self.assertTrue(np.array_equal(result["energies"], energies))
        self.assertTrue(np.array_equal(result["forces"], forces))
        self.assertTrue(np.array_equal(result["virial"], virial))
        self.assertEqual(list(self.model.species), [14])
        self.assertEqual(self.model.cutoff, 4.5)

    def test_calculator_forces_are_minus_the_energy_gradient(self):
        atoms = silicon(rattle=0.1)
        atoms.calc = AtomfpCalculator(MODEL)
        forces = atoms.get_forces()
        h = 1e-4
        for atom, k in [(0, 0), (3, 1), (6, 2)]:
            plus, minus = atoms.copy(), atoms.copy()
            plus.calc = minus.calc = atoms.calc
            plus.positions[atom, k] += h
            e_plus = plus.get_potential_energy()
            minus.positions[atom, k] -= h
            e_minus = minus.get_potential_energy()
            self.assertAlmostEqual(forces[atom, k], -(e_plus - e_minus) / (2 * h), delta=1e-6)
        self.assertAlmostEqual(atoms.get_potential_energies().sum(), atoms.get_potential_energy(), delta=1e-10)

    def test_calculator_stress_is_the_strain_derivative(self):
        atoms = silicon(rattle=0.1)
        atoms.calc = AtomfpCalculator(MODEL)
        stress = atoms.get_stress(voigt=False)
        volume = atoms.get_volume()
        h = 1e-5
        for i, j in [(0, 0), (1, 2), (0, 1)]:
            energies = []
            for sign in (1, -1):
                strain = np.eye(3)
                strain[i, j] += sign * h / 2
                strain[j, i] += sign * h / 2
                strained = atoms.copy()
                strained.set_cell(np.asarray(atoms.cell) @ strain, scale_atoms=True)
                strained.calc = atoms.calc
                energies.append(strained.get_potential_energy())
            self.assertAlmostEqual(stress[i, j], (energies[0] - energies[1]) / (2 * h) / volume, delta=1e-7)

    def test_md_is_stable_and_conserves_energy(self):
        atoms = silicon(repeat=2, rattle=0.0)
        atoms.calc = AtomfpCalculator(model=self.model)
        MaxwellBoltzmannDistribution(atoms, temperature_K=2000, rng=np.random.default_rng(5))
        Stationary(atoms)
        total = []
        dynamics = VelocityVerlet(atoms, timestep=1.0 * units.fs)
        dynamics.attach(lambda: total.append(atoms.get_total_energy()), interval=5)
        dynamics.run(200)
        total = np.array(total)
        self.assertTrue(np.all(np.isfinite(total)))
        self.assertLess(np.ptp(total) / len(atoms), 1e-3)
        self.assertGreater(atoms.get_temperature(), 400)
        self.assertLess(atoms.get_temperature(), 1600)

    def test_save_and_load(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"atomfp_python_{os.getpid()}.afp")
        try:
            self.model.save(path)
            atoms = silicon()
            self.assertEqual(atomfp.Model.load(path).predict(atoms)["energy"], self.model.predict(atoms)["energy"])
        finally:
            if os.path.exists(path):
                os.remove(path)


class TrainerTests(unittest.TestCase):
    def test_trained_model_equals_the_c_api(self):
        # the C reference trains on configurations of one cell
        frames = ase.io.read(DATA, index=":")
        frames = [f for f in frames if np.array_equal(np.asarray(f.cell), np.asarray(frames[0].cell))][:3]
        config = {"descriptor": SOAP_SI, "kernel": {"type": "polynomial", "zeta": 2}, "sparse_per_species": 30,
                  "sigma_energy": 0.001, "sigma_forces": 0.02}
        trainer = atomfp.Trainer(config)
        for frame in frames:
            trainer.add(frame, energy=frame.get_potential_energy(), forces=frame.get_forces())
        self.assertEqual(len(trainer), 3)
        model = trainer.train()
        self.assertEqual(trainer.summary["structures"], 3)
        self.assertEqual(trainer.summary["sparse_points"], {"Si": 30})
        predicted = model.predict(frames[0])

        n = len(frames[0])
        positions = np.ascontiguousarray([f.get_positions() for f in frames])
        forces = np.ascontiguousarray([f.get_forces() for f in frames])
        energies = np.array([f.get_potential_energy() for f in frames])
        species = np.ascontiguousarray(frames[0].numbers, dtype=np.int32)
        cell = np.ascontiguousarray(np.asarray(frames[0].cell))
        energy, ref_forces = np.zeros(1), np.zeros((n, 3))
        self.assertEqual(reference.reference_train_predict(json.dumps(config).encode(), 3, n, ptr(positions),
                                                           ptr(species), ptr(cell), ptr(energies), ptr(forces),
                                                           ptr(energy), ptr(ref_forces)), 0)
        self.assertEqual(predicted["energy"], energy[0])
        self.assertTrue(np.array_equal(predicted["forces"], ref_forces))
        self.assertLess(abs(predicted["energy"] - energies[0]) / n, 0.01)


class SensitivityTests(unittest.TestCase):
    def test_spectrum_and_manifold_equal_the_c_api(self):
        atoms = methane()
        acsf = atomfp.Descriptor(ACSF_CH)
        values, vectors = atomfp.sensitivity_spectrum(acsf, atoms, 1, eigenvectors=True)
        positions, species, _ = c_arrays(atoms)
        ref_values, ref_vectors = np.zeros_like(values), np.zeros_like(vectors)
        self.assertEqual(reference.reference_spectrum(json.dumps(ACSF_CH).encode(), 5, ptr(positions), ptr(species),
                                                      None, 1, atomfp.REMOVE_RIGID, ptr(ref_values),
                                                      ptr(ref_vectors)), 0)
        self.assertTrue(np.array_equal(values, ref_values) and np.array_equal(vectors, ref_vectors))
        self.assertTrue(np.all(values[:6] == 0) and values[6] > 0)
        matrix = atomfp.sensitivity_matrix(acsf, atoms, 1, remove_rigid=True)
        self.assertLess(np.abs(matrix @ vectors[-1] - values[-1] * vectors[-1]).max(), 1e-9 * values[-1])

        options = {"steps": 6, "random_samples": 3}
        soap = atomfp.Descriptor({"type": "soap_power_spectrum", "species": [1, 6], "cutoff": 4.0})
        trace = atomfp.trace_manifold(acsf, atoms, 1, probes=[soap], options=options)
        self.assertEqual(len(trace["displacement"]), 7)
        self.assertEqual(list(trace["species"]), [6, 1, 1, 1, 1])
        n_frames = ctypes.c_int64()
        displacement, distances = np.zeros(7), np.zeros((7, 1))
        self.assertEqual(reference.reference_manifold(json.dumps(ACSF_CH).encode(), 5, ptr(positions), ptr(species), 1,
                                                      json.dumps(options).encode(), 7, ctypes.byref(n_frames),
                                                      ptr(displacement), ptr(distances)), 0)
        self.assertTrue(np.array_equal(trace["displacement"], displacement))
        self.assertTrue(np.array_equal(trace["distances"][:, :1], distances))
        self.assertLess(trace["distances"][-1, 0], 0.1 * trace["random_distances"][-1, 0])


class FrameTests(unittest.TestCase):
    def test_read_frames_matches_ase(self):
        frames = atomfp.read_frames(DATA)
        reference = ase.io.read(DATA, index=":")
        self.assertEqual(len(frames), len(reference))
        for frame, atoms in zip(frames, reference):
            self.assertTrue(np.array_equal(frame["positions"], atoms.positions))
            self.assertTrue(np.array_equal(frame["species"], atoms.numbers))
            self.assertTrue(np.array_equal(frame["cell"], np.asarray(atoms.cell)))
            self.assertTrue(np.array_equal(frame["pbc"], atoms.pbc))
        with self.assertRaises(atomfp.AtomfpError) as caught:
            atomfp.read_frames("/nonexistent.extxyz")
        self.assertEqual(caught.exception.name, "ATOMFP_ERROR_IO")


class FeatureSpaceTests(unittest.TestCase):
    def test_compare_and_select(self):
        rng = np.random.default_rng(4)
        a = rng.normal(size=(80, 4))
        q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
        result = atomfp.compare_features(a, a @ q)
        self.assertTrue(np.all(result["gfre"] < 1e-10) and np.all(result["gfrd"] < 1e-10))
        partial = atomfp.compare_features(a, a[:, :1])
        self.assertLess(partial["gfre"][0], 1e-10)
        self.assertGreater(partial["gfre"][1], 0.3)
        self.assertAlmostEqual(np.sqrt((partial["pointwise"][1] ** 2).mean()), partial["gfre"][1], delta=1e-12)
        chosen = atomfp.select_features(np.hstack([a, a[:, :2] + a[:, 2:]]), "cur", 4)
        self.assertEqual(len(chosen), 4)
        with self.assertRaises(atomfp.AtomfpError) as caught:
            atomfp.compare_features(a, np.ones((80, 2)))
        self.assertIn("constant", str(caught.exception))


class ErrorTests(unittest.TestCase):
    def assert_status(self, name, function, *args, **kwargs):
        with self.assertRaises(atomfp.AtomfpError) as caught:
            function(*args, **kwargs)
        self.assertEqual(caught.exception.name, name)
        self.assertGreater(len(str(caught.exception)), len(name) + 5)
        return str(caught.exception)

    def test_bad_input_raises_with_a_message(self):
        message = self.assert_status("ATOMFP_ERROR_JSON", atomfp.Descriptor, {"type": "acsf", "species": [14],
                                                                              "cutof": 5.0})
        self.assertIn("cutof", message)
        self.assert_status("ATOMFP_ERROR_IO", atomfp.Model.load, "/nonexistent/model.afp")
        self.assert_status("ATOMFP_ERROR_FORMAT", atomfp.Model.load, DATA)
        atoms = silicon()
        atoms.positions[2, 1] = np.nan
        self.assert_status("ATOMFP_ERROR_INVALID_ARGUMENT", atomfp.Descriptor(ACSF_SI).compute, atoms)
        self.assert_status("ATOMFP_ERROR_SPECIES", atomfp.Model.load(MODEL).predict, methane())
        bad = atomfp.System(methane().positions, methane().numbers, centers=[1], offsets=[0, 2], neighbours=[0, 5])
        self.assert_status("ATOMFP_ERROR_NEIGHBOURS", atomfp.Descriptor(ACSF_CH).compute, bad)
        self.assert_status("ATOMFP_ERROR_INVALID_ARGUMENT", atomfp.sensitivity_spectrum,
                           atomfp.Descriptor(ACSF_CH), methane(), 7)
        self.assert_status("ATOMFP_ERROR_JSON", atomfp.Trainer, {"descriptor": ACSF_SI, "unknown": 1})
        self.assert_status("ATOMFP_ERROR_INVALID_ARGUMENT", atomfp.Trainer({"descriptor": ACSF_SI}).add, silicon(),
                           energy=float("nan"))
        with self.assertRaises(ValueError):
            AtomfpCalculator()


if __name__ == "__main__":
    unittest.main(verbosity=2)
