#!/usr/bin/env python3
"""atomfp installed into a scratch prefix (not /usr) and used with no LD_LIBRARY_PATH, ATOMFP_LIBRARY
or other atomfp environment, the way a user of an installed package would:

- a C program through find_package(atomfp) and through pkg-config (with the documented
  -Wl,-rpath,$(pkg-config --variable=libdir atomfp));
- a Fortran program through find_package(atomfp COMPONENTS fortran) and atomfp::fortran;
- `atomfp-ipi --help` and `atomfp --version` from bin/;
- the installed KIM model driver and Si model in LAMMPS, against the installed `atomfp predict`;
- the installed PLUMED plugin in `plumed driver` (when PLUMED was found);
- the installed Python package (PYTHONPATH only).

Then the whole tree is moved to another directory and everything runs again: the RUNPATHs are
$ORIGIN-relative and the Python package records the library relative to itself.

usage: check_install.py <build dir> <package test sources> <work dir> <lmp or ""> <plumed or "">
"""
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np

tests = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(tests / "support"), str(tests / "kim")]
from checks import Checks, clean_environment, install_tree  # noqa: E402

checks = Checks()
build, sources, work = (pathlib.Path(p).resolve() for p in sys.argv[1:4])
lmp, plumed = sys.argv[4], sys.argv[5]
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)


def run(command, cwd=None, env=None, what=None):
    """The output of `command`, or None after a failed check."""
    result = checks.run(command, cwd=cwd, env=env, what=what, timeout=600)
    return result.stdout if result.returncode == 0 else None


def check_c_and_fortran(prefix, tag):
    out = work / f"{tag}_c"
    configure = ["cmake", "-S", sources, "-B", out, "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={prefix}"]
    if run(configure, what="configure the C downstream") is not None and run(["cmake", "--build", out]) is not None:
        output = run([out / "downstream"], what="the C downstream program") or ""
        checks.check("5 features" in output, f"{tag}: C program via find_package(atomfp): {output.strip()}")

    pc_dir = next(prefix.rglob("atomfp.pc")).parent
    env = clean_environment(PKG_CONFIG_PATH=str(pc_dir))
    flags = run(["pkg-config", "--cflags", "--libs", "atomfp"], env=env, what="pkg-config")
    libdir = run(["pkg-config", "--variable=libdir", "atomfp"], env=env, what="pkg-config libdir")
    if flags is not None and libdir is not None:
        program = work / f"{tag}_pkgconfig"
        if run(["cc", sources / "main.c", *flags.split(), f"-Wl,-rpath,{libdir.strip()}", "-o", program]) is not None:
            output = run([program], what="the pkg-config program") or ""
            checks.check("5 features" in output, f"{tag}: C program via pkg-config and -Wl,-rpath: {output.strip()}")

    out = work / f"{tag}_fortran"
    configure = ["cmake", "-S", sources / "fortran", "-B", out, "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={prefix}"]
    if run(configure, what="configure the Fortran downstream") is not None and run(["cmake", "--build", out]) is not None:
        output = run([out / "downstream_fortran"], what="the Fortran downstream program") or ""
        checks.check(re.search(r"downstream fortran: atomfp .*, 5 features", output) is not None,
                     f"{tag}: Fortran program via find_package(atomfp COMPONENTS fortran): {output.strip()}")


def check_programs(prefix, tag):
    output = run([prefix / "bin" / "atomfp-ipi", "--help"], what="atomfp-ipi --help") or ""
    checks.check("usage: atomfp-ipi" in output, f"{tag}: bin/atomfp-ipi --help starts")
    output = run([prefix / "bin" / "atomfp", "--version"], what="atomfp --version") or ""
    checks.check(output.startswith("atomfp "), f"{tag}: bin/atomfp --version: {output.strip()}")


def check_python(prefix, tag):
    site = next(prefix.rglob("atomfp/__init__.py")).parent.parent
    output = run(["/usr/bin/python3", sources / "check_installed_python.py"], env=clean_environment(PYTHONPATH=str(site)),
                 what="the installed Python package") or ""
    checks.check(f"installed python package: {prefix}" in output and "(3, " in output,
                 f"{tag}: Python package with PYTHONPATH only: {output.strip()}")


