"""atomfp: atomic-environment fingerprints, their gradients and kernel models, from Python.

A thin ctypes layer over the C library (libatomfp); NumPy arrays in and out, no compiled code.
Atoms are ase.Atoms objects (or anything with get_positions(), numbers, cell and pbc) or a
`System` with a caller-owned neighbour list. Indices are 0-based, as in the C API; lengths are in Å
and energies in eV.

    import atomfp
    soap = atomfp.Descriptor({"type": "soap_power_spectrum", "species": ["Si"], "cutoff": 4.5})
    features = soap.compute(atoms)                      # (n_atoms, n_features)
    batch = soap.compute_many(list_of_atoms)            # one threaded call: batch.features, batch.structure
    model = atomfp.Model.load("si.afp")
    result = model.predict(atoms)                       # energy, energies, forces, virial, stress

Descriptors and models can be copied and pickled (for multiprocessing, joblib, ASE tools that
deep-copy calculators): a copy is a new C handle made from the canonical specification or the
model file's bytes.
"""
import ctypes
import json
import math
import os
import tempfile

import numpy as np

from . import _batch, _capi
from ._capi import AtomfpError, lib

__all__ = ["AtomfpError", "Batch", "Descriptor", "Gradients", "Model", "System", "Trainer", "blind_spot_indices", "compare_features",
           "neighbour_list",
           "read_frames", "select_features",
           "descriptor_types", "sensitivity_matrix", "sensitivity_spectrum", "simd_kernels", "trace_manifold", "version"]

REMOVE_RIGID = _capi.SENSITIVITY_REMOVE_RIGID
SCALE_MAX = _capi.SENSITIVITY_SCALE_MAX


def version():
    """The version string of the loaded library, e.g. "0.1.0"."""
    return lib.atomfp_version_string().decode()


def descriptor_types():
    """Every descriptor type: a list of {"type", "summary", "parameters"}, "parameters" holding every
    key the type reads with its default (the canonical specification of a silicon example)."""
    return json.loads(_capi.query_string(lib.atomfp_descriptor_types))


def simd_kernels():
    """Which copy of the vectorised kernels runs on this CPU: "avx2" or "baseline"."""
    return lib.atomfp_simd_kernels().decode()


__version__ = version()


def _handle_out():
    return ctypes.c_void_p()


class _OwnedHandle:
    """An object owning a C handle in `_handle`, freed with lib.<_free_function> when collected.

    Copies and pickles never share the handle (both would free it): a subclass that can be
    recreated returns its class and constructor arguments from `_recreate()`, and copy.copy,
    copy.deepcopy and pickle then make a new object with a new handle."""

    _free_function = None

    def __del__(self):
        if getattr(self, "_handle", None):
            getattr(lib, self._free_function)(self._handle)
            self._handle = None

    def _recreate(self):
        raise TypeError(f"atomfp.{type(self).__name__} cannot be copied or pickled")

    def __reduce__(self):
        return self._recreate()

    def __copy__(self):
        factory, arguments = self._recreate()
        return factory(*arguments)

    def __deepcopy__(self, memo):
        return self.__copy__()


