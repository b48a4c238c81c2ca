"""Tests of the Python package and its ASE calculator (run by ctest with Debian's python3-numpy and
python3-ase). Reference values come from the C API directly (the test helper library
libatomfp_c_reference, loaded with ctypes: equal bit for bit), from finite differences, and from
invariances.

Environment: ATOMFP_LIBRARY (libatomfp), ATOMFP_C_REFERENCE (the helper library), ATOMFP_SI_MODEL,
ATOMFP_LEGACY_MODEL (a format version 1 model file),
ATOMFP_SI_DATA (extended XYZ frames of Si with energies and forces), PYTHONPATH with the package.
"""
import ctypes
import json
import os
import sys
import tempfile
import unittest

import ase.build
import ase.io
import numpy as np
from ase import Atoms, units
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
from ase.md.verlet import VelocityVerlet

import atomfp
from atomfp.ase import AtomfpCalculator

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from finite_differences import position_derivative, strain_derivative  # noqa: E402

MODEL = os.environ["ATOMFP_SI_MODEL"]
LEGACY_MODEL = os.environ["ATOMFP_LEGACY_MODEL"]  # format version 1: no covariance, no feature ranges
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
        self.assertIn(atomfp.simd_kernels().split()[0], ("avx2", "baseline"))

    def test_descriptor_types_create_their_own_parameters(self):
        types = atomfp.descriptor_types()
        self.assertIn("soap_power_spectrum", [t["type"] for t in types])
        for entry in types:
            self.assertEqual(atomfp.Descriptor(entry["parameters"]).parameters, entry["parameters"])

    def test_status_names_are_those_of_the_header(self):
        import re
        from atomfp import _capi
        header = os.path.join(os.path.dirname(__file__), "..", "..", "include_c", "atomfp.h")
        with open(header) as f:
            declared = {int(code): name for name, code in re.findall(r"(ATOMFP_(?:OK|ERROR_\w+)) = (\d+)", f.read())}
        self.assertEqual(len(declared), 12)
        self.assertEqual(_capi.STATUS_NAMES, declared)

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
        # What the fit recorded travels with the model, through a file too.
        self.assertEqual(model.metadata["settings"]["sparse_per_species"], 30)
        self.assertEqual(model.metadata["training"]["structures"], 3)
        self.assertEqual(model.header["blocks"][0]["n_references"], 30)
        # The posterior variance: the structure's is the full quadratic form, not the sum of the
        # centres' (which it does not equal here), both positive; older files have none.
        variance = model.predict_variance(frames[0])
        self.assertEqual(len(variance["variances"]), n)
        self.assertTrue(np.all(variance["variances"] > 0) and variance["energy_variance"] > 0)
        self.assertNotAlmostEqual(variance["energy_variance"], variance["variances"].sum(), places=12)
        with self.assertRaises(atomfp.AtomfpError) as caught:
            atomfp.Model.load(LEGACY_MODEL).predict_variance(frames[0])
        self.assertEqual(caught.exception.name, "ATOMFP_ERROR_NOT_AVAILABLE")
        # A training structure stays inside the features' training ranges; a squeezed one leaves them.
        outside, excess = model.extrapolation(frames[0])
        self.assertTrue(np.all(outside == 0) and np.all(excess == 0))
        squeezed = frames[0].copy()
        squeezed.set_cell(squeezed.cell * 0.8, scale_atoms=True)
        outside, excess = model.extrapolation(squeezed)
        self.assertTrue(np.all(outside > 0) and np.all(excess > 0))
        # The gradient of a weighted sum of the centres' variances is its finite difference.
        weights = np.linspace(0.5, 1.5, n)
        gradient, variance_virial = model.variance_gradient(frames[0], weights)

        def weighted_variance(atoms):
            return weights @ model.predict_variance(atoms)["variances"]

        expected = position_derivative(weighted_variance, frames[0])
        self.assertLess(np.abs(gradient - expected).max(), 1e-6 * np.abs(gradient).max())
        # (the variance is a difference of terms ~1e4 times larger: a wider step than for energies)
        self.assertLess(np.abs(variance_virial + strain_derivative(weighted_variance, frames[0], h=1e-5).T).max(),
                        1e-5 * np.abs(variance_virial).max())
        with self.assertRaises(ValueError):
            model.variance_gradient(frames[0], weights[:-1])
        # The ASE calculator reports the same signals as the model's own calls.
        atoms = squeezed.copy()
        atoms.calc = AtomfpCalculator(model=model, uncertainty=True, blind_spots=True)
        atoms.get_potential_energy()
        calc = atoms.calc
        variance = model.predict_variance(squeezed)
        self.assertTrue(np.array_equal(calc.get_property("energies_variance"), variance["variances"]))
        self.assertEqual(calc.get_property("energy_variance"), variance["energy_variance"])
        self.assertTrue(np.array_equal(calc.get_property("extrapolation"), outside))
        self.assertTrue(np.array_equal(calc.get_property("extrapolation_excess"), excess))
        index, below = atomfp.blind_spot_indices(model.descriptor, squeezed)
        self.assertTrue(np.array_equal(calc.get_property("blind_spot_index"), index))
        self.assertTrue(np.array_equal(calc.get_property("blind_spot_count"), below))
        self.assertNotIn("energies_variance", AtomfpCalculator(model=model).implemented_properties)
        with tempfile.TemporaryDirectory() as work:
            model.save(os.path.join(work, "m.afp"))
            self.assertEqual(atomfp.Model.load(os.path.join(work, "m.afp")).metadata, model.metadata)


    def test_structure_keys_from_info_or_arguments_weigh_the_fit(self):
        frames = ase.io.read(DATA, index=":")[:6]
        config = {"descriptor": ACSF_SI, "kernel": {"type": "polynomial", "zeta": 2}, "sparse_per_species": 20,
                  "config_type_sigma": {"hot": {"sigma_energy": 0.5, "sigma_forces": 2.0}}}

        def fit(how):
            trainer = atomfp.Trainer(config)
            for i, frame in enumerate(frames):
                atoms = frame.copy()
                atoms.info.pop("config_type", None)
                labels = dict(energy=frame.get_potential_energy(), forces=frame.get_forces())
                if how == "info" and i < 3:
                    atoms.info["config_type"] = "hot"
                    atoms.info["energy_sigma"] = np.float64(0.25)
                if how == "arguments" and i < 3:
                    labels.update(config_type="hot", energy_sigma=0.25)
                trainer.add(atoms, **labels)
            return trainer.train()

        by_info, by_arguments, plain = fit("info"), fit("arguments"), fit("none")
        energies = [[m.predict(f)["energy"] for f in frames] for m in (by_info, by_arguments, plain)]
        self.assertEqual(energies[0], energies[1])
        self.assertGreater(max(abs(a - b) for a, b in zip(energies[0], energies[2])), 1e-6)
        self.assertEqual(by_info.metadata["training"]["config_types"], {"hot": 3, "(none)": 3})
        # A bad key adds nothing.
        trainer = atomfp.Trainer(config)
        for bad in ({"energy_sigma": -1.0}, {"config_type": 3}, {"force_sigma": float("nan")}):
            with self.assertRaises(atomfp.AtomfpError) as caught:
                trainer.add(frames[0], energy=0.0, **bad)
            self.assertEqual(caught.exception.name, "ATOMFP_ERROR_JSON")
        with self.assertRaises(TypeError):
            trainer.add(frames[0], energy=0.0, weight=2.0)
        self.assertEqual(len(trainer), 0)


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
        # The blind-spot index is the smallest non-rigid eigenvalue over the largest.
        index, below = atomfp.blind_spot_indices(acsf, atoms, threshold=1e-6)
        self.assertEqual(index.shape, (5,))
        self.assertAlmostEqual(index[1], values[6] / values[-1], delta=1e-12)
        self.assertEqual(below[1], int(np.sum(values[6:] < 1e-6 * values[-1])))
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


