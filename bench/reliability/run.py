"""Reliability suite (``make reliability``; outside ``make test`` and ``make bench``): bad-input corpus through every
entry point, fault injection, and a 10-minute soak at a 240 fps source. Writes ``bench/results/reliability.json``.

Usage: ``python bench/reliability/run.py [--quick] [--out FILE] [--soak-s S]``. ``--quick`` (the smoke test) runs
every corpus case through the Python APIs, a representative subset through the CLI, every fault with shorter
outages, and a ~10 s soak. Exit status 0 when every acceptance point holds, 1 otherwise. Everything the models
learned is SIMULATED data; results are not for clinical use. See docs/reliability.md for reading the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import ENV, ROOT, Case, pick_model  # noqa: E402
from corpus import Corpus  # noqa: E402
from faults import Fault, run_faults  # noqa: E402
from faults_storage import run_storage_faults  # noqa: E402
from hostile import hostile_cases  # noqa: E402
from supply import supply_chain_cases  # noqa: E402

NOTICE = "SIMULATED data; not for clinical use"
TARGETS = {"crashes": 0, "records_lost": 0, "reconnect_s_max": 2.0, "rss_growth_pct_max": 5.0}


def run_corpus(work: Path, model: Path, flags: list[str], quick: bool, say: Callable[[str], None]) -> list[Case]:
    from liveredge.edge.sources import PrerenderedClip

    frames = list(
        PrerenderedClip.from_sim(
            "sim://?condition=steatosis&site=S1&fps=30&seed=3&size=240x320", 40, progress=False
        ).frames
    )
    corpus = Corpus(work / "corpus", model, flags, quick, say)
    for part in (
        corpus.models,
        lambda: corpus.videos(frames),
        lambda: corpus.frames(frames),
        corpus.dicoms,
        corpus.serial,
        lambda: hostile_cases(work / "hostile", model, flags, quick, corpus.add),
    ):
        part()
    for case in supply_chain_cases(work / "corpus", quick):
        corpus.add(case)
    return corpus.cases


def run_soak(seconds: float, quick: bool, say: Callable[[str], None]) -> dict[str, Any]:
    """The soak in its own process (a clean RSS); quick: 1 s samples, 2 s buckets, 2 s warm-up."""
    args = (
        ["--seconds", str(seconds), "--sample", "0.5", "--bucket", "2", "--warmup", "2"]
        if quick
        else ["--seconds", str(seconds), "--sample", "10", "--bucket", "60", "--warmup", "60"]
    )
    say(f"soak: {seconds:g} s at a 240 fps source")
    proc = subprocess.run(
        [sys.executable, str(HERE / "soak240.py"), *args],
        capture_output=True,
        text=True,
        errors="replace",
        env=ENV,
        cwd=ROOT,
        timeout=seconds + 180,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"crash": True, "error": proc.stderr[-600:], "rss_growth_pct": None, "p99_ms_over_time": []}
    return {"crash": False, **json.loads(lines[-1])}


def summarize(
    model_name: str, quick: bool, cases: list[Case], faults: list[Fault], soak: dict[str, Any], wall_s: float
) -> dict[str, Any]:
    crashes = sum(c.crash for c in cases) + sum(f.crash for f in faults) + int(bool(soak.get("crash")))
    reconnects = [f.reconnect_s for f in faults if f.reconnect_s is not None]
    lost = sum(f.records_lost or 0 for f in faults)
    growth = soak.get("rss_growth_pct")
    checks = {
        "zero_crashes": crashes == 0,
        "zero_records_lost": lost == 0 and any(f.records_lost is not None for f in faults),
        "reconnect_within_2s": len(reconnects) == 2 and max(reconnects) <= TARGETS["reconnect_s_max"],
        "rss_growth_within_5pct": growth is not None and growth <= TARGETS["rss_growth_pct_max"],
        "storage_loss_reported": all(f.survived for f in faults if f.name.startswith(("disk_full", "db_locked"))),
        "sigterm_within_1s": all(f.survived for f in faults if f.name == "sigterm_slow_frame"),
        "every_fault_survived": all(f.survived for f in faults),
        "every_case_as_expected": all(c.ok for c in cases),
    }
    return {
        "notice": NOTICE,
        "quick": quick,
        "model": model_name,
        "wall_s": round(wall_s, 1),
        "crashes": crashes,
        "records_lost": lost,
        "faults_survived": sum(f.survived for f in faults),
        "faults_total": len(faults),
        "reconnect_s": max(reconnects) if reconnects else None,
        "rss_growth_pct": growth,
        "p99_ms_over_time": soak.get("p99_ms_over_time", []),
        "targets": TARGETS,
        "acceptance": checks,
        "ok": all(checks[k] for k in list(checks)[:6]),
        "cases_total": len(cases),
        "cases_unexpected": [c.to_dict() for c in cases if not c.ok],
        "faults": [f.to_dict() for f in faults],
        "soak": {k: v for k, v in soak.items() if k != "rss_samples"},
        "soak_rss_samples": soak.get("rss_samples", []),
        "cases": [c.to_dict() for c in cases],
    }


def main() -> int:
    from tqdm import tqdm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke version (~20-30 s): short outages, 10 s soak")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "reliability.json"))
    ap.add_argument("--soak-s", type=float, default=None, help="soak seconds (default 600, quick 10)")
    args = ap.parse_args()
    t0 = time.monotonic()
    warnings.filterwarnings("ignore", module="pydicom")  # damaged files are the point; outcomes are recorded
    model, flags, model_name = pick_model()
    bar = tqdm(desc="reliability", unit="step", file=sys.stderr, leave=False)

    def say(text: str) -> None:
        bar.update(1)
        bar.set_postfix_str(text[:70])

    with tempfile.TemporaryDirectory(prefix="liveredge-reliability-") as tmp:
        ENV["XDG_STATE_HOME"] = os.environ["XDG_STATE_HOME"] = str(Path(tmp) / "state")  # anti-rollback state
        cases = run_corpus(Path(tmp), model, flags, args.quick, say)
        faults = run_faults(["--model", str(model), *flags], Path(tmp), args.quick, say)
        faults += run_storage_faults(["--model", str(model), *flags], Path(tmp), args.quick, say)
    soak = run_soak(args.soak_s or (10.0 if args.quick else 600.0), args.quick, say)
    bar.close()
    report = summarize(model_name, args.quick, cases, faults, soak, time.monotonic() - t0)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(
        f"reliability ({'quick' if args.quick else 'full'}, {report['wall_s']} s, model {model_name}): "
        f"{report['crashes']} crashes, {report['records_lost']} committed records lost, faults survived "
        f"{report['faults_survived']}/{report['faults_total']}, worst reconnect {report['reconnect_s']} s, RSS "
        f"growth {report['rss_growth_pct']} %, {len(report['cases_unexpected'])}/{report['cases_total']} cases "
        f"unexpected -> {args.out}. {NOTICE}.",
        file=sys.stderr,
    )
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
