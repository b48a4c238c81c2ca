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

# ---- 3. regression on a grid of two displacements (Pozdnyakov et al. 2021, Table 1) -----------------
# A force-field-like energy of CH4 (eV): harmonic C-H bonds and H-C-H angles, and a torsion term,
# the only part that tells the two branches of a degenerate pair apart (their bond and angle
# multisets are equal, so every two- and three-body energy is too).
K_BOND, R0, K_ANGLE, THETA0, K_TORSION = 30.0, 1.09, 3.0, np.arccos(-1 / 3), 0.5
AMPLITUDE = 0.01  # Å, largest atomic displacement at Δ = ±1
GRID = np.linspace(-1, 1, 21)
REGRESSION_SPECS = {
    "power spectrum (ν = 2)": SPECS["power spectrum (nu = 2)"],
    "bispectrum (ν = 3)": SPECS["bispectrum (nu = 3)"],
    "OMFP": SPECS["s+p OMFP"],
    # The default projection (K = max_atoms, Q = 32): K = 1, Q = 128, which lifts the blind direction
    # of CH4 in the sensitivity example, spreads the features over a range that a Gaussian kernel on
    # Euclidean distances fits poorly here (README).
    "smooth OMFP": {"type": "omfp", "species": [1, 6], "cutoff": 3.0, "max_atoms": 5, "projection": "smooth"},
}


def energy(positions):
    bonds = positions[1:] - positions[0]
    r = np.linalg.norm(bonds, axis=1)
    e = 0.5 * K_BOND * np.sum((r - R0) ** 2)
    torsion = 0.0
    for i, j in itertools.combinations(range(4), 2):
        e += 0.5 * K_ANGLE * (np.arccos(bonds[i] @ bonds[j] / (r[i] * r[j])) - THETA0) ** 2
    for i, j, k in itertools.permutations(range(4), 3):
        n1, n2 = np.cross(-bonds[i], bonds[j]), np.cross(bonds[j], bonds[k] - bonds[j])
        torsion += (n1 @ n2) ** 2 / ((n1 @ n1) * (n2 @ n2))
    return e + K_TORSION * torsion / 24


def unit_move(vector):
    """A displacement of the five atoms scaled so that its largest atomic move is 1."""
    v = vector.reshape(5, 3)
    return v / np.linalg.norm(v, axis=1).max()


def principal_moves(atoms):
    """The non-rigid sensitivity eigenvectors of the power spectrum with the largest and smallest
    eigenvalue (u1, u2)."""
    values, vectors = atomfp.sensitivity_spectrum(atomfp.Descriptor(SPECS["power spectrum (nu = 2)"]), atoms, 0,
                                                  remove_rigid=True, eigenvectors=True)
    return unit_move(vectors[-1]), unit_move(vectors[6])


tetrahedron = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3)
symmetric = Atoms("CH4", positions=np.vstack([[0, 0, 0], R0 * tetrahedron]))
breathing = unit_move(np.vstack([[0, 0, 0], tetrahedron]))
odd_stretch = unit_move(np.vstack([[0, 0, 0], tetrahedron * np.array([1, 1, -1, -1])[:, None]]))
asymmetric = symmetric.copy()
asymmetric.positions[1:] += 0.3 * rng.standard_normal((4, 3)) / np.sqrt(3)
cases = {"asymmetric": (asymmetric, *principal_moves(asymmetric)), "symmetric": (symmetric, breathing, odd_stretch),
         "degenerate": (meet, *principal_moves(meet))}


def squared_distances(a, b):
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0)


def best_krr(x_train, y_train, x_test, y_test):
    """Test RMSE of Gaussian-kernel ridge regression with (γ, σ²) chosen on the test points, as the
    paper does (the same leak for every model keeps the comparison fair)."""
    d2 = squared_distances(x_train, x_train)
    scale = 1.0 / max(np.median(d2[np.triu_indices(len(x_train), 1)]), 1e-300)
    cross = squared_distances(x_test, x_train)
    best = np.inf
    for gamma in 10.0 ** np.arange(-3, 2.5, 0.5):
        k = np.exp(-gamma * scale * d2)
        for sigma2 in 10.0 ** np.arange(-14, -3.0):
            alpha = np.linalg.solve(k + sigma2 * np.eye(len(y_train)), y_train - y_train.mean())
            prediction = np.exp(-gamma * scale * cross) @ alpha + y_train.mean()
            best = min(best, float(np.sqrt(np.mean((prediction - y_test) ** 2))))
    return best


summary.append("\n## Regression on a grid of two displacements (Pozdnyakov et al. 2021, Table 1)\n")
summary.append(f"Test RMSE (μeV) on the {len(GRID)} × {len(GRID)} grid Δ1 u1 + Δ2 u2 (|Δ| ≤ 1, largest atomic move "
               f"{AMPLITUDE} Å) without the training points; paper values in brackets.\n")
