#!/usr/bin/env python3
"""atomfp-ipi driven by the real i-PI (the vendored i-PI 3.3.0 source, run with /usr/bin/python3).

For a UNIX socket and for TCP on 127.0.0.1: i-PI runs 300 steps of NVE (1 fs) of 64-atom diamond Si
started at 600 K, with atomfp-ipi and the shipped Si model as its force field. Asserted:
- i-PI's conserved quantity drifts by <= 0.5 meV/atom over the run (max - min);
- on frames i-PI wrote (positions in Å, forces in eV/Å, potential in eV: i-PI converts from atomic
  units), the energy and forces equal atomfp_model_predict on those positions, through the Python
  package, to the precision i-PI prints (1e-8 relative energy; forces 1e-6 relative to max |F|).
  The potential is read in Hartree and converted with ASE's constant, as atomfp-ipi converts.
- over the UNIX socket again with --uncertainty and a model that carries a posterior covariance:
  i-PI parses the JSON extra string and prints its energy_variance field; on the written frames it
  equals the model's variance through the Python package.

Exits with 77 (ctest: skipped) with a message when the i-PI archive is absent.
usage: check_ipi_server.py <atomfp-ipi> <model file> <i-PI archive> <work dir>
Environment: PYTHONPATH with the atomfp package and ATOMFP_LIBRARY.
"""
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tarfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
from checks import Checks  # noqa: E402
from variance_model import fit_si_model_with_variance  # noqa: E402

client, model_file, archive, work = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]), pathlib.Path(sys.argv[4])
if not archive.is_file():
    print(f"SKIPPED: the i-PI source archive {archive} is absent (it is not a Debian package; see docs/hosts.md)")
    sys.exit(77)

import ase.build  # noqa: E402
import ase.io  # noqa: E402
import ase.units  # noqa: E402
import numpy as np  # noqa: E402

import atomfp  # noqa: E402

checks = Checks()
STEPS = 300
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
with tarfile.open(archive) as tar:
    tar.extractall(work)
