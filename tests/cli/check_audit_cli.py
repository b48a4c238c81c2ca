#!/usr/bin/env python3
"""`atomfp audit`: the report's numbers against independent routes through the tool.

Si (Stillinger-Weber data, a small sparse GPR fitted here): the variance medians per species and
config_type equal those of `atomfp predict`'s per-atom variances; the extrapolation counts equal
its per-atom counts; blind-spot indices of probed environments equal `atomfp sensitivity
--scale-max` on the same centre (smallest non-rigid eigenvalue); the worst-environment table is the
probed list's smallest; GFREs lie in [0, 1] with readings that follow the threshold; the
recommended basis is the smallest whose GFRE is within it. CH4 on a traced SOAP manifold with
--spec: the ACSF's blind-spot index is below the SOAP's (examples/uncertainty); --max-environments
bounds the sample. The HTML is self-contained (no scripts, links or images to fetch) and every
inline figure renders. Bad command lines are errors with messages.

usage: check_audit_cli.py <atomfp> <test data dir> <work dir>
"""
import json
import pathlib
import re
import shutil
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from cli_checks import Checks  # noqa: E402

exe, data, work = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
checks = Checks(exe)
root = pathlib.Path(__file__).resolve().parent.parent.parent


def read_extxyz_columns(path, column):
    """Per-frame arrays of one per-atom column and the frames' config_type, from an extended XYZ."""
    lines = pathlib.Path(path).read_text().splitlines()
    k, values, types = 0, [], []
    while k < len(lines) and lines[k].strip():
        n = int(lines[k])
        comment = lines[k + 1]
        found = re.search(r"config_type=(\S+)", comment)
        types.append(found.group(1).strip('"') if found else "(none)")
        properties = re.search(r"Properties=(\S+)", comment).group(1).split(":")
        start = 0
        for name, kind, width in zip(properties[::3], properties[1::3], properties[2::3]):
            if name == column:
                break
            start += int(width)
        values.append(np.array([float(lines[k + 2 + i].split()[start]) for i in range(n)]))
        k += n + 2
    return values, types


def inline_figures(html_path, prefix):
    """Writes every top-level inline <svg> of the report to its own file; returns the paths."""
    html = pathlib.Path(html_path).read_text()
    paths, depth, start = [], 0, 0
    for m in re.finditer(r"<svg\b|</svg>", html):
        if m.group() == "<svg":
            start = m.start() if depth == 0 else start
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                path = work / f"{prefix}_{len(paths)}.svg"
                path.write_text(html[start:m.end()])
                paths.append(path)
    return paths


def self_contained(html_path, what):
    html = pathlib.Path(html_path).read_text()
    outside = [u for u in re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>]*", html) if "www.w3.org/2000/svg" not in u]
    checks.check(not re.search(r"<script|<link|<img|<iframe", html) and not outside,
                 f"{what}: the report is self-contained (no scripts, links, images or URLs: {outside[:3]})")
    for path in inline_figures(html_path, what):
        checks.renders(str(path), f"{what}: inline figure {path.name}")


# ---- Si with a model --------------------------------------------------------------------------------
config = {"descriptor": {"type": "soap_power_spectrum", "species": [14], "cutoff": 4.5, "cutoff_width": 0.5,
                         "max_radial": 6, "max_angular": 4},
          "kernel": {"type": "polynomial", "zeta": 4}, "sparse_per_species": 150, "sigma_energy": 0.002,
          "sigma_forces": 0.05}
(work / "fit.json").write_text(json.dumps(config))
model = str(work / "si.afp")
training, audited = str(data / "si_sw_sample.extxyz"), str(data / "si_sw_subset.extxyz")
checks.run("fit", "--config", str(work / "fit.json"), training, "-o", model, "-q")
checks.run("audit", "--model", model, audited, "--training", training, "-o", str(work / "si"))
report = json.loads((work / "si.json").read_text())
self_contained(work / "si.html", "si")

checks.run("predict", "--model", model, audited, "-o", str(work / "predicted.extxyz"), "-q")
variances, types = read_extxyz_columns(work / "predicted.extxyz", "atomfp_variance")
outside, _ = read_extxyz_columns(work / "predicted.extxyz", "atomfp_extrapolation")
all_variances = np.concatenate(variances)
expected = {"data, Si": all_variances}
for t in set(types):
    expected[f"data, config_type {t}"] = np.concatenate([v for v, ty in zip(variances, types) if ty == t])