def _features_in_worker(descriptor, atoms):
    """Runs in a separate process: the descriptor arrives pickled."""
    return descriptor.compute(atoms)


def silicon_carbide(seed=4):
    atoms = ase.build.bulk("SiC", "zincblende", 4.36, cubic=True) * (2, 1, 1)
    atoms.rattle(0.1, seed=seed)
    return atoms


SOAP_SIC = {"type": "soap_power_spectrum", "species": ["Si", "C"], "cutoff": 3.5, "max_radial": 3, "max_angular": 2}


class CopyAndPickleTests(unittest.TestCase):
    """A copy or an unpickled object owns a new C handle: deleting the original leaves it working."""

    def test_descriptor_copies_outlive_the_original(self):
        import copy
        import gc
        import pickle
        atoms = silicon_carbide()
        original = atomfp.Descriptor(SOAP_SIC)
        expected = original.compute(atoms)
        copies = [copy.copy(original), copy.deepcopy(original), pickle.loads(pickle.dumps(original))]
        for made in copies:
            self.assertNotEqual(made._handle.value, original._handle.value)
        del original
        gc.collect()
        for made in copies:
            np.testing.assert_array_equal(made.compute(atoms), expected)

    def test_model_and_calculator_copies(self):
        import copy
        import gc
        import pickle
        atoms = silicon(seed=3)
        model = atomfp.Model.load(MODEL)
        expected = model.predict(atoms)["energy"]
        restored = pickle.loads(pickle.dumps(model))
        from_bytes = atomfp.Model.from_bytes(model.to_bytes())
        calculator = AtomfpCalculator(model=model)
        calculator_copy = copy.deepcopy(calculator)
        calculator_pickled = pickle.loads(pickle.dumps(calculator))
        del model, calculator
        gc.collect()
        self.assertEqual(restored.predict(atoms)["energy"], expected)
        self.assertEqual(from_bytes.predict(atoms)["energy"], expected)
        for calc in (calculator_copy, calculator_pickled):
            moved = atoms.copy()
            moved.calc = calc
            self.assertEqual(moved.get_potential_energy(), expected)
        with self.assertRaises(atomfp.AtomfpError):
            atomfp.Model.from_bytes(b"not a model file")

    def test_trainer_refuses_to_be_copied(self):
        import copy
        import pickle
        trainer = atomfp.Trainer({"descriptor": ACSF_SI})
        for attempt in (lambda: copy.copy(trainer), lambda: copy.deepcopy(trainer), lambda: pickle.dumps(trainer)):
            with self.assertRaisesRegex(TypeError, "cannot be copied or pickled"):
                attempt()

    def test_multiprocessing_pool_over_frames(self):
        import functools
        import multiprocessing
        frames = [silicon_carbide(seed) for seed in range(4)]
        descriptor = atomfp.Descriptor(SOAP_SIC)
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            results = pool.map(functools.partial(_features_in_worker, descriptor), frames)
        for frame, result in zip(frames, results):
            np.testing.assert_array_equal(result, descriptor.compute(frame))


