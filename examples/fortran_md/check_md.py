#!/usr/bin/env python3
"""Runs the Fortran MD driver on 64-atom Si with the shipped model and checks the physics:

NVE (2000 steps of 1 fs, about 1000 K): the total energy drifts and fluctuates by at most 1 meV/atom;
Langevin NVT: the mean temperature is the target and E minus the thermostat's work is conserved;
both: the forces through the driver's own Verlet list equal those through atomfp_neighbours_build,
the list is rebuilt now and then (not every step), and the trajectory is valid extended XYZ.

usage: check_md.py <fortran_md> <model.afp> <work dir>
"""
import pathlib
import re
import subprocess
import sys

import ase.io
import numpy as np

MEV_PER_ATOM_LIMIT = 1.0


def run(driver, model, work, name, settings):
    work.mkdir(parents=True, exist_ok=True)
    lines = [f'  {key} = {value!r}' if isinstance(value, str) else f'  {key} = {value}'
             for key, value in settings.items()]
    text = "&md\n" + "\n".join(lines).replace("'", '"') + "\n/\n"
    (work / f"{name}.nml").write_text(text)
    out = subprocess.run([driver, f"{name}.nml"], cwd=work, capture_output=True, text=True, timeout=900)
    print(out.stdout, out.stderr)
    if out.returncode != 0:
        sys.exit(f"{name}: the driver failed with status {out.returncode}")
    log = np.loadtxt(work / f"{name}.log")
    return out.stdout, log


def check(condition, message):
    print(("ok      " if condition else "FAILED  ") + message)
    return bool(condition)


def common_checks(name, stdout, log, work, n_atoms, steps, every):
    ok = True
    match = re.search(r"max \|dF\|\s+(\S+) eV/A of max \|F\|\s+(\S+), \|dE\|\s+(\S+) eV, max \|dW\|\s+(\S+)", stdout)
    ok &= check(match is not None, f"{name}: the driver reports its force check")
    if match:
        d_force, f_max, d_energy, d_virial = (float(x) for x in match.groups())
        ok &= check(f_max > 0.5, f"{name}: the final configuration has real forces (max |F| = {f_max:.2f} eV/Å)")
        ok &= check(d_force <= 1e-10 * f_max and d_energy <= 1e-10 and d_virial <= 1e-9,
                    f"{name}: own Verlet list = atomfp_neighbours_build (dF {d_force:.1e}, dE {d_energy:.1e}, "
                    f"dW {d_virial:.1e})")
    builds = int(log[-1, 8])
    ok &= check(1 < builds < steps // 5, f"{name}: {builds} neighbour-list builds in {steps} steps")
    frames = ase.io.read(work / f"{name}.extxyz", index=":")
    ok &= check(len(frames) == steps // every + 1 and all(len(f) == n_atoms for f in frames),
                f"{name}: {len(frames)} trajectory frames of {n_atoms} atoms")
    logged = {int(row[0]): row[3] for row in log}
    energies_agree = all(abs(frame.get_potential_energy() - logged[k * every]) < 1e-9 * n_atoms
                         for k, frame in enumerate(frames))
    ok &= check(energies_agree, f"{name}: trajectory energies equal the thermo log")
    return ok


def main():
    driver, model, work = sys.argv[1], pathlib.Path(sys.argv[2]).resolve(), pathlib.Path(sys.argv[3])
    n_atoms, steps = 64, 2000
    ok = True

    stdout, log = run(driver, str(model), work, "nve", dict(
        model=str(model), ensemble="nve", repeat=2, initial_temperature=2000.0, timestep=1.0, steps=steps,
        skin=1.0, seed=2024, thermo_every=10, log="nve.log", trajectory="nve.extxyz", trajectory_every=100))
    total = log[:, 5]
    time_ps = log[:, 1] / 1000
    drift = abs(np.polyfit(time_ps, total, 1)[0]) * time_ps[-1] / n_atoms * 1000
    spread = (total.max() - total.min()) / n_atoms * 1000
    end_change = abs(total[-1] - total[0]) / n_atoms * 1000
    mean_t = log[log[:, 0] >= 1000, 2].mean()
    ok &= check(800 < mean_t < 1200, f"nve: mean temperature of the second half {mean_t:.0f} K (about 1000 K)")
    ok &= check(drift <= MEV_PER_ATOM_LIMIT, f"nve: linear drift of the total energy over 2 ps {drift:.3f} meV/atom")
    ok &= check(spread <= MEV_PER_ATOM_LIMIT, f"nve: total energy max - min {spread:.3f} meV/atom")
    ok &= check(end_change <= MEV_PER_ATOM_LIMIT, f"nve: |E(2 ps) - E(0)| {end_change:.3f} meV/atom")
    ok &= check(np.ptp(log[:, 3]) / n_atoms > 20 * spread / 1000,
                "nve: the potential energy swings far more than the total (the test can see dynamics)")
    ok &= common_checks("nve", stdout, log, work, n_atoms, steps, 100)

    nvt_steps = 1500
    stdout, log = run(driver, str(model), work, "langevin", dict(
        model=str(model), ensemble="langevin", repeat=2, initial_temperature=300.0, temperature_target=1000.0,
        friction=0.01, timestep=1.0, steps=nvt_steps, seed=7, thermo_every=10, log="langevin.log",
        trajectory="langevin.extxyz", trajectory_every=100))
    mean_t = log[log[:, 0] >= 500, 2].mean()
    ok &= check(abs(mean_t - 1000) < 120, f"langevin: mean temperature after 0.5 ps {mean_t:.0f} K (target 1000 K, "
                                          "started at 300 K)")
    conserved = log[:, 6]
    conserved_spread = np.ptp(conserved) / n_atoms * 1000
    ok &= check(conserved_spread <= MEV_PER_ATOM_LIMIT,
                f"langevin: E - thermostat work stays within {conserved_spread:.3f} meV/atom "
                f"(E itself changes by {np.ptp(log[:, 5]) / n_atoms * 1000:.0f} meV/atom)")
    ok &= common_checks("langevin", stdout, log, work, n_atoms, nvt_steps, 100)

    missing = subprocess.run([driver, "no_such_input.nml"], cwd=work, capture_output=True, text=True)
    ok &= check(missing.returncode != 0 and "cannot open" in missing.stderr + missing.stdout,
                "a missing input file stops the driver with a message")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
