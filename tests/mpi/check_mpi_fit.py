"""`mpirun -np 2 atomfp fit` gives the same model as the one-process fit: the same reference
environments, weights equal to 1e-12 relative (the rows are reduced in the same fixed slices by
every process count, so they agree to the last bit unless BLAS threading differs between the
runs), and predictions equal to 1e-10 relative. The files are read here with an
independent reader of the documented format (docs/model_file.md), which also checks that format.

usage: check_mpi_fit.py MPIEXEC ATOMFP_EXECUTABLE DATA_DIR WORK_DIR
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np

mpiexec, exe, data_dir, work = sys.argv[1:5]
os.makedirs(work, exist_ok=True)
passed, failed = 0, 0


def check(condition, message):
    global passed, failed
    print(("ok    " if condition else "FAIL  ") + message)
    passed, failed = passed + bool(condition), failed + (not condition)


def read_model(path):
    data = open(path, "rb").read()
    assert data[:8] == b"ATOMFPM\0", "magic"
    version, reserved, length = struct.unpack_from("<IIQ", data, 8)
    header = json.loads(data[24:24 + length].decode("utf-8"))
    at, nf, blocks = 24 + length, header["n_features"], []
    for block in header["blocks"]:
        m = block["n_references"]
        references = np.frombuffer(data, "<f8", m * nf, at).reshape(m, nf)
        at += 8 * m * nf
        weights = np.frombuffer(data, "<f8", m, at)
        at += 8 * m
        blocks.append((block["species"], references, weights))
    triangles = []
    if "variance" in header:  # version 3: each block's packed lower L, then the packed upper R
        sizes = [block["n_references"] for block in header["blocks"]]
        for count in [m * (m + 1) // 2 for m in sizes] + [sum(sizes) * (sum(sizes) + 1) // 2]:
            triangles.append(np.frombuffer(data, "<f8", count, at))
            at += 8 * count
    ranges = []
    if header.get("feature_ranges"):  # version 3: per block with references, its minima then maxima
        for block in header["blocks"]:
            if block["n_references"]:
                ranges.append(np.frombuffer(data, "<f8", 2 * nf, at).reshape(2, nf))
                at += 16 * nf
    h = 0xcbf29ce484222325
    for byte in data[:at]:
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    assert at + 8 == len(data) and struct.unpack_from("<Q", data, at)[0] == h, "checksum"
    return version, header, blocks, triangles, ranges


config = os.path.join(work, "fit.json")
with open(config, "w") as f:
    json.dump({"descriptor": {"type": "soap_power_spectrum", "species": [14], "cutoff": 4.5, "atomic_gaussian_width": 0.4,
                              "max_radial": 4, "max_angular": 3},
               "kernel": {"type": "polynomial", "zeta": 4}, "sparse_per_species": 120, "sigma_energy": 0.002,
               "sigma_forces": 0.05}, f)
data = os.path.join(data_dir, "si_sw_subset.extxyz")
serial, parallel = os.path.join(work, "serial.afp"), os.path.join(work, "mpi.afp")
environment = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
one = subprocess.run([exe, "fit", "--config", config, data, "-o", serial], capture_output=True, text=True, env=environment)
two = subprocess.run([mpiexec, "-np", "2", "--oversubscribe", exe, "fit", "--config", config, data, "-o", parallel],
                     capture_output=True, text=True, env=environment, timeout=600)
print(one.stdout, one.stderr, two.stdout, two.stderr)
check(one.returncode == 0 and two.returncode == 0, "both fits succeed")
check("2 process(es)" in two.stdout and two.stdout.count("wrote") == 1, "two processes, one of which writes")
version, header, a, covariance_a, ranges_a = read_model(serial)
_, _, b, covariance_b, ranges_b = read_model(parallel)
check(len(ranges_a) == 1 and np.all(ranges_a[0][0] <= ranges_a[0][1]) and np.array_equal(ranges_a[0], ranges_b[0]),
      "one and two processes store the same training ranges of the features")
check(version == 3 and header["format"] == "atomfp model" and header["variance"]["scale"] == 1.0 and len(covariance_a) == 2,
      "the model file follows the documented layout (version 3: with its posterior covariance)")
for k, (ta, tb) in enumerate(zip(covariance_a, covariance_b)):
    worst = np.max(np.abs(ta - tb)) / np.max(np.abs(ta))
    check(worst <= 1e-10, f"covariance triangle {k}: agrees to {worst:.1e} relative")
for (za, ra, wa), (zb, rb, wb) in zip(a, b):
    check(za == zb and np.array_equal(ra, rb), f"species {za}: the same reference environments")
    worst = np.max(np.abs(wa - wb)) / np.max(np.abs(wa))
    check(worst <= 1e-12, f"species {za}: weights agree to {worst:.1e} relative")
predictions = []
for model in (serial, parallel):
    out = model + ".extxyz"
    subprocess.run([exe, "predict", "--model", model, data, "-o", out], capture_output=True, text=True, check=True)
    predictions.append(out)


def energies_and_forces(path):
    lines = open(path).read().split("\n")
    energies, forces, k = [], [], 0
    while k < len(lines) and lines[k].strip():
        n = int(lines[k])
        # predict -o keeps the references and adds atomfp_energy and an atomfp_forces column (the last)
        energies.append(float(lines[k + 1].split('atomfp_energy="')[1].split('"')[0]))
        forces += [float(x) for line in lines[k + 2:k + 2 + n] for x in line.split()[-3:]]
        k += n + 2
    return np.array(energies), np.array(forces)


(e1, f1), (e2, f2) = energies_and_forces(predictions[0]), energies_and_forces(predictions[1])
check(np.max(np.abs(e1 - e2) / np.abs(e1)) <= 1e-10, f"energies agree to {np.max(np.abs(e1 - e2) / np.abs(e1)):.1e} relative")
check(np.max(np.abs(f1 - f2)) <= 1e-9 * np.max(np.abs(f1)), f"forces agree to {np.max(np.abs(f1 - f2)) / np.max(np.abs(f1)):.1e} of the largest")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