def check_kim(prefix, tag):
    if not lmp:
        print(f"skipped: {tag}: KIM in LAMMPS (lmp not found)")
        return
    kim = prefix / "lib" / "atomfp" / "kim"
    if not kim.exists():
        kim = next(prefix.rglob("atomfp/kim/model-drivers")).parent
    import ase.build
    import ase.io
    from lammps_runs import read_dump, single_point_script, thermo_rows, write_exact_extxyz
    atoms = ase.build.bulk("Si", "diamond", 5.431, cubic=True)
    atoms.rattle(0.1, seed=1)
    case = work / f"{tag}_kim"
    case.mkdir()
    ase.io.write(case / "si8.data", atoms, format="lammps-data", atom_style="atomic")
    (case / "in.lmp").write_text(single_point_script("atomfp_SOAP_GPR_SW_Si__MO_000000000000_000", "si8.data", ["Si"]))
    env = clean_environment(KIM_API_MODEL_DRIVERS_DIR=str(kim / "model-drivers"),
                            KIM_API_PORTABLE_MODELS_DIR=str(kim / "portable-models"), OMP_NUM_THREADS="1")
    if run([lmp, "-in", "in.lmp", "-log", "log.lammps", "-screen", "none"], cwd=case, env=env,
           what=f"LAMMPS with the installed KIM driver (kim.log: {case / 'kim.log'})") is None:
        return
    header, rows = thermo_rows(case / "log.lammps")
    lammps_energy = dict(zip(header, rows[-1]))["PotEng"]
    frame = atoms.copy()
    frame.positions = read_dump(case / "forces.dump").positions
    write_exact_extxyz(case / "frame.extxyz", frame)
    if run([prefix / "bin" / "atomfp", "predict", "--model", sources.parent.parent / "examples" / "models" / "si_sw" /
            "si_sw_soap.afp", "frame.extxyz", "-o", "predicted.extxyz"], cwd=case, what="atomfp predict") is None:
        return
    predicted = ase.io.read(case / "predicted.extxyz")
    energy = float(predicted.info["atomfp_energy"])
    checks.check(abs(lammps_energy - energy) <= 1e-10 * abs(energy),
                 f"{tag}: installed KIM driver in LAMMPS: E = {lammps_energy:.10f} eV, atomfp predict {energy:.10f} eV")


def check_plumed(prefix, tag):
    if not plumed:
        print(f"skipped: {tag}: the PLUMED plugin (PLUMED was not found when atomfp was configured)")
        return
    plugin = next(prefix.rglob("AtomfpColvars.so"))
    case = work / f"{tag}_plumed"
    case.mkdir()
    (case / "se.json").write_text('{"type": "spherical_expansion", "species": [14], "cutoff": 3.0, '
                                  '"max_radial": 2, "max_angular": 1}')
    positions = np.array([[0, 0, 0], [1.3, 1.3, 1.3], [2.6, 2.6, 0], [0, 2.6, 2.6]])
    with open(case / "traj.xyz", "w") as out:
        out.write("4\n5.4 5.4 5.4\n" + "".join(f"Si {x} {y} {z}\n" for x, y, z in positions))
    (case / "plumed.dat").write_text(f"LOAD FILE={plugin}\nse: ATOMFP_SPHERICAL_EXPANSION ATOMS=1-4 SPECIES=14 "
                                     "SPEC_FILE=se.json COEFFICIENTS=0\nPRINT ARG=se.c-0 FILE=colvar FMT=%.12g\n")
    # PLUMED's own library directory is PLUMED's business; nothing points at atomfp.
    plumed_lib = pathlib.Path(plumed).resolve().parent.parent / "lib"
    env = clean_environment(LD_LIBRARY_PATH=str(plumed_lib))
    if run([plumed, "--no-mpi", "driver", "--plumed", "plumed.dat", "--ixyz", "traj.xyz", "--length-units", "A"],
           cwd=case, env=env, what="plumed driver with the installed plugin") is None:
        return
    value = np.loadtxt(case / "colvar", ndmin=2)[0, 1]
    checks.check(np.isfinite(value) and value != 0, f"{tag}: installed PLUMED plugin loads and computes ({value:.6g})")


def check_everything(prefix, tag):
    check_c_and_fortran(prefix, tag)
    check_programs(prefix, tag)
    check_python(prefix, tag)
    check_kim(prefix, tag)
    check_plumed(prefix, tag)


prefix = work / "prefix"
install_tree(build, prefix)
config = next(prefix.rglob("atomfpTargets.cmake")).read_text()
includes = re.search(r'INTERFACE_INCLUDE_DIRECTORIES "([^"]*)"', config).group(1).split(";")
checks.check(len(includes) == len(set(includes)), f"INTERFACE_INCLUDE_DIRECTORIES lists each directory once: {includes}")
for binary in [prefix / "bin" / "atomfp-ipi", *prefix.rglob("libatomfp_fortran.so.0"), *prefix.rglob("*.so")]:
    if binary.name.startswith("libatomfp.so") or "portable-models" in str(binary):
        continue  # needs no atomfp library / loads none itself
    dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True).stdout
    runpath = re.search(r"\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]", dynamic)
    checks.check(runpath is not None and runpath.group(1).startswith("$ORIGIN") and str(build) not in runpath.group(1),
                 f"{binary.relative_to(prefix)}: RUNPATH {runpath.group(1) if runpath else None}")
check_everything(prefix, "installed")

moved = work / "moved" / "elsewhere"
moved.parent.mkdir()
prefix.rename(moved)
check_everything(moved, "moved")
checks.finish()
