"""De-identification of DICOM datasets: every DICOM liveredge writes goes through :func:`deidentify`.

What is removed (header only; pixels are not changed — burned-in screen text stays unless the caller masks
the frames, e.g. with the detected region):

- the whole Patient module group (0010,xxxx), then empty Patient's Name and Patient ID put back (type 2);
- every date, time and date-time element (VR DA, TM, DT), at any depth;
- people, places and accession: physicians, operators, institution, station, device serial, study ID, ...;
- private tags (they often hold identifiers);
- study/series/SOP instance and frame-of-reference UIDs are replaced with new ones (consistently in the
  file meta), so the copy cannot be linked back by UID.

``PatientIdentityRemoved`` is set to ``YES`` and ``DeidentificationMethod`` says what was done.
"""

from __future__ import annotations

import copy
import os
from typing import Any

IDENTIFYING = (
    "AccessionNumber",
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "ReferringPhysicianName",
    "ReferringPhysicianAddress",
    "PerformingPhysicianName",
    "NameOfPhysiciansReadingStudy",
    "PhysiciansOfRecord",
    "OperatorsName",
    "RequestingPhysician",
    "StationName",
    "DeviceSerialNumber",
    "StudyID",
    "RequestAttributesSequence",
    "OtherPatientIDsSequence",
    "StudyDescription",
    "SeriesDescription",
    "ImageComments",
    "PerformedProcedureStepID",
    "ScheduledProcedureStepID",
)
UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")
METHOD = "liveredge: patient, dates, names, private tags removed; new UIDs"


def deidentify(ds: Any) -> Any:
    """A de-identified deep copy of a pydicom ``Dataset`` (the input is not changed)."""
    from pydicom.uid import generate_uid

    out = copy.deepcopy(ds)
    out.remove_private_tags()
    for elem in list(out):
        if elem.tag.group == 0x0010:
            del out[elem.tag]
    out.walk(_drop_identifying)
    out.PatientName = ""
    out.PatientID = ""
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = METHOD
    for keyword in UIDS:
        if keyword in out:
            setattr(out, keyword, generate_uid())
    meta = getattr(out, "file_meta", None)
    if meta is not None and "SOPInstanceUID" in out:
        meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    return out


def _drop_identifying(ds: Any, elem: Any) -> None:
    if elem.VR in ("DA", "TM", "DT") or elem.keyword in IDENTIFYING:
        del ds[elem.tag]


def is_deidentified(ds: Any) -> bool:
    """True when no patient name/ID value, no dates/times and no private tags remain (a check for tests/tools)."""
    if str(ds.get("PatientName", "")) or str(ds.get("PatientID", "")):
        return False
    found: list[str] = []

    def visit(_: Any, elem: Any) -> None:
        if elem.VR in ("DA", "TM", "DT") or elem.tag.is_private or elem.keyword in IDENTIFYING:
            found.append(elem.keyword or str(elem.tag))

    ds.walk(visit)
    return not found


def save_deidentified(ds: Any, path: str | os.PathLike[str]) -> None:
    """Write ``deidentify(ds)`` to ``path`` (DICOM Part 10 with file meta)."""
    deidentify(ds).save_as(os.fspath(path), enforce_file_format=True)
