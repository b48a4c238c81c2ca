#!/usr/bin/python3
"""The reference method of the SiC active-learning example: the Erhart-Albe (2005) Tersoff potential
through Debian's LAMMPS and the KIM API (`kim init Tersoff_LAMMPS_ErhartAlbe_2005_SiC__MO_903987585848_004
metal`, `kim interactions Si C`), one single-point run per structure in one LAMMPS session.

usage: label_tersoff.py INPUT.extxyz OUTPUT.extxyz
Writes every structure of INPUT with energy (eV), forces (eV/Å) and stress (eV/Å³, ASE sign) to
OUTPUT. Cells of any shape: ASE's LAMMPS prism rotates them into LAMMPS's frame, and forces and
stress are rotated back. Exits non-zero with a message if LAMMPS fails.
"""
import os
import pathlib
import subprocess
import sys
import tempfile

import ase.io
import numpy as np
from ase.calculators.lammps import Prism

MODEL = "Tersoff_LAMMPS_ErhartAlbe_2005_SiC__MO_903987585848_004"
BAR_IN_EV_PER_A3 = 6.241509074460763e-07


def label(frames, lmp="lmp"):
    with tempfile.TemporaryDirectory() as work:
        work = pathlib.Path(work)
        script, prisms = [], []
        for k, atoms in enumerate(frames):
            prism = Prism(atoms.cell.array, pbc=atoms.pbc)
            prisms.append(prism)
            ase.io.write(work / f"frame{k}.data", atoms, format="lammps-data", atom_style="atomic", specorder=["Si", "C"],
                         prismobj=prism)
            boundary = " ".join("p" if p else "f" for p in atoms.pbc)
            script.append(f"""clear
kim init {MODEL} metal
boundary {boundary}
atom_modify map array sort 0 0
read_data frame{k}.data
kim interactions Si C
mass 1 28.0855
mass 2 12.011
thermo_style custom step pe pxx pyy pzz pxy pxz pyz
thermo_modify format float %.15g
dump d all custom 1 forces{k}.dump id fx fy fz
dump_modify d format float %.17g sort id
run 0
variable e equal pe
variable sxx equal pxx
variable syy equal pyy
variable szz equal pzz
variable sxy equal pxy
variable sxz equal pxz
variable syz equal pyz
print "${{e}} ${{sxx}} ${{syy}} ${{szz}} ${{sxy}} ${{sxz}} ${{syz}}" file values{k}.txt screen no
""")
        (work / "label.in").write_text("".join(script))
        run = subprocess.run([lmp, "-in", "label.in", "-log", "log.lammps", "-screen", "none"], cwd=work,
                             capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
        if run.returncode != 0:
            log = (work / "log.lammps").read_text()[-2000:] if (work / "log.lammps").exists() else ""
            sys.exit(f"label_tersoff: LAMMPS failed (exit {run.returncode}):\n{run.stderr[-2000:]}\n{log}")
        labelled = []
        for k, atoms in enumerate(frames):
            values = np.loadtxt(work / f"values{k}.txt")
            energy, p = values[0], values[1:]
            forces_lammps = np.loadtxt(work / f"forces{k}.dump", skiprows=9)[:, 1:4]
            pressure = np.array([[p[0], p[3], p[4]], [p[3], p[1], p[5]], [p[4], p[5], p[2]]])
            rotation = prisms[k].rot_mat
            out = atoms.copy()
            out.calc = None
            out.info["energy"] = float(energy)
            out.info["stress"] = (-BAR_IN_EV_PER_A3 * rotation @ pressure @ rotation.T).ravel()
            out.arrays["forces"] = prisms[k].vector_to_ase(forces_lammps)
            labelled.append(out)
        return labelled


if __name__ == "__main__":
    source, target = sys.argv[1], sys.argv[2]
    ase.io.write(target, label(ase.io.read(source, index=":")), format="extxyz")
