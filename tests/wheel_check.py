"""``make wheel-check``: the wheel alone runs on a device (issue 16's acceptance, checked for real).

Builds the wheel from this checkout, installs it into a fresh venv OUTSIDE the checkout and runs it from a folder
that is not the checkout, with no TensorFlow installed:

* ``--extra edge``: ``pip install 'liveredge-*.whl[edge]'`` resolved from the index, as an integrator does it.
* ``--extra device``: ``pip install 'liveredge-*.whl[device]'`` within the versions of ``requirements/device.lock``
  (tflite-runtime 2.14, numpy < 2).

Then: ``--version``; ``pip show -f`` lists LICENSE and py.typed; ``run`` with no --model/--pubkey loads the shipped
model VERIFIED and its JSONL validates against docs/schemas/jsonl-record.schema.json; ``verify --json``;
``doctor --json`` says ok; mypy sees the installed package's types; ``--demo``: ``demo`` completes. Exit 0 when
all hold; the first failure is named.
Models are trained on SIMULATED data and are not for clinical use.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIM = "sim://?condition=steatosis&site=S1&fps=30&seed=1"


def sh(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; its anti-rollback state goes to a folder of its own (never the user's: a newer model accepted
    there would refuse the shipped one, rightly)."""
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    env = {**os.environ, "XDG_STATE_HOME": str(cwd / "state")}
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(
            f"wheel-check: {' '.join(cmd)} exited {out.returncode}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        )
    return out


def build_wheel(dest: Path) -> Path:
    sh(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dest),
            str(ROOT),
        ],
        ROOT,
    )
    return next(dest.glob("liveredge-*.whl"))


def install(venv: Path, wheel: Path, extra: str, work: Path) -> Path:
    sh([sys.executable, "-m", "venv", str(venv)], work)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    if extra == "device":  # the lock's versions, as constraints (pip refuses hashes in constraint files)
        pins = [
            ln.split(" ;")[0].split(" \\")[0]
            for ln in (ROOT / "requirements" / "device.lock").read_text().splitlines()
            if ln and ln[0].isalnum()
        ]
        (work / "device-constraints.txt").write_text("\n".join(pins) + "\n")
        pip += ["-c", str(work / "device-constraints.txt")]
    sh([*pip, f"{wheel}[{extra}]"], work)
    return venv / "bin"


def check_installed(bin_dir: Path, work: Path) -> None:
    version = sh([str(bin_dir / "liveredge"), "--version"], work).stdout.strip()
    files = sh([str(bin_dir / "python"), "-m", "pip", "show", "-f", "liveredge"], work).stdout
    for wanted in (
        "licenses/LICENSE",
        "liveredge/edge/py.typed",
        "liveredge/models/zoo/liver_cnn_int8.tflite",
        "liveredge/edge/keys/liveredge-zoo.pub",
        "liveredge/edge/deploy/liveredge.service",
    ):
        if wanted not in files:
            raise SystemExit(f"wheel-check: pip show -f does not list {wanted}")
    probe = "import importlib.util as u; print(u.find_spec('tensorflow') is None and u.find_spec('keras') is None)"
    if sh([str(bin_dir / "python"), "-c", probe], work).stdout.strip() != "True":
        raise SystemExit("wheel-check: TensorFlow/Keras is installed in the device venv")
    print(f"wheel-check: {version}; LICENSE, py.typed, model, key, deploy files installed; no TensorFlow")


CONSUMER = """from pathlib import Path
from liveredge.edge import __version__
from liveredge.edge.shipped import default_model
from liveredge.edge.trust import TrustPolicy

model: Path = default_model()
version: str = __version__
policy = TrustPolicy(allow_dev=True)
wrong: int = default_model()
"""


def check_types(bin_dir: Path, work: Path) -> None:
    """mypy (of the venv running this check) on a consumer script against the INSTALLED package: it must see
    liveredge's types (py.typed), so the one deliberate error is found and nothing else is reported."""
    (work / "consumer.py").write_text(CONSUMER)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--python-executable",
            str(bin_dir / "python"),
            "consumer.py",
        ],
        cwd=work,
        capture_output=True,
        text=True,
    )
    lines = [ln for ln in out.stdout.splitlines() if ": error:" in ln]
    if len(lines) != 1 or "consumer.py:9:" not in lines[0] or '"Path"' not in lines[0]:
        raise SystemExit(f"wheel-check: mypy does not see liveredge's types:\n{out.stdout}{out.stderr}")
    print("wheel-check: mypy sees the installed package's types (py.typed)")


def check_run(bin_dir: Path, work: Path) -> None:
    jsonl = work / "run.jsonl"
    sh([str(bin_dir / "liveredge"), "run", "--source", SIM, "--max-frames", "60", "--jsonl", str(jsonl)], work)
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    loaded = [r for r in records if r.get("state") == "model_loaded"]
    if not loaded or "verified=True" not in loaded[0]["detail"] or "site-packages" not in loaded[0]["detail"]:
        raise SystemExit(f"wheel-check: the shipped model did not load verified from the wheel: {loaded}")
    frames = [r for r in records if r.get("type") == "result"]
    if len(frames) < 10:
        raise SystemExit(f"wheel-check: only {len(frames)} frame records")
    schema = json.loads((ROOT / "docs" / "schemas" / "jsonl-record.schema.json").read_text())
    import jsonschema  # test tool (the `test` extra) of the venv running this check

    for record in records:
        jsonschema.validate(record, schema)
    verdict = json.loads(
        sh([str(bin_dir / "liveredge"), "verify", "--json", loaded[0]["detail"].split(" sha256=")[0]], work).stdout
    )
    doctor = json.loads(sh([str(bin_dir / "liveredge"), "doctor", "--json"], work).stdout)
    if not (verdict["loads"] and verdict["verified"] and doctor["ok"]):
        raise SystemExit(f"wheel-check: verify {verdict} / doctor {doctor}")
    print(
        f"wheel-check: run: {len(frames)} frames, shipped model verified, {len(records)} records valid; "
        f"verify and doctor ok (interpreters {doctor['interpreters']})"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--extra", choices=("edge", "device"), default="edge", help="which device install to check")
    ap.add_argument("--demo", action="store_true", help="also run 'liveredge demo' (about 15 s)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="liveredge-wheel-") as tmp:
        work = Path(tmp)
        bin_dir = install(work / "venv", build_wheel(work / "dist"), args.extra, work)
        check_installed(bin_dir, work)
        check_types(bin_dir, work)
        check_run(bin_dir, work)
        if args.demo:
            sh([str(bin_dir / "liveredge"), "demo", "--out", str(work / "demo"), "--seconds", "1.5"], work)
            print("wheel-check: demo completed (exit 0)")
    print(f"wheel-check: [{args.extra}] OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
