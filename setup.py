"""Bundles a built libatomfp into the Python package when pip builds it (pyproject.toml has the
metadata). The library comes from, in order: $ATOMFP_LIBRARY (a built libatomfp.so.0), the build
tree build/src/ of this checkout, or a fresh CMake build of the library alone into
build/python-library (needs the Debian packages of scripts/install-deps.sh)."""
import os
import pathlib
import re
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

ROOT = pathlib.Path(__file__).resolve().parent
VERSION = re.search(r"project\(atomfp VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text()).group(1)
SONAME = "libatomfp.so." + VERSION.split(".")[0]


def built_library():
    explicit = os.environ.get("ATOMFP_LIBRARY")
    if explicit:
        if not pathlib.Path(explicit).is_file():
            raise SystemExit(f"ATOMFP_LIBRARY={explicit} is not a file")
        return pathlib.Path(explicit)
    in_tree = ROOT / "build" / "src" / SONAME
    if in_tree.exists():
        return in_tree
    build = ROOT / "build" / "python-library"
    print(f"atomfp: building the library with CMake in {build}")
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                    "-DATOMFP_BUILD_TESTING=OFF", "-DATOMFP_BUILD_BENCHMARKS=OFF", "-DATOMFP_BUILD_FORTRAN=OFF",
                    "-DATOMFP_BUILD_INTERFACES=OFF"], check=True)
    subprocess.run(["cmake", "--build", str(build), "--target", "atomfp", "--parallel"], check=True)
    return build / "src" / SONAME


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        target = pathlib.Path(self.build_lib) / "atomfp" / "_lib"
        target.mkdir(parents=True, exist_ok=True)
        source = built_library()
        shutil.copyfile(source.resolve(), target / SONAME)
        print(f"atomfp: bundled {source} as atomfp/_lib/{SONAME}")


class BinaryDistribution(Distribution):
    """The wheel carries a shared library, so it is specific to the platform."""

    def has_ext_modules(self):
        return True


# Build products, egg-info included, stay under build/ (ignored by git), beside the CMake build.
BUILD_BASE = "build/python-package"
(ROOT / BUILD_BASE).mkdir(parents=True, exist_ok=True)
setup(version=VERSION, cmdclass={"build_py": BuildWithLibrary}, distclass=BinaryDistribution,
      options={"build": {"build_base": BUILD_BASE}, "egg_info": {"egg_base": BUILD_BASE}})
