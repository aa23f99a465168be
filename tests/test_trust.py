"""The trust policy with real files, real keys and the real LiteRT interpreter: each supply-chain probe of issue 15
reproduced and refused, the one-read guarantee under a file-swapping race, anti-rollback, the unverified flag on
every output, and ``verify`` deciding exactly as ``run``. Models are trained on SIMULATED data."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from runtime_fixtures import pubkey_args, sign_test_model, tiny_model_path, trusted

from liveredge.cli.main import main
from liveredge.edge.errors import VerificationError
from liveredge.edge.events import Quality
from liveredge.edge.runtime import load_model
from liveredge.edge.statement import statement_path
from liveredge.edge.trust import RELEASE_KEY, TrustPolicy, accepted_versions

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "models" / "zoo"
SIM = "sim://?condition=steatosis&site=S1&fps=30&seed=1&size=240x320"


def _copy(src: Path, dst: Path, statement_of: Path | None = None) -> Path:
    """``src`` copied to ``dst`` with its sidecars (the statement of ``statement_of`` when given)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)
    shutil.copy(statement_path(statement_of or src), statement_path(dst))
    shutil.copy(str(src) + ".sha256", str(dst) + ".sha256")
    return dst


def _cli(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "liveredge.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _release(**policy: object) -> object:
    """LoadOptions trusting only the packaged release key (the device default)."""
    from liveredge.edge.runtime import LoadOptions

    return LoadOptions(trust=TrustPolicy(**policy))  # type: ignore[arg-type]


def _name(model: Path) -> str:
    from liveredge.edge.model_meta import read_metadata

    meta = read_metadata(model)
    assert meta is not None
    return meta.name


def _refused(proc: subprocess.CompletedProcess[str], path: Path, reason: str) -> None:
    assert proc.returncode != 0, proc.stdout[-500:]
    assert "Traceback" not in proc.stderr and str(path) in proc.stderr and reason in proc.stderr, proc.stderr


def test_the_packaged_release_key_is_the_repository_key_and_vouches_for_the_zoo() -> None:
    assert RELEASE_KEY.read_bytes() == (ROOT / "keys" / "liveredge-zoo.pub").read_bytes()
    roles = {p.name: json.loads(statement_path(p).read_text())["statement"]["role"] for p in ZOO.glob("*.tflite")}
    assert roles == {
        "liver_cnn_int8.tflite": "release",
        "liver_hybrid_int8.tflite": "release",
        "liver_hybrid_v1_int8.rejected.tflite": "rejected",
        "liver_cnn_int8.float32.tflite": "dev",
        "liver_hybrid_int8.float32.tflite": "dev",
    }
    assert not list(ZOO.glob("*.sig"))  # bare-file signatures are gone: only statements are trusted
    model = load_model(ZOO / "liver_cnn_int8.tflite", commit=False)  # the default policy: no --pubkey
    assert model.verified and model.statement is not None and model.statement.name == "liver_cnn"


def test_the_shipped_hybrid_is_a_verified_release_that_carries_its_not_a_liver_gate() -> None:
    model = load_model(ZOO / "liver_hybrid_int8.tflite", commit=False)  # the default policy, like the CNN
    assert model.verified and model.statement is not None
    assert (model.statement.name, model.statement.version, model.statement.role) == ("liver_hybrid", 2, "release")
    op = model.meta.operating_point
    assert model.meta.labels[-1] == "not_liver" and op.temperature > 1.0
    assert op.not_liver_threshold is not None and op.energy_threshold is not None  # a scene cannot become a diagnosis


def test_relabelled_model_with_remade_sha256_and_old_statement_is_refused(tmp_path: Path) -> None:
    """Probe 1: permuted labels, a re-made ``.sha256`` and the old (now invalid) signature."""
    from liveredge.convert.embed import embed_metadata
    from liveredge.edge.integrity import write_sidecar
    from liveredge.edge.model_meta import read_metadata

    model = _copy(ZOO / "liver_cnn_int8.tflite", tmp_path / "liver_cnn_int8.tflite")
    meta = read_metadata(model)
    assert meta is not None
    model.write_bytes(embed_metadata(model.read_bytes(), replace(meta, labels=meta.labels[::-1])))
    write_sidecar(model)
    for proc in (_cli("verify", model), _cli("run", "--model", model, "--source", SIM, "--max-frames", "1")):
        _refused(proc, model, "signed statement is for other bytes")
    with pytest.raises(VerificationError, match="other bytes"):  # --allow-unverified does not excuse a mismatch
        load_model(model, _release(allow_unverified=True))


def test_rejected_model_renamed_as_the_release_is_refused(tmp_path: Path) -> None:
    """Probe 3: the gate-rejected v1 hybrid renamed to liver_cnn_int8.tflite (with its statement, or the cnn's)."""
    rejected = ZOO / "liver_hybrid_v1_int8.rejected.tflite"
    own = _copy(rejected, tmp_path / "a" / "liver_cnn_int8.tflite")
    _refused(
        _cli("run", "--model", own, "--source", SIM, "--max-frames", "1", "--allow-unverified"), own, "role 'rejected'"
    )
    borrowed = _copy(rejected, tmp_path / "b" / "liver_cnn_int8.tflite", statement_of=ZOO / "liver_cnn_int8.tflite")
    os.unlink(str(borrowed) + ".sha256")
    _refused(_cli("verify", borrowed), borrowed, "other bytes")


def test_float_twin_is_not_a_release(tmp_path: Path) -> None:
    twin = _copy(ZOO / "liver_cnn_int8.float32.tflite", tmp_path / "liver_cnn_int8.tflite")
    _refused(_cli("run", "--model", twin, "--source", SIM, "--max-frames", "1"), twin, "role 'dev'")
    dev = load_model(twin, _release(allow_dev=True), commit=False)  # explicitly allowed: runs, as dev
    assert dev.verified and dev.statement is not None and dev.statement.role == "dev"


def test_rollback_is_refused_unless_allowed(tmp_path: Path) -> None:
    base = tiny_model_path(tmp_path)
    new = sign_test_model(_copy(base, tmp_path / "v2.tflite"), version=2)
    old = sign_test_model(_copy(base, tmp_path / "v1.tflite"), version=1)
    state, name = tmp_path / "state", _name(base)
    assert load_model(old, trusted(old, state_dir=state)).verified  # v1 first: fine
    assert load_model(new, trusted(new, state_dir=state), commit=False).verified
    assert accepted_versions(TrustPolicy(state_dir=state)) == {name: 1}  # commit=False records nothing
    load_model(new, trusted(new, state_dir=state))
    assert accepted_versions(TrustPolicy(state_dir=state)) == {name: 2}
    with pytest.raises(VerificationError, match="older than v2"):
        load_model(old, trusted(old, state_dir=state))
    assert load_model(old, trusted(old, state_dir=state, allow_rollback=True)).verified
    assert accepted_versions(TrustPolicy(state_dir=state)) == {name: 2}  # a rollback never lowers the mark
    _refused(
        _cli("run", "--model", old, *pubkey_args(old), "--state-dir", state, "--source", SIM, "--max-frames", "1"),
        old,
        "--allow-rollback",
    )
    (state / "versions.json").write_text("{not json")  # a damaged state is an error, never "nothing seen yet"
    _refused(_cli("verify", old, *pubkey_args(old), "--state-dir", state), state / "versions.json", "unreadable")


def test_untrusted_key_is_refused_even_with_allow_unverified(tmp_path: Path) -> None:
    model = tiny_model_path(tmp_path)  # signed by a test key nobody told this device to trust
    for allow in (False, True):
        with pytest.raises(VerificationError, match="does not trust"):
            load_model(model, _release(allow_unverified=allow))


def test_swap_race_never_loads_unsigned_bytes(tmp_path: Path) -> None:
    """Probe 2 (TOCTOU), small: a thread keeps swapping the signed tiny model and an unsigned, different model
    (the zoo cnn, another graph) in place while ``load_model`` runs; whatever loads is the signed one."""
    model = tiny_model_path(tmp_path)
    signed, evil = model.read_bytes(), (ZOO / "liver_cnn_int8.tflite").read_bytes()
    want = load_model(model, trusted(model), commit=False)
    stop, swaps = threading.Event(), [0]

    def swapper() -> None:
        staged = [tmp_path / "good.tmp", tmp_path / "evil.tmp"]
        while not stop.is_set():
            for data, tmp in zip((evil, signed), staged, strict=True):
                tmp.write_bytes(data)
                os.replace(tmp, model)
                swaps[0] += 1

    thread = threading.Thread(target=swapper, daemon=True)
    thread.start()
    loaded = refused = 0
    try:
        for _ in range(50):
            try:
                got = load_model(model, trusted(model), commit=False)
            except VerificationError:
                refused += 1
                continue
            loaded += 1
            assert got.sha256 == want.sha256 and got.runner.input_shape == want.runner.input_shape
    finally:
        stop.set()
        thread.join(5)
    assert loaded + refused == 50 and swaps[0] >= 10 and refused > 0  # the race really ran and hit the loader


def test_unverified_model_runs_only_when_allowed_and_every_output_says_so(tmp_path: Path) -> None:
    bare = tmp_path / "bare.tflite"
    bare.write_bytes((ZOO / "liver_cnn_int8.tflite").read_bytes())
    _refused(_cli("run", "--model", bare, "--source", SIM, "--max-frames", "1"), bare, "--allow-unverified")
    jsonl, db = tmp_path / "out.jsonl", tmp_path / "exams.db"
    proc = _cli(
        "run",
        "--model",
        bare,
        "--allow-unverified",
        "--source",
        SIM,
        "--max-frames",
        "4",
        "--exam",
        "U1",
        "--jsonl",
        jsonl,
        "--db",
        db,
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in jsonl.read_text().splitlines()]
    results = [e for e in events if e["type"] == "result"]
    assert results and all("unverified_model" in e["quality_flags"] for e in results)
    assert any(e["type"] == "state" and "UNVERIFIED_MODEL" in e["detail"] for e in events)
    with sqlite3.connect(db) as conn:
        flags = [row[0] for row in conn.execute("SELECT quality FROM records WHERE type = 'result'")]
    assert flags and all(q & int(Quality.UNVERIFIED_MODEL) for q in flags)
    assert "exam U1" in proc.stderr and "UNVERIFIED MODEL" in proc.stderr


class WireBridge:
    """A RuntimeBridge that encodes every message with the real codec and keeps what decodes."""

    def __init__(self) -> None:
        self.decoded: list[object] = []

    def _send(self, message: object) -> bool:
        from liveredge.firmware_bridge.codec import decode_frame, encode_frame

        frame = decode_frame(encode_frame(message, len(self.decoded))[:-1])  # type: ignore[arg-type]
        self.decoded.append(frame.message)  # type: ignore[union-attr]
        return True

    def publish_result(self, **kw: object) -> bool:
        from liveredge.firmware_bridge.runtime import make_result

        return self._send(make_result(**kw))  # type: ignore[arg-type]

    def publish_summary(self, **kw: object) -> bool:
        from liveredge.firmware_bridge.runtime import make_summary

        return self._send(make_summary(**kw))  # type: ignore[arg-type]

    def publish_alert(self, code: int, **kw: object) -> bool:
        from liveredge.firmware_bridge.runtime import make_alert

        return self._send(make_alert(code, **kw))  # type: ignore[arg-type]

    def poll_events(self) -> list[object]:
        return []

    def close(self) -> None:
        """Nothing to release."""


def test_unverified_flag_reaches_the_wire(tmp_path: Path) -> None:
    from liveredge.edge.runtime import FrameProcessor, Pipeline, PipelineConfig
    from liveredge.edge.runtime.bridge import BridgeSink
    from liveredge.edge.sources import PrerenderedClip
    from liveredge.firmware_bridge.messages import Quality as WireQuality

    bare = tmp_path / "bare.tflite"
    bare.write_bytes((ZOO / "liver_cnn_int8.tflite").read_bytes())
    model = load_model(bare, _release(allow_unverified=True))
    bridge = WireBridge()
    clip = PrerenderedClip(list(PrerenderedClip.from_sim(SIM, 5, progress=False).frames), rate="max")
    sink = BridgeSink(bridge)
    pipe = Pipeline(clip, FrameProcessor(model), [sink], PipelineConfig(backpressure=True))
    pipe.start_exam("W1")
    pipe.run()
    pipe.finish()
    sink.close()  # the sink publishes on its own thread: hand over what is queued
    assert {type(m).__name__ for m in bridge.decoded} == {"Result", "ExamSummary"}
    assert all(m.quality_flags & WireQuality.UNVERIFIED_MODEL for m in bridge.decoded)  # type: ignore[attr-defined]


def test_unverified_flag_is_drawn_on_the_display() -> None:
    from liveredge.edge.events import FrameResult
    from liveredge.edge.sinks import draw_overlay

    labels = ("normal", "steatosis", "fibrosis", "focal_lesion")
    image = np.zeros((120, 160, 3), np.uint8)
    probs = (0.1, 0.7, 0.1, 0.1)
    plain = FrameResult(1, 0.0, 0.0, 0.0, probs, probs, "steatosis", 0.7)
    flagged = replace(plain, quality=Quality.UNVERIFIED_MODEL)
    red = lambda img: int(((img[..., 2] > 200) & (img[..., 1] < 50)).sum())  # noqa: E731
    assert red(draw_overlay(image, flagged, labels)) > red(draw_overlay(image, plain, labels))


def _cases(tmp_path: Path) -> dict[str, Path]:
    """The matrix: one folder per case, each a model the policy must judge."""
    tiny = tiny_model_path(tmp_path / "tiny")
    zoo = {
        name: _copy(ZOO / f, tmp_path / name / "liver_cnn_int8.tflite")
        for name, f in (
            ("release", "liver_cnn_int8.tflite"),
            ("rejected", "liver_hybrid_v1_int8.rejected.tflite"),
            ("float_twin", "liver_cnn_int8.float32.tflite"),
        )
    }
    bare = tmp_path / "unsigned" / "m.tflite"
    bare.parent.mkdir()
    bare.write_bytes(tiny.read_bytes())
    flipped = _copy(tiny, tmp_path / "flipped" / "tiny_int8.tflite")
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 1
    flipped.write_bytes(bytes(data))
    os.unlink(str(flipped) + ".sha256")
    old = _copy(tiny, tmp_path / "old" / "tiny_int8.tflite")
    for key in ("test-signer.key", "test-signer.pub"):  # the same (trusted) test key signs v1
        shutil.copy(tiny.parent / key, old.parent / key)
    sign_test_model(old, version=1)
    (tmp_path / "old" / "state").mkdir()
    (tmp_path / "old" / "state" / "versions.json").write_text(json.dumps({_name(tiny): 3}))
    return {**zoo, "tiny_test_key": tiny, "unsigned": bare, "flipped": flipped, "rollback": old}


@pytest.mark.parametrize("flags", [[], ["--allow-unverified", "--allow-dev", "--allow-rollback"]])
def test_verify_exits_zero_exactly_when_run_loads(
    tmp_path: Path, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    expected_loads = {"release", "tiny_test_key"} | ({"unsigned", "float_twin", "rollback"} if flags else set())
    loads = set()
    cases = _cases(tmp_path)
    for name, model in cases.items():
        state = model.parent / "state"
        common = [str(model), *pubkey_args(cases["tiny_test_key"]), "--state-dir", str(state), *flags]
        verify = main(["verify", *common])
        ran = main(
            [
                "run",
                "--model",
                *common,
                "--source",
                SIM,
                "--max-frames",
                "1",
                "--jsonl",
                str(model.parent / "out.jsonl"),
            ]
        )
        capsys.readouterr()
        assert (verify == 0) == (ran == 0), f"{name}: verify {verify}, run {ran}"
        if ran == 0:
            loads.add(name)
    assert loads == expected_loads