class System:
    """Atoms and a full neighbour list, as atomfp_system_t: 0-based `centers` and `neighbours`, CSR
    `offsets` (n_centers + 1), optional `cell` (rows are lattice vectors) and integer
    `cell_shifts` (n_pairs, 3) with r_ij = x_j - x_i + shift @ cell. Pairs beyond a cutoff are
    ignored, so a list built with a skin is fine."""

    def __init__(self, positions, species, centers, offsets, neighbours, cell=None, cell_shifts=None):
        self.positions = np.ascontiguousarray(positions, dtype=np.float64).reshape(-1, 3)
        self.species = np.ascontiguousarray(species, dtype=np.int32).reshape(-1)
        self.centers = np.ascontiguousarray(centers, dtype=np.int64).reshape(-1)
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64).reshape(-1)
        self.neighbours = np.ascontiguousarray(neighbours, dtype=np.int64).reshape(-1)
        self.cell = None if cell is None else np.ascontiguousarray(cell, dtype=np.float64).reshape(3, 3)
        self.cell_shifts = None if cell_shifts is None else np.ascontiguousarray(cell_shifts, dtype=np.int32).reshape(-1, 3)
        if len(self.species) != len(self.positions):
            raise AtomfpError(1, f"positions has {len(self.positions)} rows but species {len(self.species)}")
        # The library trusts array lengths it cannot see; check them here (the values it checks itself).
        if len(self.offsets) != len(self.centers) + 1:
            raise AtomfpError(4, f"offsets has {len(self.offsets)} entries but {len(self.centers) + 1} are needed")
        if len(self.offsets) and self.offsets[-1] != len(self.neighbours):
            raise AtomfpError(4, f"offsets[-1] = {self.offsets[-1]} but neighbours has {len(self.neighbours)} entries")
        if len(self.offsets) and (self.offsets[0] != 0 or np.any(np.diff(self.offsets) < 0)):
            raise AtomfpError(4, "offsets must start at 0 and never decrease")
        if self.cell_shifts is not None and len(self.cell_shifts) != len(self.neighbours):
            raise AtomfpError(4, f"cell_shifts has {len(self.cell_shifts)} rows but there are {len(self.neighbours)} pairs")
        if self.cell_shifts is not None and self.cell is None:
            raise AtomfpError(1, "cell_shifts need a cell")

    @property
    def n_atoms(self):
        return len(self.positions)

    @property
    def n_centers(self):
        return len(self.centers)

    @property
    def n_pairs(self):
        return len(self.neighbours)

    @property
    def n_blocks(self):
        """The number of gradient blocks: one per centre plus one per pair."""
        return self.n_centers + self.n_pairs

    def c_struct(self):
        """The C view; valid while this object lives and its arrays are not replaced."""
        return _capi.CSystem(
            self.n_atoms, _capi.pointer(self.positions, ctypes.c_double), _capi.pointer(self.species, ctypes.c_int32),
            _capi.pointer(self.cell, ctypes.c_double), self.n_centers, _capi.pointer(self.centers, ctypes.c_int64),
            _capi.pointer(self.offsets, ctypes.c_int64), _capi.pointer(self.neighbours, ctypes.c_int64),
            _capi.pointer(self.cell_shifts, ctypes.c_int32))

    def set_positions(self, positions):
        """Moves the atoms in place, keeping the neighbour list: for a list built with a skin
        (cutoff + skin), valid while no atom has moved more than skin / 2 since it was built. No
        memory is allocated, so a loop of set_positions and compute reuses everything."""
        positions = np.asarray(positions, dtype=np.float64)
        if positions.shape != self.positions.shape:
            raise AtomfpError(1, f"positions has shape {positions.shape} but the system has {self.positions.shape}")
        self.positions[...] = positions

    def pair_blocks(self):
        """A mask over the gradient blocks: True for the blocks of pairs, False for each centre's own."""
        pair_slots = np.ones(self.n_blocks, dtype=bool)
        pair_slots[np.arange(self.n_centers) + self.offsets[:-1]] = False
        return pair_slots

    def gradient_blocks(self):
        """For every gradient block: the row of its centre and the atom it differentiates by."""
        centre_rows = np.repeat(np.arange(self.n_centers), np.diff(self.offsets) + 1)
        pair_slots = self.pair_blocks()
        atoms = np.empty(self.n_blocks, dtype=np.int64)
        atoms[~pair_slots] = self.centers
        atoms[pair_slots] = self.neighbours
        return centre_rows, atoms


def neighbour_list(positions, species, cutoff, cell=None, pbc=None):
    """A full neighbour list from atomfp_neighbours_build: every atom a centre, periodic images as
    cell shifts. cell: (3, 3) rows, or None for a cluster; pbc: three booleans (default: all periodic
    when a cell is given)."""
    positions = np.ascontiguousarray(positions, dtype=np.float64).reshape(-1, 3)
    species = np.ascontiguousarray(species, dtype=np.int32).reshape(-1)
    if len(species) != len(positions):
        raise AtomfpError(1, f"positions has {len(positions)} rows but species {len(species)}")
    cell = None if cell is None else np.ascontiguousarray(cell, dtype=np.float64).reshape(3, 3)
    pbc = None if pbc is None else np.ascontiguousarray(np.asarray(pbc, dtype=bool).astype(np.int32).reshape(3))
    handle = _handle_out()
    _capi.check(lib.atomfp_neighbours_build(len(positions), _capi.pointer(positions, ctypes.c_double),
                                            _capi.pointer(species, ctypes.c_int32), _capi.pointer(cell, ctypes.c_double),
                                            _capi.pointer(pbc, ctypes.c_int32), float(cutoff), ctypes.byref(handle)))
    try:
        view = _capi.CSystem()
        _capi.check(lib.atomfp_neighbours_system(handle, ctypes.byref(view)))
        n, m = view.n_atoms, view.n_centers

        def copy(ptr, count, dtype):
            return np.ctypeslib.as_array(ptr, shape=(count,)).astype(dtype, copy=True) if count else np.zeros(0, dtype)

        offsets = copy(view.offsets, m + 1, np.int64)
        n_pairs = int(offsets[-1])
        shifts = copy(view.cell_shifts, 3 * n_pairs, np.int32) if view.cell_shifts else None
        return System(copy(view.positions, 3 * n, np.float64), copy(view.species, n, np.int32),
                      copy(view.centers, m, np.int64), offsets, copy(view.neighbours, n_pairs, np.int64),
                      cell=None if not view.cell else copy(view.cell, 9, np.float64), cell_shifts=shifts)
    finally:
        lib.atomfp_neighbours_free(handle)


