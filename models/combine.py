"""Join datasets written by ``liveredge simulate dataset`` (or any manifest datasets) into one manifest whose
``split`` column says which each came from: ``python -m liveredge.models.combine ROOT train val [test ...]``
reads ``ROOT/<name>/manifest.csv`` for every name and writes ``ROOT/manifest.csv`` with paths relative to
ROOT and ``split`` = the folder name (``train`` | ``val`` | ``test`` | ``holdout``). Training then uses those
splits as given (a patient in two of them is refused as leakage). SIMULATED data: not for clinical use.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from liveredge.edge.errors import DataError, InputError
from liveredge.models.dataset import SPLITS


def combine(root: str | Path, names: list[str]) -> Path:
    """Write ``root/manifest.csv`` from ``root/<name>/manifest.csv`` for each name (a split name)."""
    root = Path(root)
    rows: list[dict[str, str]] = []
    fields: list[str] = []
    for name in names:
        if name not in SPLITS:
            raise InputError(f"{name!r} is not a split name; use folders named {', '.join(SPLITS)}")
        src = root / name / "manifest.csv"
        if not src.is_file():
            raise InputError(f"{src}: no manifest.csv (write it with liveredge simulate dataset first)")
        with open(src, newline="") as fh:
            reader = csv.DictReader(fh)
            fields += [f for f in reader.fieldnames or [] if f not in fields and f != "split"]
            for row in reader:
                for key in ("path", "mask_path"):
                    if row.get(key):
                        row[key] = f"{name}/{row[key]}"
                rows.append({**row, "split": name})
    if not rows:
        raise DataError(f"{root}: the datasets {', '.join(names)} hold no rows")
    out = root / "manifest.csv"
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*fields, "split"])
        writer.writeheader()
        writer.writerows(rows)
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m liveredge.models.combine ROOT SPLIT [SPLIT ...]", file=sys.stderr)
        return 2
    try:
        print(combine(argv[0], argv[1:]))
    except (InputError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