for label, values in expected.items():
    got = report["variance"].get(label, {})
    middle = np.sort(values)[len(values) // 2]
    checks.check(got.get("environments") == len(values) and abs(got.get("median", 0) - middle) <= 1e-12 * middle and
                 abs(got.get("largest", 0) - values.max()) <= 1e-12 * values.max(),
                 f"si: variance of '{label}' (median {middle:.3e} eV^2, {len(values)} environments) is atomfp predict's")
checks.check("training, Si" in report["variance"], "si: the training data's variances are reported with --training")
for t in set(types):
    counts = np.concatenate([o for o, ty in zip(outside, types) if ty == t])
    got = report["extrapolation"][t]
    checks.check(got == {"environments": len(counts), "extrapolating": int((counts > 0).sum())},
                 f"si: extrapolation of {t}: {got['extrapolating']} of {got['environments']} as atomfp predict counts")

spots = report["blind_spots"]
probed = spots["probed"]
checks.check(spots["environments"] == len(probed) == min(300, report["sampled_environments"]),
             f"si: {len(probed)} environments probed for blind spots")
(work / "spec.json").write_text(json.dumps(report["descriptor"]))
order = np.argsort([p["index"] for p in probed])
for position in (len(order) // 2, len(order) - 1):  # the median and the least blind environment
    p = probed[order[position]]
    proc = checks.run("sensitivity", "--spec", str(work / "spec.json"), "--centre", str(p["atom"]), "--frame",
                      str(p["frame"]), "--scale-max", "-o", str(work / "spectrum.csv"), audited, "-q")
    table = np.genfromtxt(work / "spectrum.csv", delimiter=",", names=True)
    eigenvalues = np.sort(table[table.dtype.names[1]])
    checks.check(abs(eigenvalues[6] - p["index"]) <= 1e-9 * max(p["index"], 1e-12),
                 f"si: frame {p['frame']} atom {p['atom']}: index {p['index']:.3e} is atomfp sensitivity's "
                 f"smallest non-rigid eigenvalue ({eigenvalues[6]:.3e})")
worst = [w["index"] for w in spots["worst"]]
checks.check(worst == sorted(p["index"] for p in probed)[:10], "si: the worst table lists the 10 smallest indices")
for c in report["completeness"]:
    checks.check(0 <= c["gfre_forward"] <= 1 and 0 <= c["gfre_backward"] <= 1 and
                 ("lacks" in c["reading"]) == (c["gfre_forward"] > 0.05),
                 f"si: completeness against {c['name']}: GFRE {c['gfre_forward']:.3f} / {c['gfre_backward']:.3f}, "
                 f"reading '{c['reading']}'")
bases = report["convergence"]["bases"]
within = [b for b in bases if b["gfre_to_reference"] <= 0.05]
recommended = report["convergence"]["recommended"]
checks.check((recommended is None and not within) or
             (recommended == {"max_radial": within[0]["max_radial"], "max_angular": within[0]["max_angular"]}),
             f"si: the recommended basis {recommended} is the smallest within GFRE 0.05 "
             f"({[(b['max_radial'], b['max_angular'], round(b['gfre_to_reference'], 3)) for b in bases]})")
checks.check([b["gfre_to_reference"] for b in bases] == sorted((b["gfre_to_reference"] for b in bases), reverse=True),
             "si: larger bases reconstruct the reference better")

# ---- CH4 on a SOAP manifold, descriptors only --------------------------------------------------------
soap = root / "examples" / "four_body" / "specs" / "soap_n8_l8_sigma02.json"
acsf = root / "examples" / "four_body" / "specs" / "acsf.json"
checks.run("manifold", "--spec", str(soap), "--centre", "0", str(root / "data" / "ch4.extxyz"), "-o", str(work / "ch4"),
           "--options", json.dumps({"steps": 300, "step": 0.001, "max_step": 0.001, "random_samples": 0}), "-q")
medians = {}
for name, spec in (("soap", soap), ("acsf", acsf)):
    checks.run("audit", "--spec", str(spec), str(work / "ch4.extxyz"), "-o", str(work / f"ch4_{name}"),
               "--max-environments", "200")
    r = json.loads((work / f"ch4_{name}.json").read_text())
    medians[name] = r["blind_spots"]["per_species"]["C"]["median"]
    checks.check(r["sampled_environments"] <= 200 and "variance" not in r and "extrapolation" not in r,
                 f"ch4 {name}: at most 200 environments, no model sections without a model")
    self_contained(work / f"ch4_{name}.html", f"ch4_{name}")
checks.check(medians["acsf"] < 0.1 * medians["soap"],
             f"ch4: the carbon's median blind-spot index is lower with ACSF ({medians['acsf']:.1e}) than with SOAP "
             f"({medians['soap']:.1e}), as examples/uncertainty finds")
r = json.loads((work / "ch4_acsf.json").read_text())
checks.check(r["completeness"] is None and r["convergence"] is None, "ch4 acsf: no SOAP ladder for an ACSF")

# ---- bad command lines ---------------------------------------------------------------------------------
proc = checks.run("audit", "--model", model, "--spec", str(soap), audited, "-o", str(work / "bad"), expect=1)
checks.check("exactly one of --model and --spec" in proc.stderr, "both --model and --spec: an error with a message")
proc = checks.run("audit", audited, "-o", str(work / "bad"), expect=1)
checks.check("exactly one of --model and --spec" in proc.stderr, "neither: an error with a message")
proc = checks.run("audit", "--model", model, audited, "-o", str(work / "missing_dir" / "r"), expect=1)
checks.check("missing_dir" in proc.stderr, "an unwritable report path fails before the work starts")

print(f"{len(checks.passes)} passed, {len(checks.failures)} failed")
sys.exit(1 if checks.failures else 0)