summary.append("| structure and training grid | " + " | ".join(REGRESSION_SPECS) + " | energy range (meV) |")
summary.append("|---|" + "---|" * (len(REGRESSION_SPECS) + 1))
PAPER = {("asymmetric", 3): (89, 48, 230, 16), ("asymmetric", 7): (0.3, 5.6, 0.06, 0.1),
         ("symmetric", 3): (49, 140, 570, 48), ("symmetric", 7): (5.8, 5.4, 37, 5.3),
         ("degenerate", 3): (9600, 150, 6.5, 1.4), ("degenerate", 7): (5700, 0.42, 0.11, 0.06)}
errors = {}
for case, (atoms, u1, u2) in cases.items():
    grid_frames, grid_energies, points = [], [], []
    for a, b in itertools.product(GRID, GRID):
        moved = atoms.copy()
        moved.positions = atoms.positions + AMPLITUDE * (a * u1 + b * u2)
        grid_frames.append(moved)
        grid_energies.append(energy(moved.positions))
        points.append((a, b))
    grid_energies, points = np.array(grid_energies), np.array(points)
    if case == "symmetric":  # the odd stretch maps to its negative under an S4 operation (their eq 17)
        table = grid_energies.reshape(len(GRID), len(GRID))
        asymmetry = np.abs(table - table[:, ::-1]).max()
        expect(asymmetry < 1e-12, f"symmetric structure: the energy is even along the odd stretch (largest "
               f"|E(Δ1, Δ2) − E(Δ1, −Δ2)| {asymmetry:.1e} eV)")
    grid_features = {name: np.array([atomfp.Descriptor(spec).compute(f)[0] for f in grid_frames])
                     for name, spec in REGRESSION_SPECS.items()}
    for n in (3, 7):
        train_points = np.array(list(itertools.product(np.linspace(-1, 1, n), repeat=2)))
        train_frames = []
        for a, b in train_points:
            moved = atoms.copy()
            moved.positions = atoms.positions + AMPLITUDE * (a * u1 + b * u2)
            train_frames.append(moved)
        train_energies = np.array([energy(f.positions) for f in train_frames])
        test = ~np.array([np.any(np.all(np.abs(train_points - p) < 1e-9, axis=1)) for p in points])
        row = {}
        for name, spec in REGRESSION_SPECS.items():
            descriptor = atomfp.Descriptor(spec)
            x_train = np.array([descriptor.compute(f)[0] for f in train_frames])
            row[name] = 1e6 * best_krr(x_train, train_energies, grid_features[name][test], grid_energies[test])
        errors[case, n] = row
        summary.append(f"| {case}, {n} × {n} | " + " | ".join(f"{row[name]:.3g} ({paper})" for name, paper in
                                                           zip(REGRESSION_SPECS, PAPER[case, n])) +
                       f" | {1e3 * np.ptp(grid_energies):.0f} |")
ps, bs, om, smooth = REGRESSION_SPECS
worst_other = max(errors["degenerate", 3][name] for name in (bs, om, smooth))
expect(errors["degenerate", 3][ps] > 10 * worst_other,
       f"degenerate structure, 3 × 3: the power spectrum fits the energy ≥ 10× worse than every four-body model "
       f"({errors['degenerate', 3][ps]:.3g} μeV against at most {worst_other:.3g})")
worst_other = max(errors["degenerate", 7][name] for name in (bs, om, smooth))
expect(errors["degenerate", 7][ps] > 1000 * worst_other,
       f"degenerate structure: the finer grid cures every four-body model (at most {worst_other:.3g} μeV) but not the "
       f"power spectrum ({errors['degenerate', 3][ps]:.3g} → {errors['degenerate', 7][ps]:.3g} μeV)")
for n in (3, 7):
    expect(errors["symmetric", n][om] > 10 * errors["symmetric", n][smooth],
           f"symmetric structure, {n} × {n}: the sorted OMFP fits ≥ 10× worse than the smooth OMFP "
           f"({errors['symmetric', n][om]:.3g} against {errors['symmetric', n][smooth]:.3g} μeV): the cusp of sorting at Δ2 = 0")
for name in (bs, om, smooth):
    expect(errors["asymmetric", 7][name] < errors["asymmetric", 3][name],
           f"asymmetric structure: {name} improves from 3 × 3 to 7 × 7 ({errors['asymmetric', 3][name]:.3g} → "
           f"{errors['asymmetric', 7][name]:.3g} μeV)")

text = ("# Degenerate environments (Pozdnyakov et al. 2020, 2021)\n\n" + "\n".join(summary) + "\n")
(out / "summary.md").write_text(text)
(out / "pairs.json").write_text(json.dumps({"pairs": [[p.tolist(), m.tolist()] for p, m in pairs],
                                            "meeting_point": centre.tolist()}, indent=1))
print(text)
print(f"{len(summary) - len(failures)} lines, {len(failures)} failed")
sys.exit(1 if failures else 0)
