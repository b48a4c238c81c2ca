#!/usr/bin/env python3
"""atomfp-ipi against a real i-PI-protocol server: ASE's SocketIOCalculator (Debian python3-ase).

1. 50 steps of ASE velocity-Verlet MD of 64-atom Si driven by atomfp-ipi over a UNIX socket and
   over TCP on 127.0.0.1: energies, forces and stress equal atomfp_model_predict (through the
   Python package, bit-identical to the C API) to <= 1e-8 relative after unit conversion, and the
   total energy is conserved.
2. An open cluster (ASE sends an all-zero cell) equals atomfp_model_predict.
3. Robustness: a server that sends a malformed header, one that stops in the middle of a message,
   one that sends NaN positions, one that accepts and then says nothing, one that announces 1e8
   atoms, one that announces 9e6 atoms and sends ten, and one that closes the connection without
   EXIT after a step make the client exit non-zero with a message within its --timeout, never
   holding more than 150 MB; --close-ends-session accepts the close; a stale UNIX socket file is
   reported within seconds; no server at all makes it give up after --timeout.

usage: check_ipi.py <atomfp-ipi> <model file>
Environment: PYTHONPATH with the atomfp package and ATOMFP_LIBRARY.
"""
import json
import os
import socket
import tempfile
import subprocess
import sys
import threading
import time

import ase.build
import ase.calculators.socketio as socketio
import numpy as np
from ase import units
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
from ase.md.verlet import VelocityVerlet

import atomfp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from variance_model import fit_si_model_with_variance  # noqa: E402

ok = True


def check(condition, message):
    global ok
    ok &= bool(condition)
    print(("ok      " if condition else "FAILED  ") + message, flush=True)


# ASE's server binds TCP to every interface; the test binds to the loopback address only.
def bind_loopback(port):
    server = socket.socket(socket.AF_INET)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    return server


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def md_through_client(client, model_file, transport):
    model = atomfp.Model.load(model_file)
    atoms = ase.build.bulk("Si", "diamond", 5.431, cubic=True) * (2, 2, 2)
    atoms.rattle(0.05, seed=3)
    MaxwellBoltzmannDistribution(atoms, temperature_K=2000, rng=np.random.default_rng(11))
    Stationary(atoms)
    if transport == "unix":
        name = f"atomfp_test_{os.getpid()}"
        server_args = dict(unixsocket=name)
        client_args = ["--unix", name]
    else:
        port = free_port()
        server_args = dict(port=port)
        client_args = ["--port", str(port), "--host", "127.0.0.1"]
    worst_energy, worst_force, worst_stress, totals = 0.0, 0.0, 0.0, []
    process = None
    with socketio.SocketIOCalculator(timeout=60, **server_args) as calc:
        process = subprocess.Popen([client, "--model", model_file, "--species", "Si", "--timeout", "60",
                                    "--close-ends-session"] + client_args, stderr=subprocess.PIPE, text=True)
        atoms.calc = calc

        def compare():
            nonlocal worst_energy, worst_force, worst_stress
            reference = model.predict(atoms)
            worst_energy = max(worst_energy, abs(atoms.get_potential_energy() - reference["energy"])
                               / abs(reference["energy"]))
            worst_force = max(worst_force, np.abs(atoms.get_forces() - reference["forces"]).max()
                              / np.abs(reference["forces"]).max())
            stress = atoms.get_stress(voigt=False)
            worst_stress = max(worst_stress, np.abs(stress - reference["stress"]).max()
                               / np.abs(reference["stress"]).max())
            totals.append(atoms.get_total_energy())

        dynamics = VelocityVerlet(atoms, timestep=1.0 * units.fs)
        dynamics.attach(compare, interval=1)
        dynamics.run(50)
    status = process.wait(timeout=60)
    message = process.stderr.read()
    check(worst_energy <= 1e-8 and worst_force <= 1e-8 and worst_stress <= 1e-8,
          f"{transport}: 50 MD steps, energy/forces/stress vs atomfp_model_predict: relative "
          f"{worst_energy:.1e} / {worst_force:.1e} / {worst_stress:.1e}")
    spread = np.ptp(totals) / len(atoms) * 1000
    check(spread < 1.0, f"{transport}: total energy conserved within {spread:.3f} meV/atom over 50 steps")
    check(status == 0 and "closed the connection after" in message,
          f"{transport}: the client ends cleanly when the server closes ({message.strip()})")


