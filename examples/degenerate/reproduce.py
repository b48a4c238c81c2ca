#!/usr/bin/python3
"""Degenerate environments (Pozdnyakov et al. 2020; 2021): pairs of environments that no three-body
(nu = 2) descriptor can tell apart, which a four-body one (nu = 3) separates, and the spurious zero
singular value where the two branches of such a pair meet.

The construction: a centre and four like neighbours on a sphere of radius r. Every nu = 2 feature
of the centre is a sum over ordered pairs of neighbours of a function of (r_j, r_k, cos theta_jk), so
it depends only on the multiset of the six neighbour-pair cosines. The Gram matrix G of the four
unit vectors holds those cosines on its edges (12, 13, 14, 23, 24, 34); four vectors in space need
det G = 0 (rank 3). Exchanging the cosines of the edges 12 and 13 alone is not a relabelling of
the atoms, so when G and the exchanged G' both have determinant zero (and are positive
semi-definite) they are two environments A+ and A- with the same multiset of cosines and different
geometry: identical power spectra, different bispectra (triangles 1-2-4 and 1-3-4 have different
edges). Where the two branches meet (cos_12 = cos_13 and equal cofactors of the two entries, so that
det G stays zero to first order along the exchange) the power spectrum is even along the exchange
direction: its Jacobian gains a zero singular value that no symmetry explains.

usage: reproduce.py OUTPUT_DIR      (writes summary.md; exits non-zero if a finding is not reproduced)
"""
import itertools
import json
import pathlib
import sys

import ase.io
import numpy as np
from ase import Atoms

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here.parents[1] / "interfaces" / "python"))
import atomfp  # noqa: E402

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
RADIUS = 1.1   # Å, every neighbour
EDGES = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
EXCHANGED = [1, 0, 2, 3, 4, 5]  # the cosines of edges 12 and 13 trade places

SPECS = {
    "power spectrum (nu = 2)": {"type": "soap_power_spectrum", "species": [1, 6], "cutoff": 3.0,
                                "atomic_gaussian_width": 0.3, "max_radial": 8, "max_angular": 6},
    "ACSF (nu = 2)": {"type": "acsf", "species": [1, 6], "cutoff": 3.0},
    "bispectrum (nu = 3)": {"type": "soap_bispectrum", "species": [1, 6], "cutoff": 3.0,
                            "atomic_gaussian_width": 0.3, "max_radial": 4, "max_angular": 4},
    "s+p OMFP": {"type": "omfp", "species": [1, 6], "cutoff": 3.0, "max_atoms": 5},
}
THREE_BODY = ("power spectrum (nu = 2)", "ACSF (nu = 2)")


def gram(cosines):
    g = np.eye(4)
    for (i, j), c in zip(EDGES, cosines):
        g[i, j] = g[j, i] = c
    return g


def cofactor(g, i, j):
    return (-1) ** (i + j) * np.linalg.det(np.delete(np.delete(g, i, 0), j, 1))


def vectors(cosines):
    """Four unit vectors with these pair cosines (the Gram matrix must have rank 3)."""
    values, basis = np.linalg.eigh(gram(cosines))
    assert values[0] > -1e-12 and values[1] > 1e-6, values
    return basis[:, 1:] * np.sqrt(values[1:])


def newton(residual, x, iterations=60):
    """Solves residual(x) = 0 (as many equations as unknowns) by Newton with central-difference
    Jacobians; returns the root or None."""
    for _ in range(iterations):
        r = residual(x)
        if np.max(np.abs(r)) < 1e-15:
            return x
        h = 1e-7
        jacobian = np.array([(residual(x + h * e) - residual(x - h * e)) / (2 * h) for e in np.eye(len(x))]).T
        try:
            x = x - np.linalg.solve(jacobian, r)
        except np.linalg.LinAlgError:
            return None
        if np.max(np.abs(x)) > 1:
            return None
    return x if np.max(np.abs(residual(x))) < 1e-13 else None


def congruent(a, b):
    """Whether two cosine sets describe the same four vectors up to a relabelling (and O(3))."""
    ga, gb = gram(a), gram(b)
    return min(np.abs(ga - gb[np.ix_(p, p)]).max() for p in itertools.permutations(range(4))) < 1e-9


def environment(unit_vectors):
    return Atoms("CH4", positions=np.vstack([[0, 0, 0], RADIUS * unit_vectors]))


def features(name, atoms):
    return atomfp.Descriptor(SPECS[name]).compute(atoms)[0]


def non_rigid_spectrum(name, atoms):
    values = atomfp.sensitivity_spectrum(atomfp.Descriptor(SPECS[name]), atoms, 0, remove_rigid=True, scale_max=True)
    return values[6:]  # rigid modes first, exact zeros


rng = np.random.default_rng(2020)


def random_cosines():
    """The six pair cosines of four random unit vectors."""
    start = rng.standard_normal((4, 3))
    start /= np.linalg.norm(start, axis=1)[:, None]
    g0 = start @ start.T
    return np.array([g0[i, j] for i, j in EDGES])


summary, failures = [], []


def expect(condition, text):
    summary.append(f"- [{'x' if condition else ' '}] {text}")
    if not condition:
        failures.append(text)


