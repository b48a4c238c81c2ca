#!/usr/bin/env python3
"""Molecular dynamics with the shipped SiC model in LAMMPS through the KIM API, as a user would run
it: (1) 512-atom 3C-SiC in NVE near 1500 K (velocities drawn at 3000 K on the crystal sites) for
10 ps, reporting the drift of the total energy per atom; (2) the amorphous SiC of the training set
(216 atoms) and (3) the (110) slab with `boundary p p f` (120 atoms) each at 1000 K (Nose-Hoover
NVT) for 10 ps, reporting the smallest interatomic distance along the run (atoms collapsing onto
each other would show there). One MPI rank, one thread. Prints a summary and exits 1 if the drift
exceeds 1 meV/atom or a minimum distance falls below 1.0 A (the shortest distances in the training
set: C-C 1.20 A, Si-C 1.52 A, Si-Si 1.96 A, all in the 4000 K liquid).

usage: md_stability.py <build dir> [model.afp] [picoseconds]
"""
import pathlib
import subprocess
import sys
import tempfile

import ase.io
import numpy as np
from ase.neighborlist import neighbor_list

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path[:0] = [str(ROOT / "tests" / "kim"), str(ROOT / "tests" / "support")]
from checks import install_tree  # noqa: E402
from lammps_runs import run_lammps, thermo_rows  # noqa: E402

NAME = "atomfp_SOAP_GPR_Tersoff_SiC__MO_000000000000_000"
HEADER = f"kim init {NAME} metal\n"
INTERACTIONS = "kim interactions Si C\nmass 1 28.0855\nmass 2 12.011\n"


def crystal_nve(steps):
    return HEADER + """boundary p p p
lattice diamond 4.35933
region box block 0 4 0 4 0 4
create_box 2 box
create_atoms 1 box basis 5 2 basis 6 2 basis 7 2 basis 8 2
""" + INTERACTIONS + f"""velocity all create 3000.0 4928459 mom yes rot no dist gaussian
fix integrate all nve
timestep 0.001
thermo_style custom step temp pe ke etotal press
thermo_modify format float %.12g
thermo 100
run {steps}
"""


def hot_nvt(data_file, boundary, steps):
    return HEADER + f"""boundary {boundary}
atom_modify map array sort 0 0
read_data {data_file}
""" + INTERACTIONS + f"""velocity all create 1000.0 8812 mom yes rot no dist gaussian
fix integrate all nvt temp 1000.0 1000.0 0.1
timestep 0.001
thermo_style custom step temp pe etotal
thermo 500
dump positions all custom 100 positions.dump id type x y z
dump_modify positions sort id
run {steps}
"""


def minimum_distance(dump, pbc):
    frames = ase.io.read(dump, format="lammps-dump-text", index=":")
    shortest = np.inf
    for atoms in frames:
        atoms.pbc = pbc
        _, _, d = neighbor_list("ijd", atoms, 2.5)
        shortest = min(shortest, d.min())
    return shortest, len(frames)


def main():
    build = pathlib.Path(sys.argv[1]).resolve()
    model = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / "sic_tersoff_soap.afp"
    steps = int(1000 * float(sys.argv[3])) if len(sys.argv) > 3 else 10000
    training = ase.io.read(ROOT / "tests" / "data" / "sic_tersoff_train.extxyz", ":")
    failures = []
    with tempfile.TemporaryDirectory() as directory:
        work = pathlib.Path(directory)
        install_tree(build, work / "prefix")
        collection = work / "collection"
        subprocess.run([str(work / "prefix" / "bin" / "atomfp"), "kim-model", str(model), NAME, "--install", str(collection),
                        "-o", str(work / "item")], check=True, capture_output=True, text=True)

        nve = work / "nve"
        nve.mkdir()
        run_lammps("lmp", "mpirun", nve, collection, crystal_nve(steps), "nve", timeout=36000).check_returncode()
        header, rows = thermo_rows(nve / "nve.log")
        column = {name: k for k, name in enumerate(header)}
        time_ps = rows[:, column["Step"]] / 1000.0
        total = rows[:, column["TotEng"]] / 512.0
        settled = time_ps >= 0.5  # after the first exchange between kinetic and potential energy
        slope = np.polyfit(time_ps[settled], total[settled], 1)[0]
        drift = 1e3 * slope * (time_ps[-1] - 0.5)
        spread = 1e3 * (total[settled].max() - total[settled].min())
        temperature = rows[settled, column["Temp"]].mean()
        print(f"3C-SiC 512 atoms NVE, {time_ps[-1]:.1f} ps, mean T {temperature:.0f} K: drift {drift:+.3f} meV/atom "
              f"(linear fit over {time_ps[-1] - 0.5:.1f} ps), max - min {spread:.3f} meV/atom", flush=True)
        if abs(drift) > 1.0:
            failures.append("NVE drift")

        cases = [("amorphous SiC", "amorphous", "p p p", (True, True, True)),
                 ("(110) slab, boundary p p f", "slab_ppf", "p p f", (True, True, False))]
        for label, config_type, boundary, pbc in cases:
            atoms = [f for f in training if f.info.get("config_type") == config_type][-1]
            case = work / config_type
            case.mkdir()
            ase.io.write(case / "start.data", atoms, format="lammps-data", atom_style="atomic", specorder=["Si", "C"])
            run_lammps("lmp", "mpirun", case, collection, hot_nvt("start.data", boundary, steps), "nvt",
                       timeout=36000).check_returncode()
            header, rows = thermo_rows(case / "nvt.log")
            temperature = rows[len(rows) // 2:, header.index("Temp")].mean()
            shortest, n_frames = minimum_distance(case / "positions.dump", pbc)
            print(f"{label}, {len(atoms)} atoms, NVT 1000 K, {steps / 1000:.1f} ps: mean T {temperature:.0f} K over the "
                  f"second half, shortest distance {shortest:.3f} A over {n_frames} frames", flush=True)
            if shortest < 1.0:
                failures.append(label)
    print("MD stable" if not failures else f"MD failed: {failures}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
