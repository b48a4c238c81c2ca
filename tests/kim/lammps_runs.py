"""Running LAMMPS with the KIM collection of an atomfp build: shared by the KIM test
(tests/kim/check_lammps.py) and the speed benchmark (tests/perf/kim_lammps_speed.py)."""
import os
import subprocess


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
