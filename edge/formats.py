"""File-kind facts shared by the sources and offline preprocessing (standard library only): DICOM sniffing."""

from __future__ import annotations

from pathlib import Path

DICOM_EXTS = frozenset({".dcm", ".dicom", ".dic"})
DICOM_MAGIC_OFFSET = 128
"""A DICOM Part 10 file carries ``DICM`` after a 128-byte preamble."""


def has_dicom_magic(path: Path) -> bool:
    """True when ``path`` is a readable file with the ``DICM`` marker at byte 128 (whatever its name)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(DICOM_MAGIC_OFFSET + 4)
    except OSError:
        return False
    return len(head) == DICOM_MAGIC_OFFSET + 4 and head[DICOM_MAGIC_OFFSET:] == b"DICM"


def is_dicom(path: Path) -> bool:
    """By extension (:data:`DICOM_EXTS`), or by the Part 10 marker (:func:`has_dicom_magic`)."""
    return path.suffix.lower() in DICOM_EXTS or has_dicom_magic(path)