def cluster_through_client(client, model_file):
    """ASE's server sends an all-zero cell for a molecule or cluster: the client treats it as open."""
    model = atomfp.Model.load(model_file)
    atoms = ase.build.bulk("Si", "diamond", 5.431, cubic=True)
    atoms.pbc = False
    atoms.cell = [0, 0, 0]
    atoms.rattle(0.05, seed=5)
    name = f"atomfp_cluster_{os.getpid()}"
    with socketio.SocketIOCalculator(unixsocket=name, timeout=60) as calc:
        process = subprocess.Popen([client, "--model", model_file, "--species", "Si", "--unix", name, "--timeout", "60",
                                    "--close-ends-session"], stderr=subprocess.PIPE, text=True)
        atoms.calc = calc
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
    process.wait(timeout=60)
    reference = model.predict(atoms)
    check(abs(energy - reference["energy"]) <= 1e-8 * abs(reference["energy"]) and
          np.abs(forces - reference["forces"]).max() <= 1e-8 * np.abs(reference["forces"]).max(),
          f"an open cluster through ASE (zero cell): E = {energy:.8f} eV, atomfp {reference['energy']:.8f} eV "
          f"({process.stderr.read().strip()})")


def uncertainty_through_client(client, work):
    """--uncertainty: every step's extra string is JSON with the variances and extrapolation counts
    the model gives through the Python package; a compressed cell is less certain and extrapolates.
    The server side is ASE's protocol object on a plain UNIX socket: ASE 3.22's SocketIOCalculator
    itself fails on a non-empty extra string (it tests the received byte array for truth)."""
    model_file = os.path.join(work, "si_variance.afp")
    model = fit_si_model_with_variance(model_file)
    address = f"/tmp/ipi_atomfp_uncertainty_{os.getpid()}"
    atoms = ase.build.bulk("Si", "diamond", 5.431, cubic=True) * (2, 2, 2)
    atoms.rattle(0.05, seed=7)
    squeezed = atoms.copy()
    squeezed.set_cell(atoms.cell * 0.9, scale_atoms=True)
    extras = []
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(address)
        server.listen(1)
        process = subprocess.Popen([client, "--model", model_file, "--species", "Si", "--unix", address, "--timeout", "60",
                                    "--uncertainty"], stderr=subprocess.PIPE, text=True)
        server.settimeout(60)
        connection, _ = server.accept()
        with connection:
            protocol = socketio.IPIProtocol(connection)
            if protocol.status() == "NEEDINIT":
                protocol.sendinit()
            for configuration in (atoms, squeezed):
                assert protocol.status() == "READY"
                cell = configuration.cell.array
                protocol.sendposdata(cell, np.linalg.inv(cell).T, configuration.positions)
                assert protocol.status() == "HAVEDATA"
                *_, more = protocol.sendrecv_force()
                extras.append(json.loads(more.tobytes().decode()))
            protocol.end()
    os.unlink(address)
    status = process.wait(timeout=60)
    check(status == 0, f"--uncertainty: the client ends after EXIT ({process.stderr.read().strip()})")
    for configuration, sent, tag in zip((atoms, squeezed), extras, ("crystal", "compressed")):
        variance = model.predict_variance(configuration)
        outside, _ = model.extrapolation(configuration)
        check(abs(sent["energy_variance"] - variance["energy_variance"]) <= 1e-9 * variance["energy_variance"] and
              np.allclose(sent["atom_variances"], variance["variances"], rtol=1e-9, atol=0) and
              sent["max_atom_variance"] == max(sent["atom_variances"]) and
              abs(sent["energy_sigma"] - np.sqrt(sent["energy_variance"])) <= 1e-9 * sent["energy_sigma"] and
              np.array_equal(sent["features_outside"], outside) and
              sent["extrapolating_atoms"] == int((outside > 0).sum()),
              f"--uncertainty, {tag}: the extra string carries the model's variances (total "
              f"{sent['energy_variance']:.3e} eV^2) and extrapolation counts ({sent['extrapolating_atoms']} atoms)")
    check(extras[1]["max_atom_variance"] > 10 * extras[0]["max_atom_variance"] and extras[1]["extrapolating_atoms"] > 0 and
          extras[0]["extrapolating_atoms"] == 0, "--uncertainty: the compressed cell is flagged, the crystal is not")


