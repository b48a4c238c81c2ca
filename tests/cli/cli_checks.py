"""Shared pieces of the command-line checks: a pass/fail log and running the atomfp tool."""
import subprocess
import sys


class Checks:
    def __init__(self, executable):
        self.executable = executable
        self.passes = []
        self.failures = []

    def check(self, condition, message):
        print(("ok    " if condition else "FAIL  ") + message)
        (self.passes if condition else self.failures).append(message)

    def run(self, *args, expect=0):
        """Runs the tool with `args` and checks its exit code; returns the completed process."""
        proc = subprocess.run([self.executable, *args], capture_output=True, text=True)
        if proc.returncode != expect:
            print(proc.stdout, proc.stderr)
        self.check(proc.returncode == expect, f"exit code {proc.returncode} == {expect} for {' '.join(args)}")
        return proc

    def finish(self):
        """Prints the tally and exits with status 1 if anything failed."""
        print(f"{len(self.passes)} passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)
