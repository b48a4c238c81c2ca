#!/usr/bin/env python3
"""Speed of a two-species atomfp model in LAMMPS against the potential its data came from: the
shipped SiC model (examples/models/sic_tersoff) through the KIM API next to the Erhart-Albe Tersoff
potential, both as the KIM portable model that labelled the data and as LAMMPS' own pair_style
tersoff, in the same LAMMPS on 512-atom 3C-SiC at 1000 K (NVE, one MPI rank, one thread). Prints
LAMMPS' loop time per model and the ratios, alternating the models over `repeats` rounds (the
machine is shared: ratios come from runs side by side). A benchmark, not a test.

usage: sic_lammps_speed.py <build dir> [model.afp] [steps] [repeats]
"""
import pathlib
import re
import subprocess
import sys
import tempfile

sys.path[:0] = [str(pathlib.Path(__file__).resolve().parent.parent / sub) for sub in ("kim", "support")]
from checks import install_tree  # noqa: E402
from lammps_runs import run_lammps  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
ATOMFP_NAME = "atomfp_SOAP_GPR_Tersoff_SiC__MO_000000000000_000"
TERSOFF_KIM = "Tersoff_LAMMPS_ErhartAlbe_2005_SiC__MO_903987585848_004"
TERSOFF_FILE = "/usr/share/lammps/potentials/SiC_Erhart-Albe.tersoff"

CRYSTAL = """boundary p p p
lattice diamond 4.35933
region box block 0 4 0 4 0 4
create_box 2 box
create_atoms 1 box basis 5 2 basis 6 2 basis 7 2 basis 8 2
"""
DYNAMICS = """mass 1 28.0855
mass 2 12.011
velocity all create 2000.0 4928459 mom yes rot no dist gaussian
fix integrate all nve
timestep 0.001
thermo 100
run 20
run {steps}
"""


def script(kind, steps):
    if kind == "tersoff (pair_style)":
        return "units metal\natom_style atomic\n" + CRYSTAL + f"pair_style tersoff\npair_coeff * * {TERSOFF_FILE} Si C\n" + \
            DYNAMICS.format(steps=steps)
    model = ATOMFP_NAME if kind == "atomfp (KIM)" else TERSOFF_KIM
    return f"kim init {model} metal\n" + CRYSTAL + "kim interactions Si C\n" + DYNAMICS.format(steps=steps)


def loop_time(log):
    seconds, _, steps, atoms = re.findall(r"Loop time of (\S+) on (\d+) procs for (\d+) steps with (\d+) atoms", log)[-1]
    return float(seconds), int(steps), int(atoms)


def main():
    build = pathlib.Path(sys.argv[1]).resolve()
    model = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "examples" / "models" / "sic_tersoff" / "sic_tersoff_soap.afp"
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    with tempfile.TemporaryDirectory() as directory:
        work = pathlib.Path(directory)
        collection = work / "collection"
        # An installed atomfp builds the model's KIM item and installs it with the driver.
        install_tree(build, work / "prefix")
        subprocess.run([str(work / "prefix" / "bin" / "atomfp"), "kim-model", str(model), ATOMFP_NAME, "--install",
                        str(collection), "-o", str(work / "item")], check=True, capture_output=True, text=True)
        kinds = ["atomfp (KIM)", "tersoff (KIM)", "tersoff (pair_style)"]
        best = {}
        print(f"{'model':22} {'round':>5} {'atoms':>6} {'steps':>6} {'seconds':>9} {'atom-steps/s':>13}")
        for round_index in range(repeats):
            for kind in kinds:
                name = re.sub(r"\W+", "_", kind)
                run_lammps("lmp", "mpirun", work, collection, script(kind, steps), name, timeout=3600).check_returncode()
                seconds, n_steps, n_atoms = loop_time((work / f"{name}.log").read_text())
                best[kind] = min(best.get(kind, float("inf")), seconds / n_steps)
                print(f"{kind:22} {round_index:5d} {n_atoms:6d} {n_steps:6d} {seconds:9.3f} {n_atoms * n_steps / seconds:13.0f}",
                      flush=True)
        for kind in kinds[1:]:
            print(f"atomfp is {best['atomfp (KIM)'] / best[kind]:.1f}x slower per step than {kind} (best of {repeats})")


if __name__ == "__main__":
    main()
