#!/usr/bin/env python3
"""Keeps the documentation honest where a program can: every function of the public header says
which version it appeared in, every command the tool lists answers --help, and every repository
path named in the README and docs/ exists.

It also checks that docs/cli.md holds every command's current --help text; with --write it
regenerates that part of docs/cli.md instead.

usage: check_docs.py <repository root> <atomfp executable> [--write]
"""
import pathlib
import re
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import Checks  # noqa: E402

root, tool = pathlib.Path(sys.argv[1]), sys.argv[2]
checks = Checks()

# 1. @since on every exported function: the comment block right above each declaration carries it.
header = (root / "include_c" / "atomfp.h").read_text()
lines = header.splitlines()
declarations = [k for k, line in enumerate(lines) if line.startswith("ATOMFP_API")]
missing = []
for k in declarations:
    block = []
    j = k - 1
    while j >= 0 and lines[j].strip() and not lines[j].startswith("ATOMFP_API"):
        block.append(lines[j])
        j -= 1
    name = re.search(r"(atomfp_\w+)\(", lines[k])
    if not any("@since" in line for line in block):
        missing.append(name.group(1) if name else lines[k])
checks.check(len(declarations) >= 38 and not missing,
             f"{len(declarations)} exported functions, each with @since (missing: {missing})")

# 2. Every command of `atomfp --help` answers --help with exit status 0 and a usage line.
usage = subprocess.run([tool, "--help"], capture_output=True, text=True).stdout
commands = re.findall(r"^  ([a-z][a-z-]+)\s{2,}", usage.split("commands:")[1], re.M)
checks.check(len(commands) >= 12, f"atomfp --help lists {len(commands)} commands")
for command in commands:
    proc = subprocess.run([tool, command, "--help"], capture_output=True, text=True)
    checks.check(proc.returncode == 0 and "usage: atomfp " + command in proc.stdout,
                 f"atomfp {command} --help (exit {proc.returncode})")

# 3. docs/cli.md ends with every command's --help, generated from the tool itself.
marker = "<!-- generated: atomfp <command> --help -->\n"
cli_doc = root / "docs" / "cli.md"
generated = "".join(f"### atomfp {command}\n\n```\n" + subprocess.run([tool, command, "--help"], capture_output=True,
                    text=True).stdout.rstrip() + "\n```\n\n" for command in commands)
text = cli_doc.read_text()
head = text.split(marker)[0] + marker
if "--write" in sys.argv:
    cli_doc.write_text(head + generated)
    text = cli_doc.read_text()
checks.check(marker in text and text == head + generated,
             "docs/cli.md has every command's current --help (regenerate: tests/docs/check_docs.py . build/src/atomfp --write)")

# 4. Repository paths named in backticks in the README and docs/ exist.
top = ("src/", "include_c/", "docs/", "tests/", "examples/", "interfaces/", "scripts/", "data/", "fortran/", "cmake/")
named = set()
for document in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
    for path in re.findall(r"`([A-Za-z0-9_./+-]+)`", document.read_text()):
        if path.startswith(top) and "*" not in path and "<" not in path:
            named.add((document.name, path.rstrip("/.,")))
absent = sorted(f"{doc}: {path}" for doc, path in named if not (root / path).exists())
checks.check(len(named) > 30 and not absent, f"{len(named)} repository paths named in the docs exist (absent: {absent})")

checks.finish()
