"""Shared pieces of the command-line checks: a pass/fail log, running the atomfp tool and
rendering its figures."""
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree


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

    def renders(self, svg_path, what):
        """Checks that an SVG parses and that rsvg-convert (Debian's librsvg2-bin) renders it to a
        non-empty PNG: a malformed figure fails here."""
        converter = shutil.which("rsvg-convert")
        if converter is None:
            self.check(False, f"{what}: rsvg-convert is missing (scripts/install-deps.sh installs librsvg2-bin)")
            return
        try:
            parsed = ElementTree.parse(svg_path).getroot().tag.endswith("svg")
        except ElementTree.ParseError as error:
            self.check(False, f"{what}: {svg_path} is not well-formed XML: {error}")
            return
        png = svg_path + ".png"
        proc = subprocess.run([converter, "-o", png, svg_path], capture_output=True, text=True)
        ok = parsed and proc.returncode == 0 and open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
        self.check(ok, f"{what}: {svg_path} renders to PNG {proc.stderr.strip()}")

    def finish(self):
        """Prints the tally and exits with status 1 if anything failed."""
        print(f"{len(self.passes)} passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)
