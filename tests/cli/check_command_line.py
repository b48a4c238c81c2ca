"""Checks the conventions every command of the atomfp tool shares: a full option table in --help,
required options and unexpected arguments named in the error (exit status 2), run-time failures
as "atomfp <command>: message" (exit status 1), British and American spellings as aliases, one
meaning of -o/--output, and --quiet everywhere.

usage: check_command_line.py ATOMFP_EXECUTABLE DATA_DIR WORK_DIR
"""
import json
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import Checks  # noqa: E402

exe, data_dir, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
checks = Checks(exe)
check, run = checks.check, checks.run

sample = os.path.join(data_dir, "si_sw_sample.extxyz")
spec = os.path.join(work, "acsf.json")
with open(spec, "w") as f:
    json.dump({"type": "acsf", "species": [14], "cutoff": 4.0}, f)


def out(name):
    return os.path.join(work, name)


# ---- the tool itself
proc = subprocess.run([exe], capture_output=True, text=True)
check(proc.returncode == 2 and "usage: atomfp <command>" in proc.stderr, "no command: the usage on stderr, exit 2")
proc = run("frobnicate", expect=2)
check("unknown command 'frobnicate'" in proc.stderr, f"an unknown command is named: {proc.stderr.strip()}")
proc = run("--version")
check(re.match(r"atomfp \d+\.\d+\.\d+ \(SIMD kernels: \w+( \(dispatch disabled\))?\)$", proc.stdout.strip()) is not None, f"--version: {proc.stdout.strip()}")
listing = run("--help").stdout
commands = re.findall(r"^  ([a-z][a-z-]+)\s{2,}", listing.split("commands:")[1], re.M)
check(len(commands) == 15, f"--help lists the 15 commands: {commands}")

# ---- every command: a full option table, -o with one meaning, --quiet, and named errors
for command in commands:
    text = run(command, "--help").stdout
    check(text.startswith("usage: atomfp " + command) and "options:" in text, f"{command} --help: usage line and option table")
    output = re.search(r"^  -o,--output (FILE|PREFIX|DIR)\b", text, re.M)
    check(output is not None, f"{command}: -o/--output takes a FILE, a PREFIX or a DIR")
    check(re.search(r"^  -q,--quiet\b", text, re.M) is not None, f"{command}: --quiet is an option")
    proc = run(command, expect=2)
    check(re.search(r"(\S+) is required", proc.stderr) is not None and f"atomfp {command} --help" in proc.stderr,
          f"{command} without arguments names what is required: {proc.stderr.strip().splitlines()[0]}")

# ---- parse errors name the option or the argument
proc = run("describe", "--spec", spec, sample, "-o", out("f.npy"), expect=0)
proc = run("describe", "--spec", spec, sample, out("second.extxyz"), "-o", out("f.npy"), expect=2)
check("second.extxyz" in proc.stderr, f"an unexpected argument is named: {proc.stderr.strip().splitlines()[0]}")
proc = run("describe", "--spec", spec, sample, expect=2)
check("--output is required" in proc.stderr, "a missing -o is named")
proc = run("sensitivity", "--spec", spec, "--centre", "abc", sample, expect=2)
check("--centre" in proc.stderr and "abc" in proc.stderr, f"a malformed index is named: {proc.stderr.strip().splitlines()[0]}")
proc = run("sensitivity", "--spec", spec, "--centre", "-1", sample, expect=2)
check("-1" in proc.stderr, "a negative index is refused")
proc = run("describe", "--spec", spec, sample, "-o", out("f.npy"), "--format", "hdf5", expect=2)
check("--format" in proc.stderr and "hdf5" in proc.stderr, "a value outside the choices is named")

# ---- run-time failures: exit 1, "atomfp <command>: message"
proc = run("describe", "--spec", out("missing.json"), sample, "-o", out("f.npy"), expect=1)
check(proc.stderr.startswith("atomfp describe: ") and "missing.json" in proc.stderr, "a run-time failure names the command and the file")
proc = run("sensitivity", "--spec", spec, "--centre", "100000", sample, expect=1)
check(proc.stderr.startswith("atomfp sensitivity: --centre 100000"), f"an out-of-range centre: {proc.stderr.strip()}")

# ---- British and American spellings give the same result
run("describe", "--spec", spec, sample, "-o", out("british.npy"), "--centres", "0,2-3", "--quiet")
run("describe", "--spec", spec, sample, "-o", out("american.npy"), "--centers", "0,2-3", "--quiet")
british, american = np.load(out("british.npy")), np.load(out("american.npy"))
check(british.shape[0] > 0 and np.array_equal(british, american), "--centres and --centers select the same rows")
a = run("sensitivity", "--spec", spec, "--centre", "1", sample).stdout
b = run("sensitivity", "--spec", spec, "--center=1", sample).stdout
check(a == b and "centre 1 " in a, "--centre I and --center=I agree")
for spelling in ("--all-centres", "--all-centers"):
    run("perturb", "--spec", spec, "--centre", "0", "--kind", "translation", "--direction", "-1,0,0", spelling, sample,
        "-o", out(spelling.strip("-")), "--quiet")
check(open(out("all-centres.csv")).read() == open(out("all-centers.csv")).read(),
      "--all-centres and --all-centers agree (and a negative direction is a value, not an option)")

# ---- --quiet: nothing on standard output, the files still written
proc = run("sensitivity", "--spec", spec, "--centre", "0", sample, "-o", out("spectrum.csv"), "-q")
check(proc.stdout == "" and os.path.getsize(out("spectrum.csv")) > 0, "sensitivity -q prints nothing and writes -o")
proc = run("describe", "--spec", spec, sample, "-o", out("quiet.npy"), "--quiet")
check(proc.stdout == "" and np.array_equal(np.load(out("quiet.npy")), np.load(out("f.npy"))), "describe --quiet")

checks.finish()