def read_frames(path):
    """The frames of an extended XYZ file, read by the library: a list of dicts with positions
    (n_atoms, 3), species (n_atoms,), cell (3, 3) rows or None, and pbc (3,) booleans."""
    handle = _handle_out()
    _capi.check(lib.atomfp_frames_read(str(path).encode(), ctypes.byref(handle)))
    try:
        count = ctypes.c_int64()
        _capi.check(lib.atomfp_frames_count(handle, ctypes.byref(count)))
        frames = []
        for index in range(count.value):
            n = ctypes.c_int64()
            positions, cell = _capi.c_double_p(), _capi.c_double_p()
            species, pbc = _capi.c_int32_p(), _capi.c_int32_p()
            _capi.check(lib.atomfp_frames_get(handle, index, ctypes.byref(n), ctypes.byref(positions),
                                              ctypes.byref(species), ctypes.byref(cell), ctypes.byref(pbc)))
            frames.append({
                "positions": np.ctypeslib.as_array(positions, shape=(n.value, 3)).copy(),
                "species": np.ctypeslib.as_array(species, shape=(n.value,)).copy(),
                "cell": np.ctypeslib.as_array(cell, shape=(3, 3)).copy() if cell else None,
                "pbc": np.ctypeslib.as_array(pbc, shape=(3,)).astype(bool),
            })
        return frames
    finally:
        lib.atomfp_frames_free(handle)


def _as_system(atoms, cutoff):
    """A System from ase.Atoms (a fresh list with the given cutoff) or a System as it is."""
    if isinstance(atoms, System):
        return atoms
    pbc = np.asarray(atoms.pbc, dtype=bool)
    cell = np.asarray(atoms.cell, dtype=np.float64) if pbc.any() else None
    return neighbour_list(atoms.get_positions(), atoms.numbers, cutoff, cell=cell, pbc=pbc if pbc.any() else None)


class Gradients:
    """Feature gradients in the C API's sparse layout: `values` (n_blocks, 3, n_features), block b
    is dF[centers[b]] / dx[atoms[b]]."""

    def __init__(self, values, centers, atoms):
        self.values, self.centers, self.atoms = values, centers, atoms

    def dense(self, n_atoms):
        """dF_c/dx_j as a dense array (n_centers, n_atoms, 3, n_features), images summed."""
        n_centers = int(self.centers.max()) + 1 if len(self.centers) else 0
        result = np.zeros((n_centers, n_atoms) + self.values.shape[1:])
        np.add.at(result, (self.centers, self.atoms), self.values)
        return result


def _output(array, shape, name):
    """A fresh output array, or the caller's after checking that the library may write it as is."""
    if array is None:
        return np.empty(shape)
    if not isinstance(array, np.ndarray) or array.dtype != np.float64 or array.shape != shape:
        raise AtomfpError(1, f"{name} must be a float64 array of shape {shape}")
    if not array.flags.c_contiguous or not array.flags.writeable:
        raise AtomfpError(1, f"{name} must be C-contiguous and writeable")
    return array