def misbehaving_server(behaviour):
    """A one-connection TCP server on the loopback that misbehaves; returns its port."""
    server = bind_loopback(0)
    server.listen(1)
    port = server.getsockname()[1]

    def serve():
        connection, _ = server.accept()
        with connection:
            if behaviour == "bad header":
                connection.sendall(b"STATUS      ")
                connection.recv(12)
                connection.sendall(b"HELLO WORLD!")
                time.sleep(2)
            elif behaviour == "truncated":
                connection.sendall(b"STATUS      ")
                connection.recv(12)
                connection.sendall(b"INIT        " + np.array([0, 0], dtype=np.int32).tobytes())
                connection.sendall(b"POSDATA     " + np.zeros(9).tobytes())  # and then nothing more
                time.sleep(0.2)
            elif behaviour == "nan positions":
                cell = np.diag([10.0, 10.0, 10.0])
                positions = np.full((2, 3), np.nan)
                connection.sendall(b"STATUS      ")
                connection.recv(12)
                connection.sendall(b"INIT        " + np.array([0, 0], dtype=np.int32).tobytes())
                connection.sendall(b"POSDATA     " + cell.tobytes() + np.linalg.inv(cell).tobytes()
                                   + np.array([2], dtype=np.int32).tobytes() + positions.tobytes())
                time.sleep(2)
            elif behaviour == "silent":
                time.sleep(6)
            elif behaviour in ("huge header", "announces more than it sends"):
                cell = np.diag([10.0, 10.0, 10.0])
                n = 100_000_000 if behaviour == "huge header" else 9_000_000
                connection.sendall(b"STATUS      ")
                connection.recv(12)
                connection.sendall(b"INIT        " + np.array([0, 0], dtype=np.int32).tobytes())
                connection.sendall(b"POSDATA     " + cell.tobytes() + np.linalg.inv(cell).tobytes()
                                   + np.array([n], dtype=np.int32).tobytes() + np.zeros(30).tobytes())
                time.sleep(0.5)
            elif behaviour in ("crash", "crash tolerated"):
                cell = np.diag([10.86, 10.86, 10.86])
                positions = ase.build.bulk("Si", "diamond", 5.43, cubic=True).repeat(2).positions / units.Bohr
                connection.sendall(b"STATUS      ")
                connection.recv(12)
                connection.sendall(b"INIT        " + np.array([0, 0], dtype=np.int32).tobytes())
                connection.sendall(b"POSDATA     " + (cell / units.Bohr).tobytes() + np.linalg.inv(cell).tobytes()
                                   + np.array([64], dtype=np.int32).tobytes() + positions.tobytes())
                connection.sendall(b"GETFORCE    ")
                received = 0
                while received < 12 + 8 + 4 + 64 * 24 + 72 + 4:
                    received += len(connection.recv(65536))
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return port


