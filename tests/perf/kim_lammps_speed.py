#!/usr/bin/env python3
"""Speed of the atomfp KIM model against the SNAP Si model of Zuo et al. (Debian's openkim-models),
side by side in the same LAMMPS: 512-atom diamond Si at 1000 K, NVE, 200 steps, one and two MPI
ranks. Prints timesteps/s and atom-steps/s from LAMMPS's own loop time. A benchmark, not a test.

usage: kim_lammps_speed.py <build dir> [steps]
"""
import pathlib
import re
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "kim"))
from lammps_runs import diamond_si_nve, run_lammps  # noqa: E402

MODELS = {"atomfp": "atomfp_SOAP_GPR_SW_Si__MO_000000000000_000",
          "SNAP": "SNAP_ZuoChenLi_2019_Si__MO_869330304805_000"}


def run(model, ranks, steps, work, collection):
    script = diamond_si_nve(model, 4) + f"thermo 100\nrun 20\nrun {steps}\n"
    run_lammps("lmp", "mpirun", work, collection, script, "speed", ranks=ranks, timeout=3600).check_returncode()
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
