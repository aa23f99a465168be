"""``liveredge demo`` — the whole chain on embedded defaults, in well under two minutes.

A simulated probe scans four simulated patients (normal, steatosis, fibrosis, focal lesion), then a simulated
heart (the probe on the wrong organ: the exam must end "not_liver", never a disease) → the shipped,
signed int8 reference model → smoothing, quality gating, exam aggregation → results over a real serial link (a
pty) to the MCU emulator, whose buttons start and end each exam → live lines in the terminal, an exam summary per
patient, and an HTML exam report. Module level: argparse and the standard library only.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from liveredge.edge.shipped import MODEL_CARD, default_model

BANNER = (
    "*** SIMULATED DATA - NOT FOR CLINICAL USE: the model was trained on simulated ultrasound and the "
    "patients below are simulated. ***"
)


@dataclass(frozen=True)
class DemoPatient:
    """One simulated patient: the condition the simulator renders and the class the exam should report."""

    name: str
    truth: str
    query: str


PATIENTS = (
    DemoPatient("patient 1", "normal", "condition=normal"),
    DemoPatient("patient 2", "steatosis", "condition=steatosis&severity=2"),
    DemoPatient("patient 3", "fibrosis", "condition=fibrosis&severity=4"),
    DemoPatient("patient 4", "focal_lesion", "condition=focal_lesion&lesion=cyst&lesion_mm=30"),
    DemoPatient("probe on the heart", "not_liver", "scene=cardiac"),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="end-to-end demo: simulated probe -> int8 model -> MCU over serial -> report",
        description="End-to-end demo on embedded defaults. " + BANNER,
    )
    p.add_argument("--model", default=str(default_model()), help="int8 model (default: %(default)s)")
    p.add_argument(
        "--pubkey",
        action="append",
        default=None,
        metavar="KEY",
        help="an extra trusted public key (the packaged release key, which signs the zoo, always is)",
    )
    p.add_argument("--out", default="build/demo", help="folder for the report, exam log and serial link")
    p.add_argument("--site", default="S6", help="simulated scanner profile (default: S6, the held-out site)")
    p.add_argument("--seconds", type=float, default=4.0, help="exam length per patient in seconds")
    p.add_argument("--fps", type=float, default=30.0, help="simulated probe frame rate")
    p.add_argument("--seed", type=int, default=11, help="simulation seed")
    p.add_argument("--every", type=int, default=6, help="print one live line every N frames")
    p.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from liveredge.edge.errors import ConfigError

    if args.seconds <= 0 or args.fps <= 0 or args.every < 1:
        raise ConfigError("--seconds and --fps must be > 0 and --every >= 1")
    print(BANNER, flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with _Rig(args, out) as rig:
        records = [rig.scan(p) for p in PATIENTS]
        report = rig.report(records)
    wrong = [r for r in records if r.summary is None or r.summary.label != r.truth]
    print(f"\nHTML exam report: {report.resolve()}")
    print(f"exam log (SQLite): {(out / 'exams.db').resolve()}")
    print(
        f"{len(records) - len(wrong)}/{len(records)} exams report the simulated condition (a model misses some "
        f"simulated cases: see {MODEL_CARD} for how often)."
    )
    print(BANNER, flush=True)
    return _exit_code(records)


def _exit_code(records: list[Any]) -> int:
    """1 when the chain failed (an exam without a summary over the serial link) or a safety rule broke (a
    non-liver exam reported a disease); a wrong class on a liver exam is a model error, reported above, not a
    failure of the demo."""
    from liveredge.edge.events import NOT_LIVER, UNCERTAIN

    missing = [r.name for r in records if r.summary is None]
    unsafe = [
        r.name
        for r in records
        if r.truth == NOT_LIVER and r.summary is not None and r.summary.label not in (NOT_LIVER, UNCERTAIN)
    ]
    for name in missing:
        print(f"demo: {name}: no exam summary arrived", file=sys.stderr)
    for name in unsafe:
        print(f"demo: {name}: a scan that is not a liver was reported as a diagnosis", file=sys.stderr)
    return 1 if missing or unsafe else 0


class _Rig:
    """The model, the MCU emulator on a pty, the serial bridge and the shared sinks for all patients."""

    def __init__(self, args: argparse.Namespace, out: Path) -> None:
        self.args, self.out = args, out

    def __enter__(self) -> _Rig:
        from liveredge.edge.runtime import LoadOptions, TrustPolicy, load_model
        from liveredge.edge.sinks import ExamLog
        from liveredge.firmware_bridge import SerialBridge
        from liveredge.firmware_bridge.emulator import PtyEmulator

        trust = TrustPolicy(extra_keys=tuple(self.args.pubkey or ()))
        self.model = load_model(self.args.model, LoadOptions(trust=trust))
        s = self.model.statement
        signed = (
            "UNVERIFIED: no signed statement"
            if s is None
            else f"signed statement verified: {s.name} v{s.version} {s.role}"
        )
        print(f"model: {self.args.model} ({signed}); labels {', '.join(self.model.meta.labels)}")
        self.emu = PtyEmulator(link_path=self.out / "mcu-serial", on_event=self._mcu_event)
        link = self.emu.start()
        self.bridge = SerialBridge.open(link, wait_s=3.0)
        print(f"MCU emulator on {self.emu.path} (link {link}); serial handshake done")
        self.examlog = ExamLog(str(self.out / "exams.db"))
        return self

    def __exit__(self, *exc: object) -> None:
        self.examlog.close()
        self.bridge.close()
        self.emu.stop()

    def _mcu_event(self, event: Any) -> None:
        name = type(event).__name__
        if name == "ExamSummary":
            from liveredge.firmware_bridge import CLASS_NAMES

            label = CLASS_NAMES.get(event.class_index, str(event.class_index))
            print(
                f"  MCU <- EXAM_SUMMARY exam {event.exam_id}: class {label}, frames {event.frames}, "
                f"uncertain {event.uncertain_frames} (acknowledged)",
                flush=True,
            )

    def scan(self, patient: DemoPatient) -> Any:
        """Scan one patient: warm-up, MCU exam start button, exam, MCU exam end button, wait for the summary."""
        from liveredge.cli.demo_report import ExamCollector, PatientRecord
        from liveredge.edge.runtime import RunConfig, compose

        a = self.args
        uri = f"sim://?{patient.query}&site={a.site}&fps={a.fps:g}&seed={a.seed}"
        print(f"\n== {patient.name}: simulated {patient.truth} on site {a.site} ({uri})", flush=True)
        record = PatientRecord(patient.name, patient.truth, uri)
        run = compose(
            RunConfig(source=uri, heatmap=True),
            self.model,
            bridge=self.bridge,
            extra_sinks=[_LiveLines(a.every)],
            sink_factory=lambda proc: [
                ExamCollector(record, partial(_fan_view, proc)),
                self.examlog,
            ],
        )
        pipe = run.pipeline
        thread = threading.Thread(target=pipe.run, name="demo-pipeline", daemon=True)
        thread.start()
        time.sleep(1.0)  # the probe settles; the runtime estimates the fan over its warm-up window
        exam = self.emu.act(lambda h, t: h.exam_start(t))
        print(f"  MCU button: EXAM_START {exam}", flush=True)
        time.sleep(a.seconds)
        self.emu.act(lambda h, t: h.exam_end(t))
        print(f"  MCU button: EXAM_END {exam}", flush=True)
        _wait(lambda: record.summary is not None, 5.0)
        pipe.stop()
        thread.join(timeout=5.0)
        for sink in run.owned:  # the MCU sink hands its queue to the shared link; the exam log stays open
            sink.close()
        _wait(lambda: self.bridge.stats.pending == 0, 2.0)  # the EXAM_SUMMARY acknowledged by the MCU
        _print_summary(record)
        return record

    def report(self, records: list[Any]) -> Path:
        from liveredge.cli.demo_report import write_report

        meta = self.model.meta
        provenance = {
            "model": self.args.model,
            "sha256": self.model.sha256,
            "signed": self.model.verified,
            "statement": None if self.model.statement is None else self.model.statement.to_dict(),
            "name": meta.name,
            "labels": list(meta.labels),
            "preprocess": meta.preprocess.to_dict(),
            "operating_point": vars(meta.operating_point),
            "provenance": meta.provenance,
            "gate": meta.gate,
            "serial_link": {**self.bridge.stats.counters, "pending": self.bridge.stats.pending},
        }
        return write_report(records, meta.labels, provenance, self.out)


class _LiveLines:
    """Prints one line every ``every`` exam frames: time, reported class, confidence bar, latency, quality."""

    def __init__(self, every: int) -> None:
        self.every = every

    def emit(self, event: Any) -> None:
        from liveredge.edge.events import UNCERTAIN, FrameResult

        if isinstance(event, FrameResult) and event.exam_id is not None and event.seq % self.every == 0:
            bar = "#" * round(event.confidence * 20)
            flags = ",".join(event.quality.names()) or "ok"
            # uncertain with good quality = no class has held for the minimum dwell yet (start of an exam)
            settling = "  (settling)" if event.label == UNCERTAIN and not event.quality.names() else ""
            print(
                f"  frame {event.seq:5d}  {event.label:<12s} {event.confidence:4.2f} {bar:<20s} "
                f"latency {event.latency_ms:5.1f} ms  quality {flags}{settling}",
                flush=True,
            )

    def close(self) -> None:
        """Nothing to release."""


def _print_summary(record: Any) -> None:
    s = record.summary
    if s is None:
        print(f"  EXAM SUMMARY {record.name}: none received (the exam did not end cleanly)", flush=True)
        return
    verdict = "matches the simulated condition" if s.label == record.truth else f"WRONG (simulated {record.truth})"
    print(
        f"  EXAM SUMMARY {record.name}: {s.label} (confidence {s.confidence:.2f}, {s.frames_used}/"
        f"{s.frames_total} frames used) - {verdict}",
        flush=True,
    )


def _fan_view(processor: Any, image: Any) -> Any:
    """The model's grey view of ``image`` through the processor's current fan region (None: none known now)."""
    pre = processor.region.preprocessor
    return None if pre is None else pre.gray(image)


def _wait(condition: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
