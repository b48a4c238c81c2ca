"""Checks `atomfp manifold` and `atomfp perturb` against independent NumPy/ASE routes: D from a
brute-force superposition (Kabsch over every relabelling of the hydrogens), fingerprint distances
and perturbation curves from `atomfp describe` on the frames, the slopes from a NumPy fit; the
SVG files parse as SVG; bad input fails cleanly.

usage: check_analysis_cli.py ATOMFP_EXECUTABLE WORK_DIR
"""
import itertools
import json
import os
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.io import read, write

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import Checks  # noqa: E402

exe, work = sys.argv[1:3]
os.makedirs(work, exist_ok=True)
checks = Checks(exe)
check, run = checks.check, checks.run


def write_json(name, value):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        json.dump(value, f)
    return path


def write_exact(path, atoms_list):
    """Extended XYZ with every digit of the positions (ASE keeps eight decimals)."""
    with open(path, "w") as f:
        for atoms in atoms_list:
            f.write(f"{len(atoms)}\n")
            if atoms.pbc.any():
                lattice = " ".join(f"{x:.17g}" for x in atoms.cell.array.ravel())
                f.write(f'Lattice="{lattice}" Properties=species:S:1:pos:R:3 pbc="T T T"\n')
            else:
                f.write('Properties=species:S:1:pos:R:3 pbc="F F F"\n')
            for symbol, p in zip(atoms.get_chemical_symbols(), atoms.positions):
                f.write(f"{symbol} {p[0]:.17g} {p[1]:.17g} {p[2]:.17g}\n")


def centre_features(spec, atoms_list):
    """Features of atom 0 of every structure, through `atomfp describe`."""
    path = os.path.join(work, "frames.extxyz")
    write_exact(path, atoms_list)
    out = os.path.join(work, "frames.npy")
    run("describe", "--spec", spec, path, "-o", out, "--centers", "0", "--quiet")
    return np.load(out).reshape(len(atoms_list), -1)


def is_svg(path):
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError:
        return False
    return root.tag.endswith("svg") and float(root.get("width")) > 0


def kabsch_max_deviation(reference, moving, permute):
    """Largest atomic deviation after the best superposition (by RMSD), brute force over
    relabellings of atoms 1.. (all hydrogens here)."""
    x = reference - reference.mean(axis=0)
    best = None
    orders = itertools.permutations(range(1, len(moving))) if permute else [tuple(range(1, len(moving)))]
    for order in orders:
        y = moving[[0, *order]]
        y = y - y.mean(axis=0)
        u, _, vt = np.linalg.svd(y.T @ x)
        d = np.sign(np.linalg.det(u @ vt))
        rotation = u @ np.diag([1, 1, d]) @ vt
        deviation = np.linalg.norm(y @ rotation - x, axis=1)
        rmsd = np.sqrt(np.mean(deviation**2))
        if best is None or rmsd < best[0]:
            best = (rmsd, deviation.max())
    return best[1]


# ---- manifold ----------------------------------------------------------------------------------
methane = Atoms("CH4", positions=[[0, 0, 0], [0.496054, 0.743703, 0.705441], [-0.653304, -0.562752, 0.662293],
                                  [0.590436, -0.552564, -0.622454], [-0.653474, 0.614110, -0.584179]])
structure = os.path.join(work, "ch4.extxyz")
write(structure, methane, format="extxyz")
soap = write_json("soap.json", {"type": "soap_power_spectrum", "species": [1, 6], "cutoff": 4.0,
                                "atomic_gaussian_width": 0.3, "max_radial": 6, "max_angular": 6})
omfp = write_json("omfp.json", {"type": "omfp", "species": [1, 6], "cutoff": 4.0, "orbitals": "sp", "max_atoms": 8})
prefix = os.path.join(work, "trace")
proc = run("manifold", "--spec", soap, "--probe", omfp, "--center", "0", structure, "-o", prefix,
           "--options", '{"steps": 25, "random_samples": 4}')