class Descriptor(_OwnedHandle):
    """A descriptor from a JSON specification (a dict or a JSON string), e.g.
    {"type": "acsf", "species": [14], "cutoff": 6.0}."""

    _free_function = "atomfp_descriptor_free"

    def __init__(self, spec):
        text = spec if isinstance(spec, str) else json.dumps(spec)
        self._handle = _handle_out()
        _capi.check(lib.atomfp_descriptor_create(text.encode(), ctypes.byref(self._handle)))

    def _recreate(self):
        return Descriptor, (_capi.query_string(lib.atomfp_descriptor_parameters, self._handle),)

    @property
    def parameters(self):
        """The canonical specification with every default filled in."""
        return json.loads(_capi.query_string(lib.atomfp_descriptor_parameters, self._handle))

    @property
    def n_features(self):
        n = ctypes.c_int64()
        _capi.check(lib.atomfp_descriptor_feature_count(self._handle, ctypes.byref(n)))
        return n.value

    @property
    def cutoff(self):
        value = ctypes.c_double()
        _capi.check(lib.atomfp_descriptor_cutoff(self._handle, ctypes.byref(value)))
        return value.value

    def feature_label(self, index):
        return _capi.query_string(lib.atomfp_descriptor_feature_label, self._handle, int(index))

    @property
    def labels(self):
        return [self.feature_label(k) for k in range(self.n_features)]

    @property
    def feature_metadata(self):
        """What each feature is, as arrays (n_features,) parsed from the labels: "kind" (e.g. "p",
        "G2", "c"), the species ("species" or "species_1", "species_2", ... as atomic numbers, 0
        where absent) and the parameters (n, l, m, or n_1, n_2, l for a power spectrum; eta, zeta,
        lambda, r_s for ACSF; NaN where absent)."""
        return _batch.feature_metadata(self.labels)

    def _compute_system(self, system, gradients, out=None, gradients_out=None):
        # np.empty: the library writes every element (features, and every gradient block, zero
        # beyond the cutoff), so zero-filling would only add page faults.
        features = _output(out, (system.n_centers, self.n_features), "out")
        values = _output(gradients_out, (system.n_blocks, 3, self.n_features), "gradients_out") if gradients else None
        c_system = system.c_struct()
        _capi.check(lib.atomfp_descriptor_compute(self._handle, ctypes.byref(c_system),
                                                  _capi.pointer(features, ctypes.c_double),
                                                  _capi.pointer(values, ctypes.c_double)))
        return features, values

    def compute(self, atoms, gradients=False, centers=None, strain=False, out=None, gradients_out=None):
        """Features (n_centers, n_features) of ase.Atoms or a System.

        centers: indices of the centres to describe (default: all). gradients=True adds a
        Gradients object; strain=True adds dF/d(strain) (n_centers, 3, 3, n_features), the
        derivative under x -> (1 + e) x of positions and cell, from which a linear model's virial
        W = -dE/de follows. Returned in that order: features[, gradients][, strain].

        out, gradients_out: C-contiguous float64 arrays (n_centers, n_features) and
        (n_blocks, 3, n_features) to write into instead of fresh ones; reusing them from call to
        call (with a reused System) makes repeated calls allocate nothing."""
        system = _as_system(atoms, self.cutoff)
        if centers is not None:
            system = _batch.restrict(system, centers)
        features, values = self._compute_system(system, gradients or strain, out, gradients_out)
        if not gradients and not strain:
            return features
        result = (features,)
        if gradients:
            result += (Gradients(values, *system.gradient_blocks()),)
        if strain:
            result += (_batch.strain_gradients(system, values),)
        return result

    def contract(self, atoms, energy_derivatives, features=False):
        """Forces and virial of a model of one's own, E(F): given energy_derivatives = dE/dF
        (n_centers, n_features) for every centre of `atoms` (ase.Atoms or a System), returns
        forces (n_atoms, 3) = -dE/dx and the virial (3, 3) = -sum r_ij (x) dE/dr_ij, without
        forming the feature gradients (memory of the features, not of the gradients). With
        features=True the features come first: features, forces, virial."""
        system = _as_system(atoms, self.cutoff)
        weights = np.ascontiguousarray(energy_derivatives, dtype=np.float64)
        if weights.shape != (system.n_centers, self.n_features):
            raise AtomfpError(1, f"energy_derivatives has shape {weights.shape} but "
                                 f"({system.n_centers}, {self.n_features}) is needed")
        values = np.empty((system.n_centers, self.n_features)) if features else None
        forces, virial = np.empty((system.n_atoms, 3)), np.empty((3, 3))
        c_system = system.c_struct()
        _capi.check(lib.atomfp_descriptor_contract(self._handle, ctypes.byref(c_system),
                                                   _capi.pointer(weights, ctypes.c_double),
                                                   _capi.pointer(values, ctypes.c_double),
                                                   _capi.pointer(forces, ctypes.c_double),
                                                   _capi.pointer(virial, ctypes.c_double)))
        return (values, forces, virial) if features else (forces, virial)

    def compute_many(self, frames, gradients=False, centers=None):
        """Features of several structures (ase.Atoms or Systems) in one call, threaded over all
        their centres by the library: a Batch with stacked features and, per row, its structure
        and atom. centers: one index list per structure (or None for all). With gradients=True the
        Gradients refer to atoms numbered consecutively over the structures (Batch.atom_offsets)."""
        systems = [_as_system(frame, self.cutoff) for frame in frames]
        if centers is not None:
            if len(centers) != len(systems):
                raise AtomfpError(1, f"centers has {len(centers)} entries for {len(systems)} structures")
            systems = [s if c is None else _batch.restrict(s, c) for s, c in zip(systems, centers)]
        merged, owner, structure = _batch.merge(systems)
        features, values = self._compute_system(merged, gradients)
        atom_offsets = np.concatenate([[0], np.cumsum([s.n_atoms for s in systems])]).astype(np.int64)
        centre_atoms = owner[merged.centers] - atom_offsets[structure]
        batch_gradients = None
        if gradients:
            rows, atoms = merged.gradient_blocks()
            batch_gradients = Gradients(values, rows, owner[atoms])
        return Batch(features, structure, centre_atoms, merged.species[merged.centers], atom_offsets, batch_gradients)

    def structure_features(self, frames, per_species=False):
        """One row per structure: the mean of its centres' features (n_structures, n_features); with
        per_species=True the means over the centres of each species of the specification's list,
        side by side (n_structures, n_species * n_features), zeros for a species a structure lacks."""
        batch = self.compute_many(frames)
        n_structures = len(batch.atom_offsets) - 1

        def mean_per_structure(rows):
            sums = np.zeros((n_structures, self.n_features))
            np.add.at(sums, batch.structure[rows], batch.features[rows])
            counts = np.bincount(batch.structure[rows], minlength=n_structures)
            return sums / np.maximum(counts, 1)[:, None]

        if not per_species:
            return mean_per_structure(slice(None))
        species = self.parameters.get("species")
        if not species:
            raise AtomfpError(1, "per_species needs a descriptor whose specification lists its species")
        return np.hstack([mean_per_structure(batch.species == z) for z in species])


