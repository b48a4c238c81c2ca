#!/usr/bin/python3
"""The data of the SiC active-learning example, made with the reference method itself (the
Erhart-Albe Tersoff potential through LAMMPS + KIM):

- starts_*.extxyz: unlabelled start structures of the exploration protocols: the 64-atom 3C-SiC
  cell at a0 = 4.35933 Å, the same with a Si vacancy, a (110) slab with 15 Å of vacuum and a liquid
  frame at 1.035 a0 (the density of the shared data's liquid; from a reference melt independent of
  the validation's);
- initial.extxyz: 8 labelled structures to start from (rattled and strained crystals, a vacancy, a
  slab);
- validation.extxyz: snapshots of independent reference MD (LAMMPS NVT with the same potential, at
  least 200 fs apart): the crystal at 300, 1000 and 2000 K, the vacancy at 1500 K, the liquid at
  4000 K at fixed density, an amorphous solid quenched from it, and the slab at 1000 K.

usage: make_data.py OUTPUT_DIR [--lmp lmp]
"""
import pathlib
import subprocess
import sys

import ase.build
import ase.io
import numpy as np
from ase import Atoms

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from label_tersoff import MODEL, label  # noqa: E402

A0 = 4.35933
out = pathlib.Path(sys.argv[1])
lmp = sys.argv[sys.argv.index("--lmp") + 1] if "--lmp" in sys.argv else "lmp"
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(2005)


def crystal(a=A0):
    return ase.build.bulk("SiC", "zincblende", a=a, cubic=True) * (2, 2, 2)


def vacancy():
    atoms = crystal()
    del atoms[[i for i, s in enumerate(atoms.get_chemical_symbols()) if s == "Si"][0]]
    return atoms


def slab():
    atoms = ase.build.surface(ase.build.bulk("SiC", "zincblende", a=A0), (1, 1, 0), 6, vacuum=7.5)
    atoms = atoms * (2, 2, 1)
    atoms.pbc = True
    return atoms


def rattled(atoms, sigma):
    atoms = atoms.copy()
    atoms.positions += sigma * rng.standard_normal(atoms.positions.shape)
    return atoms


def strained(atoms, e):
    atoms = atoms.copy()
    atoms.set_cell(atoms.cell * (1 + e), scale_atoms=True)
    return atoms


def reference_md(atoms, stages, seed, every_fs, name):
    """NVT (Nose-Hoover, 0.1 ps) through LAMMPS with the reference potential: stages of
    (T_start, T_end, ps, snapshot?) in order; returns the snapshots taken `every_fs` apart during the
    stages marked for snapshots."""
    work = out / f"md_{name}"
    work.mkdir(exist_ok=True)
    ase.io.write(work / "start.data", atoms, format="lammps-data", atom_style="atomic", specorder=["Si", "C"])
    lines = [f"kim init {MODEL} metal", "boundary p p p", "atom_modify map array sort 0 0", "read_data start.data",
             "kim interactions Si C", "mass 1 28.0855", "mass 2 12.011", "timestep 0.001",
             f"velocity all create {2 * stages[0][0]} {seed} mom yes rot no dist gaussian", "thermo 1000"]
    for k, (t0, t1, ps, sample) in enumerate(stages):
        lines.append(f"fix nvt all nvt temp {t0} {t1} 0.1")
        if sample:
            lines.append(f"dump d{k} all custom {int(every_fs)} snapshots{k}.dump id type x y z")
            lines.append(f"dump_modify d{k} sort id format float %.12g")
        lines.append(f"run {int(ps * 1000)}")
        if sample:
            lines.append(f"undump d{k}")
        lines.append("unfix nvt")
    (work / "md.in").write_text("\n".join(lines) + "\n")
    run = subprocess.run([lmp, "-in", "md.in", "-log", "log.lammps", "-screen", "none"], cwd=work, capture_output=True,
                         text=True)
    if run.returncode != 0:
        sys.exit(f"make_data: LAMMPS MD {name} failed:\n{run.stderr[-2000:]}")
    snapshots = []
    for k, (_, _, _, sample) in enumerate(stages):
        if not sample:
            continue
        for frame in ase.io.read(work / f"snapshots{k}.dump", format="lammps-dump-text", index="1:"):
            symbols = np.array(["Si", "C"])[frame.get_atomic_numbers() - 1]
            snapshot = Atoms(symbols=list(symbols), positions=frame.positions, cell=frame.cell, pbc=True)
            snapshot.info["config_type"] = name
            snapshots.append(snapshot)
    return snapshots


# start structures, one file per protocol
for name, atoms in (("crystal", crystal()), ("vacancy", vacancy()), ("slab", slab())):
    ase.io.write(out / f"starts_{name}.extxyz", [atoms], format="extxyz")

# 8 labelled structures to start from
initial = [rattled(crystal(), 0.05), rattled(crystal(), 0.05), rattled(crystal(), 0.10), rattled(strained(crystal(), 0.02), 0.03),
           rattled(strained(crystal(), -0.02), 0.03), rattled(vacancy(), 0.05), rattled(crystal(), 0.15), rattled(slab(), 0.05)]
ase.io.write(out / "initial.extxyz", label(initial, lmp), format="extxyz")

# validation: independent reference MD, snapshots 250 fs apart
validation = []
for temperature, seed in ((300, 11), (1000, 12), (2000, 13)):
    validation += reference_md(crystal(), [(temperature, temperature, 2, False), (temperature, temperature, 1, True)], seed,
                               250, f"crystal{temperature}")
validation += reference_md(vacancy(), [(1500, 1500, 2, False), (1500, 1500, 1, True)], 14, 250, "vacancy1500")
liquid = [(8000, 8000, 3, False), (4000, 4000, 3, False), (4000, 4000, 1, True)]
validation += reference_md(crystal(1.035 * A0), liquid, 15, 250, "liquid4000")
validation += reference_md(crystal(1.035 * A0), liquid[:2] + [(4000, 300, 5, False), (300, 300, 1, True)], 16, 250,
                           "amorphous")
validation += reference_md(slab(), [(1000, 1000, 2, False), (1000, 1000, 1, True)], 17, 250, "slab1000")
ase.io.write(out / "validation.extxyz", label(validation, lmp), format="extxyz")

# a start for the liquid and quench protocols: the last frame of another reference melt (seed 21),
# because a model that has seen only crystals cannot melt a cell by itself in a few picoseconds
liquid_start = reference_md(crystal(1.035 * A0), liquid[:2] + [(4000, 4000, 0.1, True)], 21, 100, "liquid_start")[-1]
del liquid_start.info["config_type"]
ase.io.write(out / "starts_liquid.extxyz", [liquid_start], format="extxyz")
print(f"make_data: {len(initial)} initial and {len(validation)} validation structures in {out}")