class BatchTests(unittest.TestCase):
    def test_species_by_symbol(self):
        by_symbol = atomfp.Descriptor(SOAP_SIC)
        by_number = atomfp.Descriptor(dict(SOAP_SIC, species=[14, 6]))
        self.assertEqual(by_symbol.parameters, by_number.parameters)
        np.testing.assert_array_equal(by_symbol.compute(silicon_carbide()), by_number.compute(silicon_carbide()))

    def test_compute_many_equals_one_structure_at_a_time(self):
        descriptor = atomfp.Descriptor(SOAP_SIC)
        cluster = Atoms("SiC2", positions=[[0, 0, 0], [1.8, 0, 0], [0, 1.9, 0.3]])
        slab = silicon_carbide(7)
        slab.pbc = [True, True, False]
        frames = [silicon_carbide(1), cluster, slab, silicon(seed=2)]
        batch = descriptor.compute_many(frames, gradients=True)
        self.assertEqual(len(batch), sum(len(f) for f in frames))
        n_total = batch.atom_offsets[-1]
        dense = batch.gradients.dense(n_total)
        for k, frame in enumerate(frames):
            rows = np.flatnonzero(batch.structure == k)
            features, gradients = descriptor.compute(frame, gradients=True)
            np.testing.assert_allclose(batch.features[rows], features, rtol=0, atol=1e-12)
            np.testing.assert_array_equal(batch.atom[rows], np.arange(len(frame)))
            np.testing.assert_array_equal(batch.species[rows], frame.numbers)
            start, end = batch.atom_offsets[k], batch.atom_offsets[k + 1]
            np.testing.assert_allclose(dense[rows][:, start:end], gradients.dense(len(frame)), rtol=0, atol=1e-11)
            outside = np.delete(dense[rows], np.arange(start, end), axis=1)
            self.assertEqual(np.abs(outside).max(initial=0.0), 0.0)

    def test_centre_subsets(self):
        descriptor = atomfp.Descriptor(SOAP_SIC)
        atoms = silicon_carbide()
        full, full_gradients = descriptor.compute(atoms, gradients=True)
        subset, subset_gradients = descriptor.compute(atoms, gradients=True, centers=[5, 0, 3])
        np.testing.assert_array_equal(subset, full[[5, 0, 3]])
        np.testing.assert_array_equal(subset_gradients.dense(len(atoms))[:6][[0]],
                                      full_gradients.dense(len(atoms))[[5]])
        batch = descriptor.compute_many([atoms, atoms], centers=[[1], None])
        np.testing.assert_allclose(batch.features, full[[1] + list(range(len(atoms)))], rtol=0, atol=1e-12)
        with self.assertRaises(atomfp.AtomfpError):
            descriptor.compute(atoms, centers=[len(atoms)])
        with self.assertRaisesRegex(atomfp.AtomfpError, "centers has 1 entries for 2 structures"):
            descriptor.compute_many([atoms, atoms], centers=[[0]])

    def test_structure_features(self):
        descriptor = atomfp.Descriptor(SOAP_SIC)
        frames = [silicon_carbide(1), silicon(seed=2)]
        mean = descriptor.structure_features(frames)
        per_species = descriptor.structure_features(frames, per_species=True)
        for k, frame in enumerate(frames):
            features = descriptor.compute(frame)
            np.testing.assert_allclose(mean[k], features.mean(axis=0), rtol=1e-13, atol=1e-15)
            for s, z in enumerate([14, 6]):
                block = per_species[k, s * descriptor.n_features:(s + 1) * descriptor.n_features]
                expected = features[frame.numbers == z].mean(axis=0) if (frame.numbers == z).any() else 0 * block
                np.testing.assert_allclose(block, expected, rtol=1e-13, atol=1e-15)

    def test_structure_features_per_species_needs_a_species_list(self):
        omfp = atomfp.Descriptor({"type": "omfp", "cutoff": 3.0, "max_atoms": 8})
        self.assertEqual(omfp.structure_features([silicon()]).shape, (1, omfp.n_features))
        with self.assertRaisesRegex(atomfp.AtomfpError, "per_species needs a descriptor"):
            omfp.structure_features([silicon()], per_species=True)

    def test_strain_gradients_match_finite_differences(self):
        for spec in (SOAP_SIC, {"type": "acsf", "species": ["Si", "C"], "cutoff": 3.5}):
            descriptor = atomfp.Descriptor(spec)
            atoms = silicon_carbide()
            atoms.set_cell(atoms.cell.array + [[0, 0.3, 0], [0, 0, 0.2], [0.1, 0, 0]], scale_atoms=True)
            features, strain = descriptor.compute(atoms, strain=True)
            numeric = np.moveaxis(strain_derivative(descriptor.compute, atoms), (0, 1), (1, 2))
            error = np.abs(strain - numeric).max() / np.abs(numeric).max()
            self.assertLess(error, 1e-7, spec["type"])

    def test_strain_gradients_give_a_linear_models_virial(self):
        """E = sum_c w . F_c: W = -dE/de from the strain gradients equals the virial from the
        forces' pair sum, -sum_pairs r_ij (x) dE/dr_ij, computed by brute force from the gradients."""
        descriptor = atomfp.Descriptor(SOAP_SIC)
        atoms = silicon_carbide()
        w = np.random.default_rng(1).normal(size=descriptor.n_features)
        features, gradients, strain = descriptor.compute(atoms, gradients=True, strain=True)
        virial = -np.einsum("cabf,f->ab", strain, w)
        system = atomfp.neighbour_list(atoms.positions, atoms.numbers, descriptor.cutoff, cell=atoms.cell.array)
        centre_of_pair = np.repeat(system.centers, np.diff(system.offsets))
        r = system.positions[system.neighbours] - system.positions[centre_of_pair] + system.cell_shifts @ system.cell
        pair_blocks = np.ones(system.n_blocks, dtype=bool)
        pair_blocks[np.arange(system.n_centers) + system.offsets[:-1]] = False
        de_dr = gradients.values[pair_blocks] @ w
        expected = -np.einsum("pa,pb->ab", de_dr, r)
        np.testing.assert_allclose(virial, expected, rtol=1e-12, atol=1e-12)

    def test_feature_metadata_arrays(self):
        power = atomfp.Descriptor(SOAP_SIC)
        meta = power.feature_metadata
        labels = power.labels
        self.assertEqual(set(meta), {"kind", "species_1", "species_2", "n_1", "n_2", "l"})
        for k in (0, 7, len(labels) - 1):
            text = f"p[{atomfp._elements.SYMBOLS[meta['species_1'][k]]},n={int(meta['n_1'][k])};" \
                   f"{atomfp._elements.SYMBOLS[meta['species_2'][k]]},n={int(meta['n_2'][k])},l={int(meta['l'][k])}]"
            self.assertEqual(labels[k], text)
        expansion = atomfp.Descriptor({"type": "spherical_expansion", "species": ["O"], "cutoff": 3.0, "max_radial": 2,
                                       "max_angular": 2}).feature_metadata
        self.assertEqual(sorted(expansion), ["kind", "l", "m", "n", "species"])
        np.testing.assert_array_equal(expansion["l"], [0, 1, 1, 1, 2, 2, 2, 2, 2] * 2)
        np.testing.assert_array_equal(expansion["m"][:4], [0, -1, 0, 1])
        acsf = atomfp.Descriptor({"type": "acsf", "species": ["Si", "C"], "cutoff": 4.0}).feature_metadata
        g9 = acsf["kind"] == "G9"
        self.assertTrue(np.all(acsf["species_2"][g9] > 0) and np.all(acsf["species_2"][~g9] == 0))
        self.assertTrue(np.all(np.isfinite(acsf["eta"])) and np.all(np.isnan(acsf["zeta"][~g9])))