class Batch:
    """Features of several structures (Descriptor.compute_many): `features` (n_rows, n_features) and
    per row its `structure`, its `atom` within that structure and the centre's `species`;
    `atom_offsets` (n_structures + 1) numbers the atoms of all structures consecutively, which
    `gradients.atoms` uses."""

    def __init__(self, features, structure, atom, species, atom_offsets, gradients):
        self.features, self.structure, self.atom, self.species = features, structure, atom, species
        self.atom_offsets, self.gradients = atom_offsets, gradients

    def __len__(self):
        return len(self.features)


def _flags(remove_rigid, scale_max):
    return (REMOVE_RIGID if remove_rigid else 0) | (SCALE_MAX if scale_max else 0)


def _environment_size(descriptor, c_system, center):
    n = ctypes.c_int64()
    _capi.check(lib.atomfp_sensitivity_size(descriptor._handle, ctypes.byref(c_system), int(center), ctypes.byref(n)))
    return n.value


def sensitivity_matrix(descriptor, atoms, center, remove_rigid=False, scale_max=False):
    """S = J^T J (3N, 3N) of centre `center` (an index into the system's centres)."""
    system = _as_system(atoms, descriptor.cutoff)
    c_system = system.c_struct()
    n = _environment_size(descriptor, c_system, center)
    matrix = np.zeros((3 * n, 3 * n))
    _capi.check(lib.atomfp_sensitivity_matrix(descriptor._handle, ctypes.byref(c_system), int(center),
                                              _flags(remove_rigid, scale_max), _capi.pointer(matrix, ctypes.c_double)))
    return matrix


def sensitivity_spectrum(descriptor, atoms, center, remove_rigid=True, scale_max=False, eigenvectors=False):
    """Eigenvalues (3N,) of the sensitivity matrix in ascending order, rigid modes first as exact
    zeros with remove_rigid; with eigenvectors=True also the eigenvectors as rows (3N, 3N)."""
    system = _as_system(atoms, descriptor.cutoff)
    c_system = system.c_struct()
    n = _environment_size(descriptor, c_system, center)
    values = np.zeros(3 * n)
    vectors = np.zeros((3 * n, 3 * n)) if eigenvectors else None
    _capi.check(lib.atomfp_sensitivity_spectrum(descriptor._handle, ctypes.byref(c_system), int(center),
                                                _flags(remove_rigid, scale_max), _capi.pointer(values, ctypes.c_double),
                                                _capi.pointer(vectors, ctypes.c_double)))
    return (values, vectors) if eigenvectors else values


def blind_spot_indices(descriptor, atoms, threshold=1e-6):
    """Every centre's blind-spot index (n_centers,): the smallest non-rigid eigenvalue of the
    sensitivity matrix over the largest (near 0: some motion leaves the fingerprint unchanged), and
    the number of non-rigid eigenvalues below threshold x the largest (n_centers,)."""
    system = _as_system(atoms, descriptor.cutoff)
    c_system = system.c_struct()
    index = np.zeros(system.n_centers)
    below = np.zeros(system.n_centers, dtype=np.int64)
    _capi.check(lib.atomfp_blind_spot_indices(descriptor._handle, ctypes.byref(c_system), float(threshold),
                                              _capi.pointer(index, ctypes.c_double), _capi.pointer(below, ctypes.c_int64)))
    return index, below


