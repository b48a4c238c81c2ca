#!/usr/bin/env python3
"""The atomfp KIM model driver inside real LAMMPS (`kim init ... metal`, `kim interactions Si`).

1. 64- and 512-atom rattled diamond Si: LAMMPS's energy, forces and pressure tensor equal
   atomfp_model_predict on the same configuration (through the Python package, which is
   bit-identical to the C API) to <= 1e-8 relative.
2. `mpirun -np 2 lmp` (domain decomposition, ghost atoms across ranks) gives the one-rank result.
3. 10 ps of NVE at about 1000 K with dt = 1 fs on 64 atoms: total-energy drift <= 1 meV/atom.
4. A request for units other than metal is refused with the driver's message in kim.log.

usage: check_lammps.py <lmp> <mpirun> <KIM collection dir> <model name> <atomfp model file> <work dir>
Environment: PYTHONPATH with the atomfp package and ATOMFP_LIBRARY.
"""
import pathlib
import re
import sys

import ase.build
import ase.io
import numpy as np

import atomfp
from lammps_runs import diamond_si_nve, read_dump, run_lammps, single_point_script, thermo_rows

EV_PER_A3_IN_BAR = 1.6021765e6  # LAMMPS's nktv2p for metal units
ok = True


def check(condition, message):
    global ok
    ok &= bool(condition)
    print(("ok      " if condition else "FAILED  ") + message, flush=True)


def lammps(args, work, collection, script, name, mpi=None):
    return run_lammps(args.lmp, args.mpirun, work, collection, script, name, ranks=mpi or 1)


def main():
    class Args:
        pass
    args = Args()
    args.lmp, args.mpirun, collection, args.model, model_file, work = sys.argv[1:7]
    collection, work = pathlib.Path(collection), pathlib.Path(work)
    work.mkdir(parents=True, exist_ok=True)
    model = atomfp.Model.load(model_file)

    one_rank = {}
    for repeat in (2, 4):
        atoms = ase.build.bulk("Si", "diamond", 5.431, cubic=True) * (repeat, repeat, repeat)
        atoms.rattle(0.1, seed=repeat)
        n = len(atoms)
        data = work / f"si{n}.data"
        ase.io.write(data, atoms, format="lammps-data", atom_style="atomic")
        for ranks in (None, 2):
            name = f"si{n}_{'mpi2' if ranks else 'serial'}"
            run = lammps(args, work, collection, single_point_script(args.model, data.name, ["Si"]), name, mpi=ranks)
            if run.returncode != 0:
                check(False, f"{name}: lmp failed ({run.returncode}): {run.stdout[-2000:]} {run.stderr[-2000:]}")
                continue
            header, rows = thermo_rows(work / f"{name}.log")
            thermo = dict(zip(header, rows[-1]))
            dumped = read_dump(work / "forces.dump")
            lammps_forces = dumped.get_forces()
            if ranks is None:
                # atomfp on exactly the positions LAMMPS used (the dump has 17 digits)
                frame = atoms.copy()
                frame.positions = dumped.positions
                result = model.predict(frame)
                energy_error = abs(thermo["PotEng"] - result["energy"]) / abs(result["energy"])
                force_error = np.abs(lammps_forces - result["forces"]).max() / np.abs(result["forces"]).max()
                check(energy_error <= 1e-8, f"{n} atoms: LAMMPS energy {thermo['PotEng']:.10f} eV vs atomfp "
                                            f"{result['energy']:.10f} eV (relative {energy_error:.1e})")
                check(force_error <= 1e-8, f"{n} atoms: forces relative to max |F| {force_error:.1e}")
                pressure = -result["stress"] * EV_PER_A3_IN_BAR  # no kinetic part: no velocities
                lammps_pressure = np.array([[thermo["Pxx"], thermo["Pxy"], thermo["Pxz"]],
                                            [thermo["Pxy"], thermo["Pyy"], thermo["Pyz"]],
                                            [thermo["Pxz"], thermo["Pyz"], thermo["Pzz"]]])
                pressure_error = np.abs(lammps_pressure - pressure).max() / np.abs(pressure).max()
                check(pressure_error <= 1e-8, f"{n} atoms: pressure tensor from the KIM virial, relative "
                                              f"{pressure_error:.1e} (Pxx {thermo['Pxx']:.1f} bar)")
                one_rank[n] = (thermo["PotEng"], lammps_forces)
            elif n in one_rank:
                energy, forces = one_rank[n]
                check(abs(thermo["PotEng"] - energy) <= 1e-10 * abs(energy) and
                      np.abs(lammps_forces - forces).max() <= 1e-9 * np.abs(forces).max(),
                      f"{n} atoms: mpirun -np 2 gives the one-rank energy ({thermo['PotEng'] - energy:.1e} eV) "
                      "and forces")

    # NVE, 10 ps at about 1000 K (velocities drawn at 2000 K on crystal sites)
    nve = diamond_si_nve(args.model, 2) + """thermo_style custom step temp pe ke etotal
thermo_modify format float %.12g
thermo 100
run 10000
"""
    run = lammps(args, work, collection, nve, "nve")
    if run.returncode != 0:
        check(False, f"NVE run failed: {run.stdout[-2000:]}")
    else:
        header, rows = thermo_rows(work / "nve.log")
        columns = {h: rows[:, k] for k, h in enumerate(header)}
        total, steps = columns["TotEng"], columns["Step"]
        n_atoms = 64
        drift = abs(np.polyfit(steps / 1000, total, 1)[0]) * 10 / n_atoms * 1000
        spread = np.ptp(total) / n_atoms * 1000
        mean_t = columns["Temp"][steps >= 5000].mean()
        check(steps[-1] == 10000 and 800 < mean_t < 1200, f"NVE: 10 ps, mean T of the second half {mean_t:.0f} K")
        check(drift <= 1.0, f"NVE: total-energy drift over 10 ps {drift:.3f} meV/atom (linear fit)")
        check(spread <= 1.0, f"NVE: total energy max - min {spread:.3f} meV/atom")

    # Units other than Å/eV are refused cleanly, with the reason in kim.log
    refused = lammps(args, work, collection, f"kim init {args.model} real\n", "real_units")
    log = (work / "kim.log").read_text() if (work / "kim.log").exists() else ""
    check(refused.returncode != 0 and re.search(r"atomfp: the model works in Å and eV", log) is not None,
          "kim init ... real is refused, the reason is in kim.log")

    print(f"{'all checks passed' if ok else 'some checks FAILED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