class BuffersAndContractionTests(unittest.TestCase):
    def test_output_buffers_are_filled_in_place_and_checked(self):
        descriptor = atomfp.Descriptor(SOAP_SIC)
        atoms = silicon_carbide()
        system = atomfp.neighbour_list(atoms.positions, atoms.numbers, descriptor.cutoff, cell=atoms.cell.array)
        fresh, fresh_gradients = descriptor.compute(system, gradients=True)
        out = np.full((system.n_centers, descriptor.n_features), np.nan)
        gradients_out = np.full((system.n_blocks, 3, descriptor.n_features), np.nan)
        for _ in range(2):
            features, gradients = descriptor.compute(system, gradients=True, out=out, gradients_out=gradients_out)
            self.assertIs(features, out)
            self.assertIs(gradients.values, gradients_out)
            self.assertTrue(np.array_equal(out, fresh))
            self.assertTrue(np.array_equal(gradients_out, fresh_gradients.values))
        bad = {
            "shape": np.empty((system.n_centers + 1, descriptor.n_features)),
            "float64": np.empty((system.n_centers, descriptor.n_features), dtype=np.float32),
            "C-contiguous": np.empty((descriptor.n_features, system.n_centers)).T,
            "array": [[0.0] * descriptor.n_features] * system.n_centers,
        }
        readonly = np.empty((system.n_centers, descriptor.n_features))
        readonly.flags.writeable = False
        bad["writeable"] = readonly
        for message, array in bad.items():
            with self.assertRaisesRegex(atomfp.AtomfpError, message if message != "array" else "float64"):
                descriptor.compute(system, out=array)
        with self.assertRaisesRegex(atomfp.AtomfpError, "gradients_out"):
            descriptor.compute(system, gradients=True, gradients_out=np.empty((3, 3, 3)))

    def test_a_system_moves_in_place(self):
        descriptor = atomfp.Descriptor(SOAP_SIC)
        atoms = silicon_carbide()
        skin = 0.5
        system = atomfp.neighbour_list(atoms.positions, atoms.numbers, descriptor.cutoff + skin, cell=atoms.cell.array)
        moved = atoms.copy()
        moved.positions += np.random.default_rng(2).uniform(-0.1, 0.1, size=moved.positions.shape)
        system.set_positions(moved.positions)
        np.testing.assert_allclose(descriptor.compute(system), descriptor.compute(moved), rtol=0, atol=1e-12)
        with self.assertRaisesRegex(atomfp.AtomfpError, "shape"):
            system.set_positions(moved.positions[:-1])

    def test_contraction_gives_the_forces_and_virial_of_a_users_energy(self):
        """E = sum_c 0.5 |F_c - t|^2 + a . F_c, so dE/dF_c = F_c - t + a: forces and virial against
        central differences of E in the positions and in a symmetric strain."""
        descriptor = atomfp.Descriptor(SOAP_SIC)
        atoms = silicon_carbide()
        rng = np.random.default_rng(5)
        target, linear = rng.normal(size=descriptor.n_features), rng.normal(size=descriptor.n_features)

        def energy(a):
            f = descriptor.compute(a)
            return 0.5 * ((f - target) ** 2).sum() + (f @ linear).sum()

        features = descriptor.compute(atoms)
        returned, forces, virial = descriptor.contract(atoms, features - target + linear, features=True)
        self.assertTrue(np.array_equal(returned, features))
        h = 1e-5
        for atom, k in [(0, 0), (3, 1), (9, 2)]:
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[atom, k] += h
            minus.positions[atom, k] -= h
            numeric = -(energy(plus) - energy(minus)) / (2 * h)
            self.assertAlmostEqual(forces[atom, k], numeric, delta=1e-6 * np.abs(forces).max())
        for i, j in [(0, 0), (1, 2), (0, 1)]:
            step = np.zeros((3, 3))
            step[i, j] = step[j, i] = h / 2

            def strained(e):
                moved = atoms.copy()
                moved.set_cell(atoms.cell.array @ (np.eye(3) + e), scale_atoms=True)
                return energy(moved)

            numeric = -(strained(step) - strained(-step)) / h
            expected = virial[i, j] if i == j else virial[i, j] + virial[j, i]
            self.assertAlmostEqual(expected, numeric, delta=1e-6 * np.abs(virial).max())
        with self.assertRaisesRegex(atomfp.AtomfpError, "energy_derivatives has shape"):
            descriptor.contract(atoms, features[:-1])
        broken = features.copy()
        broken[2, 3] = np.nan
        with self.assertRaisesRegex(atomfp.AtomfpError, "not finite"):
            descriptor.contract(atoms, broken)


