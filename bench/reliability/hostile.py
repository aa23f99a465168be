"""Hostile inputs (issue 15): resource bombs, endless and mistyped settings, over-long paths, a '#' in the DB path,
control characters in exam ids, a corrupt exam log. Each must end in a clear refusal — exit != 0, no traceback,
a message naming the input — under a 2 GiB address-space limit, within the case's time limit.

The inputs come from ``tests/hostile_inputs.py`` (shared with the test suite). ``quick`` uses small versions and
sends a subset through the CLI; the full run uses the sizes of the issue (a 1.5 GiB deflate bomb of ~1.5 MB, a
30000x30000 PNG). SIMULATED/synthetic content only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from common import ROOT, Case, run_api, run_cli

sys.path.insert(0, str(ROOT / "tests"))
from hostile_inputs import deflated_dicom_bomb, jpeg_header_bomb, png_bomb

WRONG_CONFIGS = {  # the probes, then a few more of the same kind
    "allow_unverified_string": '[model]\nallow_unverified = "false"\n',
    "threads_string": '[model]\nthreads = "four"\n',
    "max_frames_string": '[source]\nmax_frames = "3"\n',
    "device_int": "[model]\ndevice = 5\n",
    "timeout_nan": "[source]\ntimeout = nan\n",
    "fps_negative": "[source]\nfps = -30.0\n",
    "unknown_key": "[sinks]\ndatabase = 'x.db'\n",
}


def hostile_cases(work: Path, model: Path, flags: list[str], quick: bool, add: Callable[[Case], None]) -> None:
    """Every hostile-input case through its entry points (API always; CLI: all when full, a subset when quick)."""
    work.mkdir(parents=True, exist_ok=True)
    run = ["run", "--model", str(model), *flags, "--threads", "1", "--max-frames", "2", "--jsonl", "-"]
    _bombs(work, run, quick, add)
    _settings(work, run, quick, add)
    _names(work, run, quick, add)


def cli_case(
    entry: str,
    args: list[str],
    name: str,
    exits: set[int],
    expected: str,
    check: Callable[[str, str], str | None] | None = None,
) -> Case:
    """A CLI case under the 2 GiB address-space limit, 2 minutes at most."""
    return run_cli(entry, args, name, exits, expected, timeout_s=120.0, check=check, limit_as=True)


def _bombs(work: Path, run: list[str], quick: bool, add: Callable[[Case], None]) -> None:
    from liveredge.edge.preprocess.dicom import read_info
    from liveredge.edge.sources import open_source

    png = png_bomb(work / "bomb_30000.png")  # ~110 KB, 30000x30000
    jpg = jpeg_header_bomb(work / "bomb_30000.jpg")
    mib = 8 if quick else 1536  # quick: a 16 MiB bomb against --max-dicom-mib 8; full: the 1.5 GiB
    inflated = mib * 2 if quick else mib
    dcm = deflated_dicom_bomb(work / f"deflate_{inflated}mib.dcm", inflated)
    name = f"bomb:dicom_deflate_{inflated}mib"
    limit = ["--max-dicom-mib", str(mib)] if quick else []
    for kind, path in (("png_30000x30000", png), ("jpeg_header_30000x30000", jpg)):
        add(run_api("open_source", lambda p=path: open_source(str(p)), f"bomb:{kind}", "error: SourceError"))
        add(
            cli_case(
                "liveredge crop",
                ["crop", str(path), "--out", str(work / "crop")],
                f"bomb:{kind}",
                {2},
                "exit 2 naming the file and the pixel limit",
            )
        )
    if not quick:
        add(
            cli_case(
                "liveredge run",
                [*run, "--source", str(png)],
                "bomb:png_30000x30000",
                {1},
                "exit 1 naming the file and the pixel limit",
            )
        )
        add(
            cli_case(
                "liveredge crop",
                ["crop", str(dcm), "--out", str(work / "crop")],
                name,
                {2},
                "exit 2 naming the file and the MiB limit",
            )
        )
        add(
            run_api(
                "read_info",
                lambda: read_info(dcm),
                name,
                "error: DataError (inflated size over the cap)",
                accept_ok=False,
            )
        )
    add(
        cli_case(
            "liveredge run",
            [*run, "--source", f"dicom://{dcm}", *limit],
            name,
            {1},
            "exit 1 naming the file and the MiB limit",
        )
    )


def _settings(work: Path, run: list[str], quick: bool, add: Callable[[Case], None]) -> None:
    from liveredge.cli.run_config import read_config

    add(
        cli_case(
            "liveredge run",
            [*run, "--config", "/dev/zero"],
            "config:/dev/zero",
            {2},
            "exit 2 at once: not a regular file",
        )
    )
    for name, text in WRONG_CONFIGS.items():
        path = work / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        add(
            run_api(
                "read_config", lambda p=path: read_config(p), f"config:{name}", "error: ConfigError", accept_ok=False
            )
        )
        if not quick or name == "allow_unverified_string":
            add(
                cli_case(
                    "liveredge run",
                    [*run, "--config", str(path)],
                    f"config:{name}",
                    {2},
                    "exit 2 naming the key and the expected type",
                )
            )


def _names(work: Path, run: list[str], quick: bool, add: Callable[[Case], None]) -> None:
    long = str(work / ("n" * 300 + ".db"))
    add(cli_case("liveredge run", [*run, "--db", long], "path:component_300_bytes", {2}, "exit 2: at most 255 bytes"))
    if not quick:
        add(
            cli_case(
                "liveredge run",
                [*run, "--source", long.replace(".db", ".png")],
                "path:component_300_bytes",
                {2},
                "exit 2: at most 255 bytes",
            )
        )
    add(
        cli_case(
            "liveredge run",
            [*run, "--exam", "E\x1b[2J\x1b]0;owned\x07"],
            "exam:control_characters",
            {2},
            "exit 2, the id escaped",
            check=_no_raw_escape,
        )
    )
    db = work / "exams#1?x.db"
    add(
        cli_case(
            "liveredge run",
            [*run, "--db", str(db)],
            "db:'#' and '?' in the path",
            {0},
            "exit 0, that very file written and read back",
            check=lambda _o, _e: _same_file(db),
        )
    )
    corrupt = work / "corrupt.db"
    _corrupt_db(corrupt)
    add(
        cli_case(
            "liveredge run",
            [*run, "--db", str(corrupt)],
            "db:corrupt_page_at_start",
            {2},
            "exit 2: corrupt, names the file",
        )
    )


def _no_raw_escape(_out: str, err: str) -> str | None:
    return "raw control characters echoed" if "\x1b" in err or "\x07" in err else None


def _same_file(db: Path) -> str | None:
    from liveredge.edge.sinks import read_records

    others = [p.name for p in db.parent.iterdir() if p.name.startswith("exams") and p != db]
    if others:
        return f"other files opened: {others}"
    return None if read_records(db) else "nothing read back"


def _corrupt_db(path: Path) -> None:
    from liveredge.edge.events import StateEvent
    from liveredge.edge.sinks import ExamLog

    log = ExamLog(path)
    for i in range(60):
        log.emit(StateEvent("note", f"event {i}", 0.0, 0.0))
    log.close()
    data = bytearray(path.read_bytes())
    data[4096:8192] = os.urandom(4096)
    path.write_bytes(bytes(data))
