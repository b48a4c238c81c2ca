#!/usr/bin/env python3
"""Compiles and runs the Fortran program of the README's "Use from Fortran" section and runs the
Python blocks of its "Use from Python" section followed by those of docs/bindings.md (as one
program), from the repository root: the documentation must be runnable as written. Each snippet must exit with status 0 and print what its comments promise.

usage: check_readme_snippets.py <README.md> <work dir> <Fortran compiler> <module dir>
                                <libatomfp_fortran> <libatomfp>
"""
import os
import pathlib
import re
import subprocess
import sys


def section(text, title):
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.S | re.M)
    if not match:
        sys.exit(f"README has no section '{title}'")
    return match.group(1)


def code_blocks(text, language):
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)


def python_program(text, bindings):
    """The Python blocks of the README's "Use from Python", then those of docs/bindings.md's
    "Python", one after the other: later blocks use earlier names."""
    python = code_blocks(section(text, "Use from Python"), "python")
    python += code_blocks(section(bindings + "\n## end\n", "Python"), "python")
    if not python:
        sys.exit("'Use from Python' has no Python block")
    return "\n".join(python)


def expect(output, patterns, name):
    missing = [p for p in patterns if not re.search(p, output, re.M)]
    if missing:
        sys.exit(f"{name}: the output lacks {missing}:\n{output}")


def main():
    readme, work, compiler, module_dir, fortran_library, library = sys.argv[1:7]
    readme = pathlib.Path(readme)
    root = readme.parent
    work = pathlib.Path(work)
    work.mkdir(parents=True, exist_ok=True)
    text = readme.read_text()

    fortran = code_blocks(section(text, "Use from Fortran"), "fortran")
    if len(fortran) != 1:
        sys.exit(f"expected one Fortran program in 'Use from Fortran', found {len(fortran)}")
    source = work / "readme_snippet.F90"
    source.write_text(fortran[0])
    library_dirs = sorted({str(pathlib.Path(fortran_library).parent), str(pathlib.Path(library).parent)})
    rpath = [f"-Wl,-rpath,{d}" for d in library_dirs]
    subprocess.run([compiler, str(source), f"-I{module_dir}", fortran_library, library, *rpath, "-o",
                    str(work / "readme_snippet"), "-J", str(work)], check=True)
    run = subprocess.run([str(work / "readme_snippet")], cwd=root, capture_output=True, text=True, timeout=300)
    print(run.stdout, run.stderr)
    if run.returncode != 0:
        sys.exit(f"the Fortran snippet failed with status {run.returncode}")
    expect(run.stdout, [r"^ ?energy +-\d+\.\d+ eV", r"^ ?force on atom 1 .* eV/A", r"^ ?features \d+ x 8, first label G2",
                        r"^ ?rejected: ATOMFP_ERROR_JSON: .*cutoff"], "Fortran snippet")

    script = work / "readme_snippet.py"
    script.write_text(python_program(text, (root / "docs" / "bindings.md").read_text()))
    environment = dict(os.environ, PYTHONPATH=str(root / "interfaces" / "python"), ATOMFP_LIBRARY=library)
    run = subprocess.run([sys.executable, str(script)], cwd=root, env=environment, capture_output=True, text=True,
                         timeout=600)
    print(run.stdout, run.stderr)
    if run.returncode != 0:
        sys.exit(f"the Python snippet failed with status {run.returncode}")
    expect(run.stdout, [r"^features \(64, \d+\) gradient blocks \(\d+, 3, \d+\)", r"^energy -\d+\.\d+ eV",
                        r"^stress", r"^sensitive directions \d+ of \d+", r"^manifold frames 6",
                        r"^training RMSE \S+ eV/atom", r"^rejected: ATOMFP_ERROR_JSON .*cutof",
                        r"^batch \(\d+, \d+\) \d+ \d+", r"^\['kind', 'l', 'n_1', 'n_2', 'species_1', 'species_2'\]"],
           "Python snippet")
    print("README snippets: Fortran and Python ran as documented")


if __name__ == "__main__":
    main()