class BindingValidationTests(unittest.TestCase):
    """Lengths the library cannot see are checked by the binding: these used to overflow heap
    buffers or free garbage handles."""

    def test_system_lengths_are_checked(self):
        atoms = silicon()
        good = atomfp.neighbour_list(atoms.positions, atoms.numbers, 3.0, cell=atoms.cell.array)
        cases = {
            "offsets\\[-1\\]": dict(neighbours=good.neighbours[:-5]),
            "cell_shifts has": dict(cell_shifts=good.cell_shifts[:-1]),
            "start at 0": dict(offsets=good.offsets + 1, neighbours=np.concatenate([good.neighbours, [0]]),
                                 cell_shifts=np.vstack([good.cell_shifts, [[0, 0, 0]]])),
            "need a cell": dict(cell=None),
        }
        for message, change in cases.items():
            fields = dict(positions=good.positions, species=good.species, centers=good.centers, offsets=good.offsets,
                          neighbours=good.neighbours, cell=good.cell, cell_shifts=good.cell_shifts)
            fields.update(change)
            with self.assertRaisesRegex(atomfp.AtomfpError, message):
                atomfp.System(**fields)

    def test_model_cannot_be_built_around_a_path(self):
        with self.assertRaisesRegex(TypeError, "Model.load"):
            atomfp.Model(MODEL)
        import gc
        gc.collect()  # nothing half-built is left to free


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