def run_with_memory(command):
    """Runs `command`; returns its exit status, stderr and peak resident memory in MB."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, process.stderr.read(), usage.ru_maxrss / 1024


def robustness(client, model_file):
    for behaviour, expected in [("bad header", "unexpected message 'HELLO WORLD!'"),
                                ("truncated", "closed the connection in the middle of a message"),
                                ("nan positions", "ATOMFP_ERROR_INVALID_ARGUMENT"),
                                ("silent", "no message from the server for"),
                                ("huge header", "POSDATA with 100000000 atoms (--max-atoms 10000000)"),
                                ("announces more than it sends", "closed the connection in the middle of a message"),
                                ("crash", "without EXIT (did it crash?")]:
        port = misbehaving_server(behaviour)
        start = time.monotonic()
        status, stderr, memory = run_with_memory([client, "--model", model_file, "--species", "Si", "--port", str(port),
                                                  "--timeout", "2"])
        elapsed = time.monotonic() - start
        check(status != 0 and expected in stderr and elapsed < 10 and memory < 150,
              f"{behaviour} server: exit {status} after {elapsed:.1f} s, peak memory {memory:.0f} MB: {stderr.strip()}")
    port = misbehaving_server("crash tolerated")
    run = subprocess.run([client, "--model", model_file, "--species", "Si", "--port", str(port), "--timeout", "2",
                          "--close-ends-session"], capture_output=True, text=True, timeout=60)
    check(run.returncode == 0 and "closed the connection after 1 steps" in run.stderr,
          f"with --close-ends-session a closed connection ends the session: {run.stderr.strip()}")

    # A stale UNIX socket file (bound, never listening) is reported within seconds, not the timeout.
    stale = f"/tmp/ipi_atomfp_stale_{os.getpid()}"
    if os.path.exists(stale):
        os.unlink(stale)
    placeholder = socket.socket(socket.AF_UNIX)
    placeholder.bind(stale)
    placeholder.close()
    start = time.monotonic()
    run = subprocess.run([client, "--model", model_file, "--species", "Si", "--unix", stale, "--timeout", "60"],
                         capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - start
    os.unlink(stale)
    check(run.returncode != 0 and "stale" in run.stderr and elapsed < 15,
          f"stale socket file: exit {run.returncode} after {elapsed:.1f} s: {run.stderr.strip()}")
    start = time.monotonic()
    run = subprocess.run([client, "--model", model_file, "--species", "Si", "--port", str(free_port()),
                          "--timeout", "1"], capture_output=True, text=True, timeout=60)
    check(run.returncode != 0 and "cannot connect" in run.stderr and time.monotonic() - start < 10,
          f"no server: exit {run.returncode}: {run.stderr.strip()}")
    run = subprocess.run([client, "--model", "/nonexistent.afp", "--species", "Si", "--port", "1"],
                         capture_output=True, text=True, timeout=60)
    check(run.returncode != 0 and "ATOMFP_ERROR_IO" in run.stderr, f"missing model: {run.stderr.strip()}")
    run = subprocess.run([client, "--model", model_file], capture_output=True, text=True, timeout=60)
    check(run.returncode == 2 and "usage" in run.stderr, "missing options print the usage")


def main():
    client, model_file = sys.argv[1:3]
    socketio.bind_inetsocket = lambda port: _loopback_context(port)
    md_through_client(client, model_file, "unix")
    md_through_client(client, model_file, "tcp")
    cluster_through_client(client, model_file)
    with tempfile.TemporaryDirectory() as work:
        uncertainty_through_client(client, work)
    robustness(client, model_file)
    print("all checks passed" if ok else "some checks FAILED")
    sys.exit(0 if ok else 1)


class _loopback_context:
    def __init__(self, port):
        self.server = bind_loopback(port)

    def __enter__(self):
        return self.server.__enter__()

    def __exit__(self, *exc):
        return self.server.__exit__(*exc)


if __name__ == "__main__":
    main()