ipi = next(work.glob("i-pi-*/bin/i-pi"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ipi_input(mode, address, port, uncertainty):
    socket_block = (f"<address>{address}</address>" if mode == "unix" else
                    f"<address>127.0.0.1</address><port>{port}</port>")
    return f"""<simulation verbosity="low" safe_stride="1000">
  <output prefix="si">
    <properties stride="1" filename="out" flush="1">[step, potential, conserved{{electronvolt}}]</properties>
    <trajectory stride="50" filename="pos" format="ase" cell_units="ase">positions{{ase}}</trajectory>
    <trajectory stride="50" filename="frc" format="ase" cell_units="ase">forces{{ase}}</trajectory>
    {'<trajectory stride="50" filename="unc" extra_type="energy_variance">extras</trajectory>' if uncertainty else ''}
  </output>
  <total_steps>{STEPS}</total_steps>
  <prng><seed>31415</seed></prng>
  <ffsocket name="atomfp" mode="{mode}">{socket_block}<timeout>120</timeout></ffsocket>
  <system>
    <initialize nbeads="1">
      <file mode="xyz" units="angstrom">si64.xyz</file>
      <velocities mode="thermal" units="kelvin">600</velocities>
    </initialize>
    <forces><force forcefield="atomfp"/></forces>
    <ensemble><temperature units="kelvin">300</temperature></ensemble>
    <motion mode="dynamics"><dynamics mode="nve"><timestep units="femtosecond">1.0</timestep></dynamics></motion>
  </system>
</simulation>
"""


def read_trajectory(path):
    """i-PI's "ase" trajectory: extended XYZ with 8 decimals, in Å and eV converted with ASE's
    constants, as atomfp-ipi converts. The cell is i-PI's (its own Å constant read the input)."""
    return ase.io.read(path, index=":", format="extxyz")


def run_case(mode, model_file, uncertainty=False):
    case = work / (mode + ("_uncertainty" if uncertainty else ""))
    case.mkdir()
    atoms = ase.build.bulk("Si", "diamond", 5.431, cubic=True) * (2, 2, 2)
    atoms.rattle(0.02, seed=3)
    ase.io.write(case / "si64.xyz", atoms, format="xyz")
    a = atoms.cell.array[0, 0]
    # i-PI reads the cell from a comment line of its own form
    lines = (case / "si64.xyz").read_text().splitlines()
    lines[1] = f"# CELL(abcABC): {a:.10f} {a:.10f} {a:.10f} 90.00000 90.00000 90.00000 cell{{angstrom}} positions{{angstrom}}"
    (case / "si64.xyz").write_text("\n".join(lines) + "\n")
    address = f"atomfp_test_{os.getpid()}_{case.name}"
    socket_file = pathlib.Path(f"/tmp/ipi_{address}")
    if socket_file.exists():
        socket_file.unlink()
    port = free_port() if mode == "inet" else 0
    (case / "input.xml").write_text(ipi_input(mode, address, port, uncertainty))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    start = time.time()
    server = subprocess.Popen(["/usr/bin/python3", str(ipi), "input.xml"], cwd=case, env=env,
                              stdout=open(case / "ipi.log", "w"), stderr=subprocess.STDOUT)
    where = ["--unix", address] if mode == "unix" else ["--port", str(port), "--host", "127.0.0.1"]
    extra = ["--uncertainty"] if uncertainty else []
    driver = subprocess.Popen([client, "--model", model_file, *where, "--species", "Si", "--timeout", "120", *extra], cwd=case,
                              env=env, stdout=open(case / "client.log", "w"), stderr=subprocess.STDOUT)
    try:
        server_status = server.wait(timeout=600)
        driver_status = driver.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        driver.kill()
        checks.check(False, f"{mode}: i-PI and atomfp-ipi finished within 10 minutes")
        return
    finally:
        if socket_file.exists():
            socket_file.unlink()
    elapsed = time.time() - start
    log = (case / "ipi.log").read_text()
    checks.check(server_status == 0 and driver_status == 0,
                 f"{mode}: i-PI (exit {server_status}) and atomfp-ipi (exit {driver_status}) ran {STEPS} steps "
                 f"in {elapsed:.1f} s" + ("" if server_status == 0 else f"\n{log[-2000:]}\n"
                                                                         f"{(case / 'client.log').read_text()[-2000:]}"))
    if server_status != 0:
        return
    table = np.loadtxt(case / "si.out", ndmin=2)
    # The potential in Hartree, converted with the constant atomfp-ipi uses (i-PI's own electronvolt
    # has 8 digits: 1e-7 relative off).
    steps, potential, conserved = table[:, 0], table[:, 1] * ase.units.Hartree, table[:, 2]
    spread = np.ptp(conserved) / len(atoms) * 1000
    checks.check(steps[-1] >= STEPS - 1 and spread <= 0.5,
                 f"{mode}: conserved energy over {int(steps[-1]) + 1} steps: max - min {spread:.4f} meV/atom")

    model = atomfp.Model.load(model_file)
    positions, forces = read_trajectory(case / "si.pos_0.extxyz"), read_trajectory(case / "si.frc_0.extxyz")
    worst_energy = worst_force = 0.0
    for k, (frame, written_forces) in enumerate(zip(positions, forces)):
        result = model.predict(frame)
        f = written_forces.get_forces()
        row = np.flatnonzero(steps == 50 * k)[0]
        worst_energy = max(worst_energy, abs(potential[row] - result["energy"]) / abs(result["energy"]))
        worst_force = max(worst_force, np.abs(f - result["forces"]).max() / np.abs(result["forces"]).max())
    checks.check(len(positions) >= STEPS // 50 and worst_energy <= 1e-8,
                 f"{mode}: i-PI's potential on {len(positions)} written frames equals atomfp predict "
                 f"(worst relative {worst_energy:.1e})")
    checks.check(worst_force <= 1e-6, f"{mode}: i-PI's forces equal atomfp predict (worst relative to max |F| "
                                      f"{worst_force:.1e})")
    if uncertainty:
        # " #EXTRAS(energy_variance)# Step: n" then the value, one block per written step
        lines = [line for line in (case / "si.unc_0").read_text().splitlines() if line.strip()]
        values = [float(line) for line in lines if not line.lstrip().startswith("#")]
        expected = [model.predict_variance(frame)["energy_variance"] for frame in positions]
        worst = max(abs(v - e) / e for v, e in zip(values, expected)) if values else float("inf")
        checks.check(len(values) == len(expected) and worst <= 1e-6,
                     f"{mode}: i-PI prints the energy_variance of the extra string on {len(values)} frames; it equals "
                     f"the model's (worst relative {worst:.1e}; e.g. {values[0] if values else 0:.6e} eV^2)")


run_case("unix", model_file)
run_case("inet", model_file)
fit_si_model_with_variance(work / "si_variance.afp")
run_case("unix", str(work / "si_variance.afp"), uncertainty=True)
checks.finish()
