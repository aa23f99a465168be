"""``liveredge federate`` end to end: simulate the clinics, run the Flower federation as separate processes,
train the baselines (each clinic alone, pooled), score all three on every clinic's held-out patients and on an
unseen site, and write ``OUT/federated.json`` + ``OUT/federated.html``.

The baselines are an EXPERIMENT harness: to compare, this process reads every clinic's folder, which no real
deployment can (and the federated run itself never does: only the SuperNodes read their clinic's data).
SIMULATED data, not for clinical use.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liveredge.edge.errors import ConfigError
from liveredge.models.federated import deploy
from liveredge.models.federated.config import ClinicPlan, FederateConfig, clinic_plans, unseen_plan


@dataclass(frozen=True)
class RunOptions:
    """How to run: where, which SuperLink (None: start a local one), the fault drill, the overall timeout."""

    out: Path
    superlink: str | None = None
    root_certificates: Path | None = None
    insecure: bool = False
    drop_clinic: int | None = None
    drop_round: int = 1
    timeout_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.superlink is not None:
            deploy.parse_address(self.superlink)
        if self.root_certificates is not None and not self.root_certificates.is_file():
            raise ConfigError(f"--root-certificates {self.root_certificates}: no such file")
        if self.drop_clinic is not None and self.superlink is not None:
            raise ConfigError("--drop-clinic is a drill for the local federation; it cannot reach a joined one's nodes")
        if self.drop_round < 1 or self.timeout_s <= 0:
            raise ConfigError("--drop-round must be >= 1 and --timeout > 0")


def say(text: str) -> None:
    print(f"[federate] {text}", file=sys.stderr, flush=True)


def run_config(cfg: FederateConfig, out: Path) -> dict[str, object]:
    """The Flower App's run config (every value the ServerApp reads)."""
    return {
        "out-dir": str(out.resolve()),
        "init": cfg.init,
        "width": cfg.width,
        "input-size": f"{cfg.input_size[0]}x{cfg.input_size[1]}",
        "rounds": cfg.rounds,
        "local-epochs": cfg.local_epochs,
        "strategy": cfg.strategy,
        "proximal-mu": cfg.proximal_mu,
        "lr": cfg.learning_rate,
        "batch-size": cfg.batch_size,
        "val-frac": cfg.val_frac,
        "seed": cfg.seed,
        "threads": cfg.threads,
        "clinics": cfg.clinics,
        "min-clinics": cfg.min_nodes,
        "round-timeout": cfg.round_timeout_s,
        "dp-epsilon": cfg.dp_epsilon,
        "dp-delta": cfg.dp_delta,
        "dp-clip": cfg.dp_clip,
    }


