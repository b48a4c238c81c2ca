"""Many structures as one system, centre subsets, strain gradients and feature metadata: the NumPy
side of Descriptor.compute_many, compute(centers=...), strain gradients and feature_metadata.

The C library parallelises one call over its centres, so several structures are described in one
call by merging them into a single system in the ghost-atom convention: every periodic image that
a neighbour list refers to becomes an explicit atom at x_j + shift @ cell, and no cell is passed.
Descriptors depend only on the displacement vectors, so features and gradient blocks are exactly
those of each structure alone; `owner` maps every merged atom back to its structure's atom.
"""
import re

import numpy as np


def merge(systems):
    """One open (cell-less) System equivalent to `systems`, plus for each merged atom the global
    index of the atom it stands for (atoms of all structures numbered consecutively) and, for each
    centre, its structure."""
    from . import System
    positions, species, owner, centers, neighbours, counts, structure = [], [], [], [], [], [], []
    n_merged = 0
    n_global = 0
    for s_index, system in enumerate(systems):
        n = system.n_atoms
        index = np.arange(n)
        positions.append(system.positions)
        species.append(system.species)
        owner.append(n_global + index)
        base = n_merged
        n_merged += n
        targets = system.neighbours + base
        if system.cell_shifts is not None and system.n_pairs:
            imaged = np.flatnonzero(np.any(system.cell_shifts != 0, axis=1))
            if len(imaged):
                j = system.neighbours[imaged]
                positions.append(system.positions[j] + system.cell_shifts[imaged] @ system.cell)
                species.append(system.species[j])
                owner.append(n_global + j)
                targets = targets.copy()
                targets[imaged] = n_merged + np.arange(len(imaged))
                n_merged += len(imaged)
        centers.append(system.centers + base)
        neighbours.append(targets)
        counts.append(np.diff(system.offsets))
        structure.append(np.full(system.n_centers, s_index, dtype=np.int64))
        n_global += n
    counts = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    merged = System(np.concatenate(positions) if positions else np.zeros((0, 3)),
                    np.concatenate(species) if species else np.zeros(0, dtype=np.int32),
                    np.concatenate(centers) if centers else np.zeros(0, dtype=np.int64), offsets,
                    np.concatenate(neighbours) if neighbours else np.zeros(0, dtype=np.int64))
    return merged, np.concatenate(owner) if owner else np.zeros(0, dtype=np.int64), \
        np.concatenate(structure) if structure else np.zeros(0, dtype=np.int64)


def restrict(system, centers):
    """The same atoms with only the listed centres (indices into system.centers), in that order."""
    from . import AtomfpError, System
    rows = np.asarray(centers, dtype=np.int64).reshape(-1)
    if len(rows) and (rows.min() < 0 or rows.max() >= system.n_centers):
        raise AtomfpError(1, f"centers must index the {system.n_centers} centres, got {rows.min()}..{rows.max()}")
    starts, ends = system.offsets[rows], system.offsets[rows + 1]
    pairs = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]) if len(rows) else np.zeros(0, np.int64)
    pairs = pairs.astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
    return System(system.positions, system.species, system.centers[rows], offsets, system.neighbours[pairs],
                  cell=system.cell, cell_shifts=None if system.cell_shifts is None else system.cell_shifts[pairs])


def pair_vectors(system):
    """r_ij = x_j - x_i + shift @ cell for every pair of the list, (n_pairs, 3)."""
    centre_of_pair = np.repeat(system.centers, np.diff(system.offsets))
    r = system.positions[system.neighbours] - system.positions[centre_of_pair]
    if system.cell_shifts is not None:
        r = r + system.cell_shifts @ system.cell
    return r


def strain_gradients(system, values):
    """dF_c/d(strain) (n_centers, 3, 3, n_features) from the gradient blocks `values`
    (n_blocks, 3, n_features): under x -> (1 + e) x every pair vector moves by e r_ij, so
    dF_c/de_ab = sum over the pairs of c of (dF_c/dr_ij)_a (r_ij)_b. The centre blocks carry no
    separation and are not needed."""
    per_pair = np.einsum("paf,pb->pabf", values[system.pair_blocks()], pair_vectors(system))
    result = np.zeros((system.n_centers, 3, 3, values.shape[2]))
    np.add.at(result, np.repeat(np.arange(system.n_centers), np.diff(system.offsets)), per_pair)
    return result


_LABEL = re.compile(r"^(?P<kind>[^\[\(]*)(?:\[(?P<groups>[^\]]*)\])?(?:\((?P<parameters>[^\)]*)\))?$")


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def feature_metadata(labels):
    """Arrays describing each feature, parsed once here from the library's labels
    ("p[Si,n=0;C,n=1,l=2]", "G9[Si,C](eta=0.1,zeta=1,lambda=-1,r_s=0)", "lambda(3)"):
    "kind" (strings), "species" or "species_1", "species_2", ... (atomic numbers, 0 where absent),
    and one float array per parameter (NaN where absent). A parameter that occurs more than once in
    a label (n in a power spectrum) is numbered in order of appearance: n_1, n_2; a bare number in
    parentheses is "index"."""
    from . import _elements
    parsed = []
    for label in labels:
        match = _LABEL.match(label.strip())
        kind, species, values = label, [], []
        if match:
            kind = match.group("kind").strip()
            for group in (match.group("groups") or "").split(";"):
                for token in filter(None, (t.strip() for t in group.split(","))):
                    key, eq, value = token.partition("=")
                    if eq:
                        values.append((key, _number(value)))
                    else:
                        species.append(_elements.atomic_number(token))
            for token in filter(None, (t.strip() for t in (match.group("parameters") or "").split(","))):
                key, eq, value = token.partition("=")
                values.append((key, _number(value)) if eq else ("index", _number(token)))
        parsed.append((kind, species, values))

    max_species = max((len(s) for _, s, _ in parsed), default=0)
    repeats = {}
    for _, _, values in parsed:
        seen = {}
        for key, _ in values:
            seen[key] = seen.get(key, 0) + 1
        for key, count in seen.items():
            repeats[key] = max(repeats.get(key, 0), count)

    n = len(labels)
    out = {"kind": np.array([kind for kind, _, _ in parsed], dtype=str)}
    if max_species == 1:
        out["species"] = np.zeros(n, dtype=np.int32)
    for k in range(max_species if max_species > 1 else 0):
        out[f"species_{k + 1}"] = np.zeros(n, dtype=np.int32)
    for key, count in repeats.items():
        for k in range(count):
            out[key if count == 1 else f"{key}_{k + 1}"] = np.full(n, np.nan)
    for row, (_, species, values) in enumerate(parsed):
        for k, z in enumerate(species):
            out["species" if max_species == 1 else f"species_{k + 1}"][row] = z
        seen = {}
        for key, value in values:
            seen[key] = seen.get(key, 0) + 1
            name = key if repeats[key] == 1 else f"{key}_{seen[key]}"
            out[name][row] = np.nan if value is None else value
    return out