def trace_manifold(descriptor, atoms, center, probes=(), options=None):
    """A manifold of quasi-constant fingerprint from the environment of `center`; options as in
    atomfp_manifold_trace (a dict or JSON string). Returns a dict of per-frame arrays: species (N,),
    positions (frames, N, 3), eigenvalues (frames, 3N), displacement (frames,), distances and
    random_distances (frames, 1 + len(probes)), the traced descriptor first."""
    options = options or {}
    parsed = json.loads(options) if isinstance(options, str) else dict(options)
    text = json.dumps(parsed)
    max_frames = int(parsed.get("steps", 400)) + 1
    system = _as_system(atoms, descriptor.cutoff)
    c_system = system.c_struct()
    n = _environment_size(descriptor, c_system, center)
    columns = 1 + len(probes)
    out = {"species": np.zeros(n, dtype=np.int32), "positions": np.zeros((max_frames, n, 3)),
           "eigenvalues": np.zeros((max_frames, 3 * n)), "displacement": np.zeros(max_frames),
           "distances": np.zeros((max_frames, columns)), "random_distances": np.zeros((max_frames, columns))}
    probe_handles = (ctypes.c_void_p * max(len(probes), 1))(*[p._handle for p in probes])
    n_frames = ctypes.c_int64()
    d = ctypes.c_double
    _capi.check(lib.atomfp_manifold_trace(
        descriptor._handle, len(probes), probe_handles if probes else None, ctypes.byref(c_system), int(center),
        text.encode(), max_frames, ctypes.byref(n_frames), _capi.pointer(out["species"], ctypes.c_int32),
        _capi.pointer(out["positions"], d), _capi.pointer(out["eigenvalues"], d),
        _capi.pointer(out["displacement"], d), _capi.pointer(out["distances"], d),
        _capi.pointer(out["random_distances"], d)))
    return {key: (value if key == "species" else value[:n_frames.value]) for key, value in out.items()}


def compare_features(a, b, seed=1, relative_cutoff=None, lfre_neighbours=15):
    """GFRE, GFRD and LFRE between feature matrices a [n_samples][n_a] and b [n_samples][n_b] of the
    same samples (atomfp_feature_space_compare): a dict with "gfre", "gfrd", "lfre" as
    (a -> b, b -> a) pairs and "pointwise" [2][n_test]."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or len(a) != len(b):
        raise AtomfpError(1, f"a and b must be 2-d with the same number of samples, got {a.shape} and {b.shape}")
    options = {"seed": int(seed), "lfre_neighbours": int(lfre_neighbours)}
    if relative_cutoff is not None:
        options["relative_cutoff"] = float(relative_cutoff)
    gfre, gfrd, lfre = np.zeros(2), np.zeros(2), np.zeros(2)
    pointwise = np.zeros((2, len(a) // 2))
    n_test = ctypes.c_int64()
    d = ctypes.c_double
    _capi.check(lib.atomfp_feature_space_compare(
        len(a), a.shape[1], _capi.pointer(a, d), b.shape[1], _capi.pointer(b, d), json.dumps(options).encode(),
        _capi.pointer(gfre, d), _capi.pointer(gfrd, d), _capi.pointer(lfre, d), _capi.pointer(pointwise, d),
        ctypes.byref(n_test)))
    return {"gfre": gfre, "gfrd": gfrd, "lfre": lfre, "pointwise": pointwise}


def select_features(x, method, n_select):
    """Indices chosen from x [n_samples][n_features] by "cur", "fps_features" or "fps_samples"."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise AtomfpError(1, f"x must be 2-d, got shape {x.shape}")
    selected = np.zeros(max(int(n_select), 1), dtype=np.int64)
    count = ctypes.c_int64()
    _capi.check(lib.atomfp_feature_select(len(x), x.shape[1], _capi.pointer(x, ctypes.c_double), str(method).encode(),
                                          int(n_select), _capi.pointer(selected, ctypes.c_int64), ctypes.byref(count)))
    return selected[:count.value]