def simulate(plan: ClinicPlan, n_patients: int, cfg: FederateConfig, out: Path) -> Path:
    """Write (once) a clinic's simulated dataset: its own scanner profile, its own patients."""
    from liveredge.edge.sim.dataset import plan_dataset, write_dataset

    if (out / "manifest.csv").is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    negatives = cfg.negatives_per_clinic if plan.name != "unseen" else max(1, n_patients // 4)
    specs = plan_dataset(n_patients, [plan.profile], plan.seed, negatives=negatives, purpose=plan.purpose)
    write_dataset(out, specs, cfg.frames_per_patient, cfg.screen_size, progress=False)
    return out


def _ticker(procs: deploy.Processes, dirs: list[Path], opts: RunOptions, drill: dict[str, Any]) -> Callable[[], None]:
    """Called every second while the federation runs: one progress line per finished round, and the fault drill
    (SIGKILL clinic K's SuperNode, with its ClientApp, once it has started round R)."""
    shown = [0]

    def tick() -> None:
        try:
            rounds = json.loads((opts.out / "federation" / "rounds.json").read_text())["rounds"]
        except (OSError, ValueError, KeyError):
            rounds = []
        for r in rounds[shown[0] :]:
            say(
                f"round {r['round']}: {r['replied']}/{r['sent_to']} clinics replied, "
                f"{(r['bytes_down'] + r['bytes_up']) / 1e6:.1f} MB on the wire, {r['wall_s']:.0f} s"
            )
        shown[0] = max(shown[0], len(rounds))
        if opts.drop_clinic is None or "killed_at_s" in drill:
            return
        marker = dirs[opts.drop_clinic - 1] / ".liveredge-fed" / f"round-{opts.drop_round}.started"
        if marker.is_file():
            procs.kill(f"supernode-{opts.drop_clinic}")
            drill.update(clinic=f"clinic{opts.drop_clinic}", round=opts.drop_round, killed_at_s=time.time())
            say(f"fault drill: killed clinic{opts.drop_clinic}'s SuperNode during round {opts.drop_round}")

    return tick


def federation(cfg: FederateConfig, opts: RunOptions, dirs: list[Path]) -> dict[str, Any]:
    """Run the Flower federation (local processes, or join ``opts.superlink``); returns the ServerApp's log."""
    app = deploy.write_app(opts.out / "app", run_config(cfg, opts.out))
    procs = deploy.Processes(opts.out / "logs")
    drill: dict[str, Any] = {}
    result = opts.out / "federation"
    for stale in ("done.json", "error.json"):
        (result / stale).unlink(missing_ok=True)
    try:
        if opts.superlink is None:
            endpoint = deploy.start_local(procs, opts.out, dirs)
            say(f"SuperLink on {endpoint.control}, {len(dirs)} SuperNodes, one process group each (logs: {procs.logs})")
            essential = ["superlink"]
        else:
            endpoint = deploy.Endpoint(opts.superlink, opts.insecure, opts.root_certificates)
            essential = []
        deploy.submit(procs, opts.out, app, endpoint)
        deploy.wait_for(result, procs, opts.timeout_s, essential, _ticker(procs, dirs, opts, drill))
    finally:
        procs.stop_all()
    log = json.loads((result / "rounds.json").read_text())
    log["fault_drill"] = drill or None
    return log


def _scores(model: Any, spec: Any, sets: dict[str, tuple[np.ndarray, np.ndarray]], n: int) -> dict[str, float]:
    from liveredge.models.federated.learn import score

    return {name: score(model, x, y, spec, n).balanced_accuracy for name, (x, y) in sets.items()}


def baselines(cfg: FederateConfig, dirs: list[Path], unseen: Path, federated_model: Path) -> dict[str, Any]:
    """Balanced accuracy of local-only (per clinic), federated and pooled models on every held-out set."""
    from liveredge.models.federated import learn
    from liveredge.models.federated.server_app import LABELS

    learn.configure(cfg.threads, cfg.seed)
    _, spec = learn.initial_model(cfg.init, LABELS, cfg.width, cfg.input_size, cfg.seed)
    data = {f"clinic{k + 1}": learn.load_clinic(d, spec, LABELS, cfg.val_frac, cfg.seed) for k, d in enumerate(dirs)}
    sets = {name: (c.val_images, c.val_y) for name, c in data.items()}
    sets["unseen"] = _unseen_set(unseen, spec, LABELS)
    n = len(LABELS)

    def trained(images: np.ndarray, y: np.ndarray, seed: int) -> Any:
        model, _ = learn.initial_model(cfg.init, LABELS, cfg.width, cfg.input_size, cfg.seed)
        learn.fit(
            model,
            images,
            y,
            spec,
            LABELS,
            learn.FitSettings(cfg.total_local_epochs, cfg.batch_size, cfg.learning_rate, 0.0, seed),
        )
        return model

    local = {}
    for k, (name, c) in enumerate(data.items()):
        say(f"baseline: {name} alone ({len(c.train_y)} frames, {cfg.total_local_epochs} epochs)")
        local[name] = _scores(trained(c.train_images, c.train_y, cfg.seed * 1000 + 500 + k), spec, sets, n)
    say("baseline: pooled (centralised) training on every clinic's training patients")
    pooled = trained(
        np.concatenate([c.train_images for c in data.values()]),
        np.concatenate([c.train_y for c in data.values()]),
        cfg.seed * 1000 + 600,
    )
    import keras

    fed = keras.models.load_model(federated_model, compile=False)
    frames: dict[str, Any] = {
        name: {
            "train": int(len(c.train_y)),
            "val": int(len(c.val_y)),
            "train_patients": c.n_train_patients,
            "val_patients": c.n_val_patients,
        }
        for name, c in data.items()
    }
    frames["unseen"] = {"test": int(len(sets["unseen"][1]))}
    return {
        "local_only": local,
        "centralized": _scores(pooled, spec, sets, n),
        "federated": _scores(fed, spec, sets, n),
        "frames": frames,
    }


def _unseen_set(path: Path, spec: Any, labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    from liveredge.models import dataset as ds
    from liveredge.models.frames import load_usable_frames

    manifest = ds.read_manifest(path, labels)
    images, usable = load_usable_frames(manifest, spec)
    return images[usable], manifest.y[usable]


def federate(cfg: FederateConfig, opts: RunOptions) -> dict[str, Any]:
    """The whole run; returns the report written to ``OUT/federated.json`` (and the HTML beside it)."""
    from liveredge.models.federated.report import build_report, write_html

    start = time.perf_counter()
    opts.out.mkdir(parents=True, exist_ok=True)
    plans, unseen = clinic_plans(cfg), unseen_plan(cfg)
    dirs: list[Path] = []
    if opts.superlink is None:  # joining: the clinics' SuperNodes already have their own data
        say(
            f"simulating {cfg.clinics} clinics x {cfg.patients_per_clinic} patients and an unseen site (SIMULATED data)"
        )
        dirs = [simulate(p, cfg.patients_per_clinic, cfg, opts.out / "clinics" / p.name) for p in plans]
    t_fed = time.perf_counter()
    log = federation(cfg, opts, dirs)
    fed_s = time.perf_counter() - t_fed
    say(f"federation finished in {fed_s:.0f} s")
    scores = None
    if opts.superlink is None:
        unseen_dir = simulate(unseen, cfg.unseen_patients, cfg, opts.out / "unseen_site")
        scores = baselines(cfg, dirs, unseen_dir, opts.out / "federation" / "federated_model.keras")
    report = build_report(
        cfg,
        plans,
        unseen,
        log,
        scores,
        {"total": time.perf_counter() - start, "federation": fed_s},
        joined=opts.superlink,
    )
    (opts.out / "federated.json").write_text(json.dumps(report, indent=1))
    write_html(report, opts.out / "federated.html")
    return report