check("largest displacement D" in proc.stdout and "omfp" in proc.stdout, "manifold prints a summary with the probe")
table = np.genfromtxt(prefix + ".csv", delimiter=",", names=True)
frames = read(prefix + ".extxyz", index=":")
check(len(frames) == len(table) == 26, f"26 frames in the CSV and the extxyz ({len(table)}, {len(frames)})")
check(table["D"][0] == 0.0 and table["distance_soap"][0] == 0.0, "frame 0 is the start")
start = frames[0].positions
d_numpy = np.array([kabsch_max_deviation(start, f.positions, True) for f in frames])
check(np.allclose(d_numpy, table["D"], atol=1e-8), f"D equals a brute-force superposition (max diff "
      f"{np.abs(d_numpy - table['D']).max():.2e})")
d_fixed = np.array([kabsch_max_deviation(start, f.positions, False) for f in frames])
check(np.all(d_numpy <= d_fixed + 1e-12), "relabelling never increases D")
for spec, column in ((soap, "distance_soap"), (omfp, "distance_omfp")):
    features = centre_features(spec, frames)
    distances = np.linalg.norm(features - features[0], axis=1)
    # The extxyz frames carry the positions to about 1e-10 Å.
    check(np.allclose(distances, table[column], rtol=1e-6, atol=1e-8),
          f"{column} equals |F_k - F_0| from describe (max diff {np.abs(distances - table[column]).max():.2e})")
peak = int(np.argmax(table["D"]))
check(table["distance_soap"][peak] < table["random_soap"][peak] / 10,
      "the traced SOAP distance is far below the random reference at the largest D")
check(table["lambda_0"].max() < 1e-3 and np.all(table[f"lambda_{15 - 6 - 1}"] == 1.0), "scaled spectrum: soft mode, largest 1")
check(is_svg(prefix + ".svg"), "manifold writes a valid SVG")
checks.renders(prefix + ".svg", "the manifold figure")

proc = run("manifold", "--spec", soap, "--center", "0", structure, expect=2)
check("--output is required" in proc.stderr, f"a missing -o is named: {proc.stderr.strip()}")
proc = run("manifold", "--spec", soap, "--center", "0", structure, "-o", prefix, "--options", '{"stepz": 1}', expect=1)
check("stepz" in proc.stderr, "an unknown tracer option is named")
run("manifold", "--spec", soap, "--center", "9", structure, "-o", prefix, expect=1)
run("manifold", "--spec", soap, "--center", "0", structure, "-o", prefix, "--options", os.path.join(work, "nope.json"), expect=1)

# ---- perturb along a sensitivity mode: the projected change grows at the singular value (eq 13) ---
run("describe", "--spec", soap, structure, "-o", os.path.join(work, "f.npy"), "--gradients", os.path.join(work, "g.npy"),
    "--centers", "0", "--quiet")
transposed = np.load(os.path.join(work, "g.npy")).reshape(15, -1)  # J^T: row 3a + alpha
relative = methane.positions - methane.positions[0]
rigid = []
for axis in range(3):
    translation = np.zeros((5, 3))
    translation[:, axis] = 1.0
    rotation_axis = np.zeros(3)
    rotation_axis[axis] = 1.0
    rigid += [translation.ravel(), np.cross(rotation_axis, relative).ravel()]
Q, _ = np.linalg.qr(np.array(rigid).T)
P = np.eye(15) - Q @ Q.T
values, vectors = np.linalg.eigh(P @ transposed @ transposed.T @ P)
softest, mode = values[6], vectors[:, 6]  # six rigid zeros first
prefix = os.path.join(work, "mode")
proc = run("perturb", "--spec", soap, "--spec", omfp, "--center", "0", "--kind", "mode", "--mode", "0", structure, "-o", prefix)
curve = np.genfromtxt(prefix + ".csv", delimiter=",", names=True)
k = int(np.argmin(np.abs(curve["t"] - 1e-5)))
expected = np.sqrt(softest) / np.linalg.norm(mode.reshape(5, 3), axis=1).max()  # t is the largest atomic move
check(abs(curve["projected_soap"][k] / curve["t"][k] - expected) < 1e-3 * expected,
      f"along the softest mode the projected SOAP change grows at its singular value "
      f"({curve['projected_soap'][k] / curve['t'][k]:.6e} vs NumPy {expected:.6e})")
small = curve["t"] < 1e-5  # the softest mode: second order takes over beyond ~1e-4 Å
check(np.allclose(curve["projected_soap"][small], curve["change_soap"][small], rtol=1e-3),
      "at small t the whole change lies along the path's feature direction")