class Model(_OwnedHandle):
    """A kernel model of the energy (docs/models.md); load with Model.load(path)."""

    _free_function = "atomfp_model_free"

    def __init__(self, *args, **kwargs):
        raise TypeError("make a Model with atomfp.Model.load(path), Model.from_bytes(data) or Trainer.train()")

    @classmethod
    def _adopt(cls, handle):
        """A Model owning `handle`, a model handle from the library."""
        model = cls.__new__(cls)
        model._handle = handle
        return model

    @classmethod
    def load(cls, path):
        handle = _handle_out()
        _capi.check(lib.atomfp_model_load(str(path).encode(), ctypes.byref(handle)))
        return cls._adopt(handle)

    def to_bytes(self):
        """The model file's contents (docs/model_file.md), as Model.save writes them."""
        with tempfile.TemporaryDirectory(prefix="atomfp-") as directory:
            path = os.path.join(directory, "model.afp")
            self.save(path)
            with open(path, "rb") as f:
                return f.read()

    @classmethod
    def from_bytes(cls, data):
        """A model from the contents of a model file (checked like a file: version, checksum)."""
        with tempfile.TemporaryDirectory(prefix="atomfp-") as directory:
            path = os.path.join(directory, "model.afp")
            with open(path, "wb") as f:
                f.write(data)
            return cls.load(path)

    def _recreate(self):
        return Model.from_bytes, (self.to_bytes(),)

    def save(self, path):
        _capi.check(lib.atomfp_model_save(self._handle, str(path).encode()))

    @property
    def cutoff(self):
        value = ctypes.c_double()
        _capi.check(lib.atomfp_model_cutoff(self._handle, ctypes.byref(value)))
        return value.value

    @property
    def species(self):
        """The central species (atomic numbers) the model has weights for."""
        n = ctypes.c_int64()
        status = lib.atomfp_model_species(self._handle, None, 0, ctypes.byref(n))
        if status != _capi.BUFFER_TOO_SMALL:
            _capi.check(status)
        species = np.zeros(n.value, dtype=np.int32)
        _capi.check(lib.atomfp_model_species(self._handle, _capi.pointer(species, ctypes.c_int32), n.value,
                                             ctypes.byref(n)))
        return species

    @property
    def descriptor(self):
        """The model's descriptor, as a Descriptor (for blind_spot_indices, features, ...)."""
        return Descriptor(self.header["descriptor"])

    @property
    def header(self):
        """The model file's header as a dict: descriptor, kernel, units, species blocks and metadata."""
        return json.loads(_capi.query_string(lib.atomfp_model_header, self._handle))

    @property
    def metadata(self):
        """What the fit recorded: settings, training files with their SHA-256, structures per
        config_type, training and cross-validation errors, library version and date."""
        return self.header["metadata"]

    def predict(self, atoms, forces=True, virial=True):
        """A dict with energy (eV), energies (n_centers,), and unless switched off forces
        (n_atoms, 3) in eV/Å and virial (3, 3) in eV; for a periodic ase.Atoms also stress (3, 3),
        eV/Å^3, -virial / volume."""
        system = _as_system(atoms, self.cutoff)
        energy = np.zeros(1)
        energies = np.zeros(system.n_centers)
        force_array = np.zeros((system.n_atoms, 3)) if forces else None
        virial_array = np.zeros((3, 3)) if virial else None
        c_system = system.c_struct()
        d = ctypes.c_double
        _capi.check(lib.atomfp_model_predict(self._handle, ctypes.byref(c_system), _capi.pointer(energy, d),
                                             _capi.pointer(energies, d), _capi.pointer(force_array, d),
                                             _capi.pointer(virial_array, d)))
        result = {"energy": float(energy[0]), "energies": energies}
        if forces:
            result["forces"] = force_array
        if virial:
            result["virial"] = virial_array
            if system.cell is not None and not isinstance(atoms, System) and np.all(atoms.pbc):
                result["stress"] = -virial_array / abs(np.linalg.det(system.cell))
        return result

    def predict_variance(self, atoms):
        """The posterior variances (eV²) of the energy: {"energy_variance": of the total,
        "variances": [n_centers] of each centre's local energy}. AtomfpError ATOMFP_ERROR_NOT_AVAILABLE
        for a model without a posterior covariance."""
        system = _as_system(atoms, self.cutoff)
        total = np.zeros(1)
        variances = np.zeros(system.n_centers)
        c_system = system.c_struct()
        d = ctypes.c_double
        _capi.check(lib.atomfp_model_predict_variance(self._handle, ctypes.byref(c_system), _capi.pointer(variances, d),
                                                      _capi.pointer(total, d)))
        return {"energy_variance": float(total[0]), "variances": variances}

    def variance_gradient(self, atoms, coefficients):
        """The derivatives of U = sum_c coefficients[c] * variances[c]: (gradient (n_atoms, 3),
        +dU/dx in eV²/Å; virial (3, 3), -dU/d(strain) in eV²), what a bias on the uncertainty needs."""
        system = _as_system(atoms, self.cutoff)
        weights = np.ascontiguousarray(coefficients, dtype=float)
        if weights.shape != (system.n_centers,):
            raise ValueError(f"coefficients: one per centre ({system.n_centers}), got shape {weights.shape}")
        gradient = np.zeros((system.n_atoms, 3))
        virial = np.zeros((3, 3))
        c_system = system.c_struct()
        d = ctypes.c_double
        _capi.check(lib.atomfp_model_variance_gradient(self._handle, ctypes.byref(c_system), _capi.pointer(weights, d),
                                                       _capi.pointer(gradient, d), _capi.pointer(virial, d)))
        return gradient, virial

    def extrapolation(self, atoms):
        """Every centre's number of features outside their training range (n_centers,) and the
        largest excess beyond it in units of the range's width (n_centers,)."""
        system = _as_system(atoms, self.cutoff)
        outside = np.zeros(system.n_centers, dtype=np.int64)
        excess = np.zeros(system.n_centers)
        c_system = system.c_struct()
        _capi.check(lib.atomfp_model_extrapolation(self._handle, ctypes.byref(c_system), _capi.pointer(outside, ctypes.c_int64),
                                                   _capi.pointer(excess, ctypes.c_double)))
        return outside, excess


