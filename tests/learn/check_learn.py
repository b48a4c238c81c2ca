#!/usr/bin/env python3
"""`atomfp learn` with ASE's EMT potential (Cu) as the reference method: the mechanics of the loop.

1. A run from 4 labelled structures: the data grow by the budget each iteration, the validation
   errors fall, a learning curve is drawn, the record is complete; --resume on a finished run labels
   nothing.
2. A run killed by its labeller right after labelling (before the structures are appended): --resume
   appends them without relabelling, exactly once, and finishes.
3. A labeller that returns a NaN force: that structure is set aside with the reason, the others are
   used.
4. A labeller that always fails: its candidates are set aside, and the run stops with a message after
   `max_failures` iterations instead of retrying forever.
5. A protocol hot enough to make atoms collide: the trajectory stops, its last sane frame is a
   candidate, the loop goes on.
6. A protocol that continues its trajectories: each iteration starts where the previous one ended,
   strained once.
7. Random selection from the same exploration, drawn against the active run with --compare.

usage: check_learn.py <atomfp> <work dir>
"""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys

import ase.build
import ase.io
import numpy as np
from ase.calculators.emt import EMT

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
from checks import Checks  # noqa: E402

exe, work = sys.argv[1], pathlib.Path(sys.argv[2]).resolve()
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
checks = Checks()
labeller = pathlib.Path(__file__).resolve().parent / "label_emt.py"
rng = np.random.default_rng(7)


def labelled(frames):
    for atoms in frames:
        atoms.calc = EMT()
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = None
        atoms.info["energy"] = energy
        atoms.arrays["forces"] = forces
    return frames


def crystal(rattle):
    atoms = ase.build.bulk("Cu", "fcc", a=3.61, cubic=True) * (2, 2, 2)
    atoms.positions += rattle * rng.standard_normal(atoms.positions.shape)
    return atoms


ase.io.write(work / "initial.extxyz", labelled([crystal(0.03) for _ in range(4)]), format="extxyz")
validation = [crystal(0.08) for _ in range(6)] + [crystal(0.15) for _ in range(6)]
hot = crystal(0.0)
hot.set_cell(hot.cell * 1.02, scale_atoms=True)
validation.append(hot)
ase.io.write(work / "validation.extxyz", labelled(validation), format="extxyz")
ase.io.write(work / "start.extxyz", [crystal(0.0)], format="extxyz")


def config(**changes):
    c = {"fit": {"descriptor": {"type": "soap_power_spectrum", "species": ["Cu"], "cutoff": 4.0, "max_radial": 4,
                                "max_angular": 3},
                 "kernel": {"type": "polynomial", "zeta": 2}, "sparse_per_species": 150, "sigma_energy": 0.002,
                 "sigma_forces": 0.05},
         "initial": str(work / "initial.extxyz"), "validation": str(work / "validation.extxyz"),
         "labeller": {"command": f"/usr/bin/python3 {labeller} {{input}} {{output}}", "timeout": 300, "max_failures": 2},
         "exploration": {"protocols": [
             {"name": "heating", "structures": str(work / "start.extxyz"), "temperature": [300, 1200], "steps": 200,
              "timestep": 2.0, "friction": 0.02, "sample_every": 20},
             {"name": "expanded", "structures": str(work / "start.extxyz"), "temperature": 800, "strain": 0.03,
              "steps": 100, "timestep": 2.0, "sample_every": 20}]},
         "selection": {"mode": "active", "budget": 4, "variance_ratio": 1.5},
         "stopping": {"max_labels": 12, "max_iterations": 5}}
    for key, value in changes.items():
        c[key] = value
    return c


