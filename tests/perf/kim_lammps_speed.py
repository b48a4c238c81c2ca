#!/usr/bin/env python3
"""Speed of the atomfp KIM model against the SNAP Si model of Zuo et al. (Debian's openkim-models),
side by side in the same LAMMPS: 512-atom diamond Si at 1000 K, NVE, 200 steps, one and two MPI
ranks. Prints timesteps/s and atom-steps/s from LAMMPS's own loop time. A benchmark, not a test.

usage: kim_lammps_speed.py <build dir> [steps]
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

MODELS = {"atomfp": "atomfp_SOAP_GPR_SW_Si__MO_000000000000_000",
          "SNAP": "SNAP_ZuoChenLi_2019_Si__MO_869330304805_000"}


def run(model, ranks, steps, work, collection):
    script = f"""kim init {model} metal
boundary p p p
lattice diamond 5.431
region box block 0 4 0 4 0 4
create_box 1 box
create_atoms 1 box
kim interactions Si
mass 1 28.0855
velocity all create 2000.0 4928459 mom yes rot no dist gaussian
fix integrate all nve
timestep 0.001
thermo 100
run 20
run {steps}
"""
    (work / "speed.in").write_text(script)
    env = dict(os.environ, KIM_API_MODEL_DRIVERS_DIR=str(collection / "model-drivers"),
               KIM_API_PORTABLE_MODELS_DIR=str(collection / "portable-models"), OMP_NUM_THREADS="1",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = ["lmp", "-in", "speed.in", "-log", "speed.log", "-screen", "none"]
    if ranks > 1:
        command = ["mpirun", "--oversubscribe", "-np", str(ranks)] + command
    subprocess.run(command, cwd=work, env=env, check=True, timeout=3600)
    times = re.findall(r"Loop time of (\S+) on (\d+) procs for (\d+) steps with (\d+) atoms",
                       (work / "speed.log").read_text())
    seconds, _, n_steps, n_atoms = times[-1]
    return float(seconds), int(n_steps), int(n_atoms)


def main():
    collection = pathlib.Path(sys.argv[1]).resolve() / "kim"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    with tempfile.TemporaryDirectory() as directory:
        work = pathlib.Path(directory)
        print(f"{'model':8} {'ranks':>5} {'atoms':>6} {'steps':>6} {'seconds':>9} {'steps/s':>9} {'atom-steps/s':>13}")
        rates = {}
        for ranks in (1, 2):
            for label, model in MODELS.items():
                seconds, n_steps, n_atoms = run(model, ranks, steps, work, collection)
                rates[label, ranks] = n_steps / seconds
                print(f"{label:8} {ranks:5d} {n_atoms:6d} {n_steps:6d} {seconds:9.2f} {n_steps / seconds:9.2f} "
                      f"{n_atoms * n_steps / seconds:13.0f}", flush=True)
        for ranks in (1, 2):
            print(f"atomfp / SNAP on {ranks} rank(s): {rates['atomfp', ranks] / rates['SNAP', ranks]:.2f}x")


if __name__ == "__main__":
    main()
