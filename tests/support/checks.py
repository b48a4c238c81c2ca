"""Shared by the Python test scripts: check bookkeeping, a clean environment, and installing a build
tree into a scratch prefix."""
import os
import subprocess
import sys

# Variables that would let an installed atomfp work by accident (or a stale one be found).
ATOMFP_ENVIRONMENT = ("LD_LIBRARY_PATH", "ATOMFP_LIBRARY", "PYTHONPATH", "CMAKE_PREFIX_PATH", "PKG_CONFIG_PATH",
                      "KIM_API_MODEL_DRIVERS_DIR", "KIM_API_PORTABLE_MODELS_DIR", "KIM_API_SIMULATOR_MODELS_DIR")


class Checks:
    """Prints each check as it happens and exits non-zero at the end if any failed."""

    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, condition, message):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
        print(("ok      " if condition else "FAILED  ") + message, flush=True)
        return bool(condition)

    def run(self, command, cwd=None, env=None, expect=0, what=None, timeout=900):
        """Runs `command` (in a clean environment unless `env` is given); an exit status other than
        `expect` is a failed check showing the output. Returns the completed process."""
        result = subprocess.run([str(c) for c in command], cwd=cwd, env=env or clean_environment(), capture_output=True,
                                text=True, timeout=timeout)
        if result.returncode != expect:
            self.check(False, f"{what or ' '.join(str(c) for c in command[:3])}: exit {result.returncode} (expected "
                              f"{expect})\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def clean_environment(**extra):
    """The caller's environment without anything that points at an atomfp, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ATOMFP_ENVIRONMENT}
    env.update(extra)
    return env


def install_tree(build_dir, prefix):
    """cmake --install of `build_dir` into `prefix`."""
    subprocess.run(["cmake", "--install", str(build_dir), "--prefix", str(prefix)], check=True,
                   stdout=subprocess.DEVNULL, env=clean_environment())