# ---- 1. degenerate pairs ----------------------------------------------------------------------
summary.append("## Degenerate pairs: the same nu = 2 features, different geometry\n")
summary.append("| pair | cos 12, cos 13 | relative difference of the features A+ vs A- | | | |")
summary.append("|---|---|---|---|---|---|")
summary.append("| | | " + " | ".join(SPECS) + " |")
pairs = []
while len(pairs) < 3:
    fixed = random_cosines()

    def residual(ab):
        c = fixed.copy()
        c[0], c[1] = ab
        return np.array([np.linalg.det(gram(c)), np.linalg.det(gram(c[EXCHANGED]))])

    root = newton(residual, fixed[:2] + 0.05 * rng.standard_normal(2))
    if root is None:
        continue
    plus = fixed.copy()
    plus[0], plus[1] = root
    minus = plus[EXCHANGED]
    if abs(plus[0] - plus[1]) < 0.05 or congruent(plus, minus):
        continue
    if min(np.linalg.eigvalsh(gram(plus))[1], np.linalg.eigvalsh(gram(minus))[1]) < 1e-3:
        continue
    pairs.append((plus, minus))

for k, (plus, minus) in enumerate(pairs):
    a, b = environment(vectors(plus)), environment(vectors(minus))
    differences = {}
    for name in SPECS:
        fa, fb = features(name, a), features(name, b)
        differences[name] = np.linalg.norm(fa - fb) / np.linalg.norm(fa)
    summary.append(f"| {k} | {plus[0]:.4f}, {plus[1]:.4f} | " + " | ".join(f"{differences[n]:.1e}" for n in SPECS) + " |")
    ase_pair = [a, b]
    for atoms, sign in zip(ase_pair, "+-"):
        atoms.info["pair"] = k
        atoms.info["branch"] = sign
    ase.io.write(out / f"pair_{k}.extxyz", ase_pair, format="extxyz")
    for name in THREE_BODY:
        expect(differences[name] < 1e-12, f"pair {k}: {name} features of A+ and A- agree to {differences[name]:.1e}")
    expect(differences["bispectrum (nu = 3)"] > 1e-4,
           f"pair {k}: the bispectrum separates them (relative difference {differences['bispectrum (nu = 3)']:.1e})")
    expect(differences["s+p OMFP"] > 1e-4, f"pair {k}: so does the s+p OMFP ({differences['s+p OMFP']:.1e})")
    expect(not congruent(plus, minus), f"pair {k}: A+ and A- are not related by a rotation, reflection or relabelling")

# ---- 2. where the branches meet: a degenerate singularity ---------------------------------------
summary.append("\n## Where the branches meet: a zero singular value without symmetry\n")
summary.append("| structure | " + " | ".join(f"smallest / next non-rigid eigenvalue, {n}" for n in SPECS) + " |")
summary.append("|---|" + "---|" * len(SPECS))
while True:
    fixed = random_cosines()

    # cos12 = cos13 = x[0] and cos14 = x[1], solved for det G = 0 and equal cofactors of 12 and 13;
    # cos24 and cos34 stay as drawn, so the exchange of atoms 2 and 3 is not a symmetry.
    def meeting(x):
        c = fixed.copy()
        c[0] = c[1] = x[0]
        c[2] = x[1]
        g = gram(c)
        return np.array([np.linalg.det(g), cofactor(g, 0, 1) - cofactor(g, 0, 2)])

    root = newton(meeting, np.array([0.5 * (fixed[0] + fixed[1]), fixed[2]]))
    if root is None:
        continue
    centre = fixed.copy()
    centre[0] = centre[1] = root[0]
    centre[2] = root[1]
    if np.linalg.eigvalsh(gram(centre))[1] < 1e-2 or abs(centre[4] - centre[5]) < 0.05:
        continue
    break
meet = environment(vectors(centre))
generic = meet.copy()
generic.positions[1:] += 0.03 * rng.standard_normal((4, 3))
rows = {}
for label, atoms in (("meeting point A0", meet), ("A0 moved randomly by 0.03 Å", generic)):
    rows[label] = {name: non_rigid_spectrum(name, atoms)[:2] for name in SPECS}
    summary.append(f"| {label} | " + " | ".join(f"{rows[label][n][0]:.1e} / {rows[label][n][1]:.1e}" for n in SPECS) + " |")
ase.io.write(out / "meeting_point.extxyz", [meet], format="extxyz")
symmetries = [p for p in itertools.permutations(range(4)) if p != (0, 1, 2, 3) and
              np.abs(gram(centre)[np.ix_(p, p)] - gram(centre)).max() < 1e-6]
expect(not symmetries, "A0 has no symmetry: no relabelling of its neighbours leaves their cosines in place")
for name in THREE_BODY:
    at, away = rows["meeting point A0"][name][0], rows["A0 moved randomly by 0.03 Å"][name][0]
    expect(at < 1e-12 and away > 1e-9, f"{name}: a zero non-rigid eigenvalue at A0 ({at:.1e}, scaled), lifted away from "
           f"it ({away:.1e})")
for name in ("bispectrum (nu = 3)", "s+p OMFP"):
    expect(rows["meeting point A0"][name][0] > 1e-5, f"{name}: no zero at A0 ({rows['meeting point A0'][name][0]:.1e})")

text = ("# Degenerate environments (Pozdnyakov et al. 2020, 2021)\n\n" + "\n".join(summary) + "\n")
(out / "summary.md").write_text(text)
(out / "pairs.json").write_text(json.dumps({"pairs": [[p.tolist(), m.tolist()] for p, m in pairs],
                                            "meeting_point": centre.tolist()}, indent=1))
print(text)
print(f"{len(summary) - len(failures)} lines, {len(failures)} failed")
sys.exit(1 if failures else 0)
