"""The installed liveredge version (one home: ``version`` in pyproject.toml, read from the installed metadata)."""

from __future__ import annotations

from importlib import metadata


def package_version() -> str:
    """The version of the installed ``liveredge`` distribution ("0+unknown" when run from a bare source tree)."""
    try:
        return metadata.version("liveredge")
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = package_version()