class Trainer(_OwnedHandle):
    """Collects structures and fits a kernel model; the configuration has the keys of
    `atomfp fit --config` (a dict or a JSON string)."""

    _free_function = "atomfp_trainer_free"

    def __init__(self, config):
        text = config if isinstance(config, str) else json.dumps(config)
        self._handle = _handle_out()
        _capi.check(lib.atomfp_trainer_create(text.encode(), ctypes.byref(self._handle)))

    # The structure keys the fit reads, as in an extended-XYZ comment line (docs/models.md).
    STRUCTURE_KEYS = ("config_type", "energy_sigma", "force_sigma", "virial_sigma")

    def add(self, atoms, energy=None, forces=None, virial=None, **keys):
        """Adds one ase.Atoms with its labels: energy (eV), forces (n_atoms, 3) eV/Å, virial (3, 3) eV.
        The structure keys config_type, energy_sigma, force_sigma and virial_sigma are taken from
        atoms.info, as `atomfp fit` takes them from a file; keyword arguments override them."""
        unknown = set(keys) - set(self.STRUCTURE_KEYS)
        if unknown:
            raise TypeError(f"unknown structure keys {sorted(unknown)}; known: {list(self.STRUCTURE_KEYS)}")
        info = getattr(atoms, "info", {})
        structure_keys = {k: info[k] for k in self.STRUCTURE_KEYS if k in info}
        structure_keys.update({k: v for k, v in keys.items() if v is not None})
        for k, v in structure_keys.items():
            v = v.item() if isinstance(v, np.generic) else v
            # Checked before the structure is added, so that a bad key adds nothing.
            good = isinstance(v, str) if k == "config_type" else (
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0)
            if not good:
                raise AtomfpError(_capi.JSON_ERROR, f"structure key {k}={v!r} is not "
                                  + ("a string" if k == "config_type" else "a positive number"))
            structure_keys[k] = v
        positions = np.ascontiguousarray(atoms.get_positions(), dtype=np.float64)
        species = np.ascontiguousarray(atoms.numbers, dtype=np.int32)
        pbc = np.asarray(atoms.pbc, dtype=bool)
        cell = np.ascontiguousarray(atoms.cell, dtype=np.float64) if pbc.any() else None
        pbc_array = np.ascontiguousarray(pbc.astype(np.int32)) if pbc.any() else None
        energy_array = None if energy is None else np.array([energy], dtype=np.float64)
        forces = None if forces is None else np.ascontiguousarray(forces, dtype=np.float64).reshape(-1, 3)
        virial = None if virial is None else np.ascontiguousarray(virial, dtype=np.float64).reshape(3, 3)
        if forces is not None and len(forces) != len(positions):
            raise AtomfpError(1, f"forces has {len(forces)} rows but the structure has {len(positions)} atoms")
        d = ctypes.c_double
        _capi.check(lib.atomfp_trainer_add_structure(
            self._handle, len(positions), _capi.pointer(positions, d), _capi.pointer(species, ctypes.c_int32),
            _capi.pointer(cell, d), _capi.pointer(pbc_array, ctypes.c_int32), _capi.pointer(energy_array, d),
            _capi.pointer(forces, d), _capi.pointer(virial, d)))
        if structure_keys:
            _capi.check(lib.atomfp_trainer_set_structure_keys(self._handle, len(self) - 1,
                                                              json.dumps(structure_keys).encode()))

    def __len__(self):
        n = ctypes.c_int64()
        _capi.check(lib.atomfp_trainer_size(self._handle, ctypes.byref(n)))
        return n.value

    def train(self):
        handle = _handle_out()
        _capi.check(lib.atomfp_trainer_train(self._handle, ctypes.byref(handle)))
        return Model._adopt(handle)

    @property
    def summary(self):
        """The last fit's summary (numbers of rows and references, baselines, training errors)."""
        return json.loads(_capi.query_string(lib.atomfp_trainer_summary, self._handle))
