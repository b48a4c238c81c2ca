#!/usr/bin/env python3
"""`python3 -m pip install .` of the repository, offline (--no-index) with Debian's pip, setuptools
and wheel (--no-build-isolation), with the tested build's library bundled into the package:

1. into a fresh venv (python3 -m venv --system-site-packages), then the README's "Use from Python"
   program runs with the venv's interpreter and no atomfp environment, and the library it loaded is
   the bundled copy;
2. system-wide layout: Debian's /usr/bin/python3 -m pip install --break-system-packages into a
   scratch --prefix (the same scheme as a system-wide install, without touching /usr), imported
   from there with PYTHONPATH alone.

usage: check_pip_install.py <repository root> <libatomfp.so> <work dir>
"""
import pathlib
import shutil
import sys

tests = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(tests / "support"), str(tests / "docs")]
from check_readme_snippets import expect, python_program  # noqa: E402
from checks import Checks, clean_environment  # noqa: E402

checks = Checks()
root, library, work = pathlib.Path(sys.argv[1]).resolve(), sys.argv[2], pathlib.Path(sys.argv[3]).resolve()
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)


def run(command, env=None, cwd=work):
    return checks.run(command, cwd=cwd, env=env)


bundle = clean_environment(ATOMFP_LIBRARY=library)  # which library setup.py bundles
pip_options = ["--no-build-isolation", "--no-index", "--quiet"]

venv = work / "venv"
result = run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv])
checks.check(result.returncode == 0, "python3 -m venv --system-site-packages")
python = venv / "bin" / "python"
result = run([python, "-m", "pip", "install", *pip_options, root], env=bundle)
checks.check(result.returncode == 0, "pip install . into the venv (offline, no build isolation)")

script = work / "readme_python.py"
script.write_text(python_program((root / "README.md").read_text(), (root / "docs" / "bindings.md").read_text()) +
                  "\nimport atomfp._capi\nprint('library', atomfp._capi.lib._name)\n")
result = run([python, script], cwd=root)
checks.check(result.returncode == 0, "the README's Python program runs in the venv")
if result.returncode == 0:
    expect(result.stdout, [r"^features \(64, \d+\)", r"^energy -\d+\.\d+ eV", r"^training RMSE"], "README program")
    loaded = result.stdout.split("library ")[-1].strip()
    checks.check(loaded.startswith(str(venv)) and loaded.endswith("_lib/libatomfp.so.0"),
                 f"it loaded the bundled library: {loaded}")

system = work / "system-prefix"
result = run(["/usr/bin/python3", "-m", "pip", "install", *pip_options, "--break-system-packages", "--prefix", system,
              root], env=bundle)
checks.check(result.returncode == 0, "Debian's pip installs the package system-wide style (--prefix scratch)")
packages = list(system.rglob("atomfp/__init__.py"))
if checks.check(len(packages) == 1, f"one installed package under the prefix: {packages}"):
    site = packages[0].parent.parent
    result = run(["/usr/bin/python3", "-c", "import atomfp, ase.build; d = atomfp.Descriptor({'type': 'acsf', "
                  "'species': ['Si'], 'cutoff': 4.0}); print(atomfp.__file__, d.compute(ase.build.bulk('Si')).shape)"],
                 env=clean_environment(PYTHONPATH=str(site)))
    checks.check(result.returncode == 0 and str(site) in result.stdout,
                 f"imported from the prefix with PYTHONPATH alone: {result.stdout.strip()}")
checks.finish()