# ---- perturb -----------------------------------------------------------------------------------
silicon = bulk("Si", "diamond", a=5.431, cubic=True).repeat((3, 3, 3))
crystal = os.path.join(work, "si.extxyz")
write_exact(crystal, [silicon])
acsf = write_json("acsf.json", {"type": "acsf", "species": [14], "cutoff": 5.0})
# The first-shell neighbour along +[111]: [1-10] is then the normal of a mirror plane through the bond.
bonds = silicon.get_distances(0, range(len(silicon)), mic=True, vector=True)
neighbour = int(np.flatnonzero(np.all(np.abs(bonds - 5.431 / 4) < 1e-6, axis=1))[0])
bond = bonds[neighbour]

prefix = os.path.join(work, "radial")
proc = run("perturb", "--spec", acsf, "--center", "0", "--kind", "radial", "--atom", str(neighbour), crystal, "-o", prefix)
curve = np.genfromtxt(prefix + ".csv", delimiter=",", names=True)
# Independent route: move the atom with NumPy and describe the moved crystals.
sample = [3, 12, 20, 28]
moved = []
for k in sample:
    atoms = silicon.copy()
    atoms.positions[neighbour] += curve["t"][k] * bond / np.linalg.norm(bond)
    moved.append(atoms)
features = centre_features(acsf, [silicon] + moved)
expected = np.linalg.norm(features[1:] - features[0], axis=1)
check(np.allclose(expected, curve["change_acsf"][sample], rtol=1e-6, atol=1e-14),
      f"radial curve equals describe on moved crystals ({expected} vs {curve['change_acsf'][sample]})")
t, change = curve["t"], curve["change_acsf"]
window = (t >= 1e-6) & (t <= 1e-3)
slope = np.polyfit(np.log10(t[window]), np.log10(change[window]), 1)[0]
check(abs(slope - 1) < 0.01 and "1.000" in proc.stdout, f"radial slope 1 (NumPy fit {slope:.4f})")
check(is_svg(prefix + ".svg"), "perturb writes a valid SVG")
checks.renders(prefix + ".svg", "the perturbation figure")

prefix = os.path.join(work, "tangential")
proc = run("perturb", "--spec", acsf, "--center", "0", "--kind", "tangential", "--atom", str(neighbour), "--direction",
           "1,-1,0", "--symmetric", crystal, "-o", prefix)
curve = np.genfromtxt(prefix + ".csv", delimiter=",", names=True)
check(len(curve) == 58 and np.all(curve["t"][:29] < 0), "--symmetric adds the negative amplitudes")
positive = curve["t"] > 0
t, change = curve["t"][positive], curve["change_acsf"][positive]
window = (t >= 1e-5) & (t <= 1e-3)
slope = np.polyfit(np.log10(t[window]), np.log10(change[window]), 1)[0]
check(abs(slope - 2) < 0.01 and "2.000" in proc.stdout, f"tangential slope 2 in the perfect crystal (NumPy fit {slope:.4f})")
check(np.allclose(curve["change_acsf"][:29][::-1], change, rtol=1e-9, atol=1e-13),
      "the response to a tangential move normal to a mirror plane is even in t")

pattern = os.path.join(work, "pattern.txt")
with open(pattern, "w") as f:
    f.write("0 0 0\n1 2\n")
proc = run("perturb", "--spec", acsf, "--center", "0", "--kind", "pattern", "--pattern", pattern, crystal, "-o", prefix,
           expect=1)
check("pattern.txt:2" in proc.stderr, "a malformed pattern file names the line")
proc = run("perturb", "--spec", acsf, "--center", "0", "--kind", "sideways", crystal, "-o", prefix, expect=2)
check("--kind" in proc.stderr and "sideways" in proc.stderr, "an unknown --kind is named with its value")
run("perturb", "--spec", acsf, "--center", "0", "--kind", "tangential", crystal, "-o", prefix, expect=1)  # no --atom
run("perturb", "--spec", acsf, "--center", "0", "--kind", "radial", "--atom", "0", crystal, "-o", prefix, expect=1)
run("perturb", "--spec", acsf, "--center", "0", "--kind", "translation", "--direction", "1,nan,0", crystal, "-o", prefix,
    expect=1)
checks.finish()
