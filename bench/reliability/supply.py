"""Model supply-chain probes of issue 15, kept as corpus cases: each must end in a refusal (exit != 0, a message
naming the file, no traceback), never in a model running as verified.

* ``relabelled``: labels permuted in the metadata, ``.sha256`` re-made, the old statement kept;
* ``rejected_renamed``: the gate-rejected hybrid (with its own statement) renamed to ``liver_cnn_int8.tflite``;
* ``float_twin``: the float32 twin (role dev) as ``liver_cnn_int8.tflite``;
* ``rollback``: the release with an anti-rollback state that has seen a newer version;
* ``swap_race``: a thread swaps the signed model and an unsigned one in place while ``liveredge run --max-frames 1``
  loads it (in this process, so 1,000 attempts take minutes, not an hour); every run must either refuse or load
  exactly the signed bytes (the ``model_loaded`` event's sha256) — never anything else.

Needs the signed reference model (models/zoo/); skipped with a note otherwise. SIMULATED data only.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path

from common import ROOT, Case, run_cli

ZOO = ROOT / "models" / "zoo"
SIM = "sim://?condition=steatosis&site=S1&fps=30&seed=3&size=240x320"
REFUSED = "exit 1, refused naming the file"


def supply_chain_cases(work: Path, quick: bool) -> list[Case]:
    """Every probe once through ``liveredge run`` (and ``verify`` for the first), then the swap race."""
    release = ZOO / "liver_cnn_int8.tflite"
    if not Path(str(release) + ".statement.json").is_file():
        return [
            Case(
                "supply chain",
                "model:zoo",
                "signed reference model",
                "skipped",
                "models/zoo not signed",
                False,
                True,
                0.0,
            )
        ]
    cases: list[Case] = []
    for name, path, extra in _probes(work / "supply", release):
        check = lambda out, err, p=path: None if str(p) in err else f"message does not name {p}"  # noqa: E731
        args = ["run", "--model", str(path), "--source", SIM, "--max-frames", "1", "--jsonl", "-", *extra]
        cases.append(run_cli("liveredge run", args, f"model:{name}", {1}, REFUSED, check=check))
        if name == "relabelled":
            cases.append(
                run_cli("liveredge verify", ["verify", str(path), *extra], f"model:{name}", {1}, REFUSED, check=check)
            )
    cases.append(swap_race(work / "race", release, 50 if quick else 1000))
    return cases


def _place(src: Path, dst: Path, sidecars: bool = True) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)
    for suffix in (".statement.json", ".sha256") if sidecars else ():
        shutil.copy(str(src) + suffix, str(dst) + suffix)
    return dst


def _probes(folder: Path, release: Path) -> list[tuple[str, Path, list[str]]]:
    from liveredge.convert.embed import embed_metadata
    from liveredge.edge.integrity import write_sidecar
    from liveredge.edge.model_meta import read_metadata

    relabelled = _place(release, folder / "relabelled" / release.name)
    meta = read_metadata(relabelled)
    assert meta is not None, "the reference model carries metadata"
    relabelled.write_bytes(embed_metadata(relabelled.read_bytes(), replace(meta, labels=meta.labels[::-1])))
    write_sidecar(relabelled)
    rejected = _place(ZOO / "liver_hybrid_v1_int8.rejected.tflite", folder / "rejected" / release.name)
    twin = _place(ZOO / "liver_cnn_int8.float32.tflite", folder / "twin" / release.name)
    old = _place(release, folder / "rollback" / release.name)
    state = folder / "rollback" / "state"
    state.mkdir()
    (state / "versions.json").write_text(json.dumps({meta.name: 99}))
    return [
        ("relabelled", relabelled, []),
        ("rejected_renamed", rejected, ["--allow-unverified"]),
        ("float_twin", twin, []),
        ("rollback", old, ["--state-dir", str(state)]),
    ]


def swap_race(folder: Path, release: Path, attempts: int) -> Case:
    """``attempts`` in-process ``liveredge run --max-frames 1`` while a thread swaps the file; see module doc."""
    from liveredge.cli.main import main

    model = _place(release, folder / release.name)
    signed, evil = release.read_bytes(), (ZOO / "liver_hybrid_v1_int8.rejected.tflite").read_bytes()
    digest = json.loads(Path(str(release) + ".statement.json").read_text())["statement"]["sha256"]
    stop, swaps = threading.Event(), [0]
    thread = threading.Thread(target=_swapper, args=(model, (evil, signed), stop, swaps), daemon=True)
    t0, loaded, refused, wrong = time.monotonic(), 0, 0, []
    thread.start()
    try:
        for i in range(attempts):
            out = folder / f"run{i % 2}.jsonl"
            with contextlib.redirect_stderr(io.StringIO()):
                rc = main(
                    [
                        "run",
                        "--model",
                        str(model),
                        "--source",
                        SIM,
                        "--max-frames",
                        "1",
                        "--threads",
                        "1",
                        "--jsonl",
                        str(out),
                        "--state-dir",
                        str(folder / "state"),
                    ]
                )
            seen = _loaded_sha(out) if rc == 0 else None
            loaded, refused = loaded + (rc == 0), refused + (rc != 0)
            if rc == 0 and (seen is None or not digest.startswith(seen)):
                wrong.append(f"attempt {i}: loaded sha256 {seen}")
    finally:
        stop.set()
        thread.join(5)
    ok = not wrong and loaded + refused == attempts and swaps[0] > attempts
    detail = f"{attempts} attempts, {swaps[0]} swaps: {loaded} loaded the signed bytes, {refused} refused; " + (
        "; ".join(wrong[:3]) or "nothing unsigned loaded"
    )
    return Case(
        "liveredge run (swap race)",
        f"model:swap_race_{attempts}",
        "refused or the signed bytes, never other bytes",
        "ok" if ok else "WRONG",
        detail,
        False,
        ok,
        round(time.monotonic() - t0, 2),
    )


def _swapper(model: Path, contents: tuple[bytes, bytes], stop: threading.Event, swaps: list[int]) -> None:
    staged = [model.with_suffix(".a.tmp"), model.with_suffix(".b.tmp")]
    while not stop.is_set():
        for data, tmp in zip(contents, staged, strict=True):
            tmp.write_bytes(data)
            os.replace(tmp, model)
            swaps[0] += 1


def _loaded_sha(jsonl: Path) -> str | None:
    """The sha256 prefix of the ``model_loaded`` event (``... sha256=<16 hex> ... verified=True``)."""
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("state") == "model_loaded" and "verified=True" in event["detail"]:
            return event["detail"].split("sha256=")[1].split()[0]
    return None