def learn(name, configuration, *extra, expect=0, relative=False):
    """Runs a new learning run in work/name; `relative` gives the paths relative to work, run from there."""
    path = work / f"{name}.json"
    path.write_text(json.dumps(configuration))
    where = [f"{name}.json", "-o", name] if relative else [str(path), "-o", str(work / name)]
    process = subprocess.Popen([exe, "learn", "--config", *where, *extra], cwd=work if relative else None,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    (work / "learn.pid").write_text(str(process.pid))
    out, err = process.communicate(timeout=900)
    if process.returncode != expect:
        print(out[-3000:], err[-3000:])
    checks.check(process.returncode == expect, f"{name}: exit status {process.returncode} (expected {expect})")
    return out, err, process.returncode


def resume(name, expect=0):
    proc = subprocess.run([exe, "learn", "--resume", str(work / name)], capture_output=True, text=True, timeout=900)
    if proc.returncode != expect:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
    checks.check(proc.returncode == expect, f"{name}: --resume exit status {proc.returncode} (expected {expect})")
    return proc


def calls():
    path = work / "calls.txt"
    return path.read_text().split() if path.exists() else []


def state(name):
    return json.loads((work / name / "state.json").read_text())


def tags(path):
    return [str(f.info.get("learn_iteration")) for f in ase.io.read(path, index=":")] if path.exists() else []


# ---- 1. a whole run ------------------------------------------------------------------------------------
out, _, _ = learn("active", config())
s = state("active")
history = s["history"]
labels = [r["labels"] for r in history]
checks.check(labels == [4, 8, 12, 16] and history[-1]["stop"] == "label budget reached",
             f"active: labelled structures per iteration {labels}, stop: {history[-1].get('stop')}")
force = [r["validation"]["force_rmse"] for r in history]
energy = [r["validation"]["energy_rmse_per_atom"] for r in history]
checks.check(force[-1] < 0.8 * force[0] and energy[-1] < energy[0],
             f"active: validation force RMSE {force[0]:.3f} -> {force[-1]:.3f} eV/A, energy "
             f"{1e3 * energy[0]:.2f} -> {1e3 * energy[-1]:.2f} meV/atom")
checks.check(all(r["exploration"]["heating"]["candidates"] == 10 and "max_variance" in r["exploration"]["heating"]
                 for r in history[:-1]), "active: every iteration records what exploration found")
checks.check(tags(work / "active" / "dataset.extxyz") == ["initial"] * 4 + ["0"] * 4 + ["1"] * 4 + ["2"] * 4,
             "active: the data set holds the initial structures and each iteration's labels once")
found = ase.io.read(work / "active" / "dataset.extxyz", index=":")[4:]
checks.check(all(f.info.get("config_type") == f.info.get("learn_protocol") in ("heating", "expanded") for f in found),
             f"active: labelled candidates carry their protocol as config_type ({set(f.info.get('config_type') for f in found)})")
checks.check((work / "active" / "learning_curve.svg").exists() and (work / "active" / "model.afp").exists(),
             "active: learning curve and final model written")
checks.check(len(calls()) == 3, f"active: the labeller ran once per labelling iteration ({len(calls())})")
before = len(calls())
proc = resume("active")
checks.check(len(calls()) == before and "is finished" in proc.stdout, "active: --resume of a finished run labels nothing")

# ---- 2. killed between labelling and appending ---------------------------------------------------------------
(work / "kill_after_output").write_text("")
before = len(calls())
_, _, status = learn("killed", config(stopping={"max_labels": 8, "max_iterations": 5}), expect=-signal.SIGKILL)
checks.check(len(calls()) == before + 1 and tags(work / "killed" / "dataset.extxyz") == ["initial"] * 4,
             "killed: the run died after its first labelling, before appending")
proc = resume("killed")
data = tags(work / "killed" / "dataset.extxyz")
checks.check(len(calls()) == before + 2 and data == ["initial"] * 4 + ["0"] * 4 + ["1"] * 4,
             f"killed: --resume appended iteration 0's labels without relabelling them and went on "
             f"({len(calls()) - before} labeller calls, data {data.count('0')} + {data.count('1')})")

# ---- 3. a NaN force (and a run given relative paths: the labeller runs elsewhere) ---------------------------------------------------------------------------------------
(work / "nan_first").write_text("")
learn("nan", config(stopping={"max_labels": 4, "max_iterations": 1}), relative=True)
os.remove(work / "nan_first")
rejected = ase.io.read(work / "nan" / "rejected.extxyz", index=":")
checks.check(len(rejected) == 1 and "not finite" in rejected[0].info["learn_rejected"] and
             tags(work / "nan" / "dataset.extxyz").count("0") == 3,
             f"nan: the structure with a NaN force is set aside ({rejected[0].info.get('learn_rejected')}), 3 others used")

# ---- 4. a labeller that always fails --------------------------------------------------------------------------
(work / "fail").write_text("")
_, err, _ = learn("failing", config(), expect=1)
os.remove(work / "fail")
rejected = ase.io.read(work / "failing" / "rejected.extxyz", index=":")
checks.check("failed in 2 consecutive iterations" in err and "status 3" in err and len(rejected) == 8 and
             tags(work / "failing" / "dataset.extxyz") == ["initial"] * 4,
             f"failing: stops after 2 failed labellings with a message, 8 candidates set aside: {err.strip()[-160:]}")

# ---- 5. a collapsing trajectory -------------------------------------------------------------------------------
furnace = config(stopping={"max_labels": 4, "max_iterations": 1})
furnace["exploration"]["protocols"].append({"name": "furnace", "structures": str(work / "start.extxyz"),
                                            "temperature": 200000, "steps": 200, "timestep": 2.0, "friction": 0.5,
                                            "sample_every": 1000, "min_distance": 1.6})
out, _, _ = learn("furnace", furnace)
report = state("furnace")["history"][0]["exploration"]["furnace"]
candidates = [f for f in ase.io.read(work / "furnace" / "iteration_0" / "candidates.extxyz", index=":")
              if f.info.get("learn_protocol") == "furnace"]
checks.check(report["exploded"] == 1 and "within" in report["last_reason"] and len(candidates) == 1 and
             "trajectory 0 stopped after" in out,
             f"furnace: the trajectory stopped ({report['last_reason']}), its last sane frame is a candidate "
             f"(step {candidates[0].info.get('learn_step') if candidates else None}), the loop went on")

# ---- 6. continued trajectories ---------------------------------------------------------------------------------
continuing = config(stopping={"max_labels": 8, "max_iterations": 5})
continuing["exploration"]["protocols"] = [{"name": "long", "structures": str(work / "start.extxyz"), "temperature": 600,
                                           "strain": 0.03, "steps": 60, "timestep": 2.0, "sample_every": 1,
                                           "continue": True}]
learn("continuing", continuing)
history = state("continuing")["history"]


def frames_of(k):
    return {int(f.info["learn_step"]): f for f in ase.io.read(work / "continuing" / f"iteration_{k}" / "candidates.extxyz",
                                                              index=":")}


def rms_apart(a, b):
    fractional = np.linalg.solve(a.cell.array.T, (a.positions - b.positions).T).T
    fractional -= np.round(fractional)
    return float(np.sqrt(np.mean(np.sum((fractional @ a.cell.array) ** 2, axis=1))))


first, second = frames_of(0), frames_of(1)
strained_start = ase.io.read(work / "start.extxyz")
strained_start.set_cell(strained_start.cell * 1.03, scale_atoms=True)
near_end, near_start = rms_apart(second[1], first[60]), rms_apart(second[1], strained_start)
checks.check("continued" not in history[0]["exploration"]["long"] and history[1]["exploration"]["long"]["continued"] == 1 and
             np.allclose(second[1].cell.array, strained_start.cell.array) and near_end < 0.5 * near_start,
             f"continuing: iteration 1 starts where iteration 0 ended ({near_end:.3f} A from its last frame, "
             f"{near_start:.3f} A from the start), strained once")

# ---- 7. random selection, compared -----------------------------------------------------------------------------
learn("random", config(selection={"mode": "random", "budget": 4}), "--compare", str(work / "active"))
svg = (work / "random" / "learning_curve.svg").read_text()
checks.check(len(state("random")["history"]) == 4 and ">active<" in svg and ">random<" in svg,
             "random: a run of the same length, drawn with the active run's curve")
proc = subprocess.run([exe, "learn", "--resume", str(work / "active"), "--compare", str(work / "random")], capture_output=True,
                      text=True, timeout=300)
svg = (work / "active" / "learning_curve.svg").read_text()
checks.check(proc.returncode == 0 and "is finished" in proc.stdout and ">random<" in svg,
             "a finished run resumed with --compare is redrawn against the other run")
checks.finish()
