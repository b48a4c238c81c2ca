"""Running LAMMPS with the KIM collection of an atomfp build: shared by the KIM test
(tests/kim/check_lammps.py) and the speed benchmark (tests/perf/kim_lammps_speed.py)."""
import os
import pathlib
import subprocess

import numpy as np

MASSES = {"Si": 28.0855, "C": 12.011, "O": 15.999, "H": 1.008}


def diamond_si_nve(model, cells):
    """A LAMMPS input up to the first run: diamond Si of cells^3 conventional cells through KIM,
    velocities drawn at 2000 K on the crystal sites (it equilibrates near 1000 K), NVE, 1 fs."""
    return f"""kim init {model} metal
boundary p p p
lattice diamond 5.431
region box block 0 {cells} 0 {cells} 0 {cells}
create_box 1 box
create_atoms 1 box
kim interactions Si
mass 1 28.0855
velocity all create 2000.0 4928459 mom yes rot no dist gaussian
fix integrate all nve
timestep 0.001
"""


def run_lammps(lmp, mpirun, work, collection, script, name, ranks=1, timeout=1200):
    """Writes `script` to work/name.in and runs it (log in work/name.log) on `ranks` MPI ranks, one
    OpenMP thread each, with the build's KIM collection; returns the completed process."""
    (work / f"{name}.in").write_text(script)
    env = dict(os.environ, KIM_API_MODEL_DRIVERS_DIR=str(collection / "model-drivers"),
               KIM_API_PORTABLE_MODELS_DIR=str(collection / "portable-models"), OMP_NUM_THREADS="1",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = [lmp, "-in", f"{name}.in", "-log", f"{name}.log", "-screen", "none"]
    if ranks > 1:
        command = [mpirun, "--oversubscribe", "-np", str(ranks)] + command
    return subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)


def single_point_script(model, data_file, species):
    """A LAMMPS input that evaluates `model` once on `data_file` (atom type k is species[k-1]) and
    writes the energy and pressure tensor (thermo, 15 digits) and the forces (forces.dump, 17 digits)."""
    masses = "".join(f"mass {k + 1} {MASSES.get(s, 1.0)}\n" for k, s in enumerate(species))
    return f"""kim init {model} metal
boundary p p p
atom_modify map array sort 0 0
read_data {data_file}
kim interactions {" ".join(species)}
{masses}thermo_style custom step pe pxx pyy pzz pxy pxz pyz
thermo_modify format float %.15g
dump d all custom 1 forces.dump id type x y z fx fy fz
dump_modify d format float %.17g sort id
run 0
"""


def thermo_rows(log_path):
    """The last thermo block of a LAMMPS log: its column names and rows."""
    rows, header, reading = [], None, False
    for line in pathlib.Path(log_path).read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == "Step":
            header, rows, reading = fields, [], True
            continue
        if reading:
            try:
                values = [float(x) for x in fields]
            except ValueError:
                values = []
            if len(values) == len(header):
                rows.append(values)
            else:
                reading = False
    return header, np.array(rows)


def read_dump(path):
    """The last frame of a LAMMPS text dump, as ASE atoms (positions and forces)."""
    import ase.io
    return ase.io.read(path, format="lammps-dump-text", index=":")[-1]


def write_exact_extxyz(path, atoms):
    """Extended XYZ with every coordinate to 17 digits (ASE's writer keeps 8 decimals), so that a
    prediction from the file sees exactly the positions LAMMPS used."""
    cell = " ".join(f"{x:.17g}" for x in atoms.cell.array.ravel())
    pbc = " ".join("T" if p else "F" for p in atoms.pbc)
    lines = [str(len(atoms)), f'Lattice="{cell}" Properties=species:S:1:pos:R:3 pbc="{pbc}"']
    lines += [f"{s} {x:.17g} {y:.17g} {z:.17g}" for s, (x, y, z) in zip(atoms.get_chemical_symbols(), atoms.positions)]
    pathlib.Path(path).write_text("\n".join(lines) + "\n")
