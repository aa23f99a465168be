"""Crafted hostile inputs shared by the tests and ``make reliability`` (bench/reliability/hostile.py): resource
bombs that are small on disk. Every generator writes real, well-formed files (valid PNG CRCs, a valid deflated
DICOM), so the decoder would really allocate what the header claims. SIMULATED/synthetic content only.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(path: Path, width: int = 30000, height: int = 30000) -> Path:
    """A valid 1-bit greyscale PNG of ``width`` x ``height`` black pixels (~1 KB per 1,000 rows at 30000 wide):
    OpenCV decodes it to width*height*3 bytes."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b""))
    return path


def jpeg_header_bomb(path: Path, width: int = 30000, height: int = 30000) -> Path:
    """A JPEG whose SOF0 declares ``width`` x ``height`` (then truncated): the header alone decides the allocation."""
    sof = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    path.write_bytes(b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", 2 + len(sof)) + sof + b"\xff\xd9")
    return path


def deflated_dicom_bomb(path: Path, inflated_mib: int) -> Path:
    """A Deflated Explicit VR Little Endian DICOM whose dataset inflates to about ``inflated_mib`` MiB: an 8-bit
    MONOCHROME2 cine of ``inflated_mib`` frames of 1024x1024 zeros (1.5 GiB is ~1.5 MB on disk). Written as a
    stream, so making a big one needs no memory."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset, write_file_meta_info
    from pydicom.uid import DeflatedExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientName = "US", "SIMULATED^BOMB"
    frames, side = max(1, inflated_mib), 1024
    ds.Rows, ds.Columns, ds.NumberOfFrames = side, side, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    head, body = DicomBytesIO(), DicomBytesIO()
    head.is_little_endian, head.is_implicit_VR = True, False
    body.is_little_endian, body.is_implicit_VR = True, False
    write_file_meta_info(head, meta)
    write_dataset(body, ds)
    n = frames * side * side
    pixel_header = b"\xe0\x7f\x10\x00OB\x00\x00" + struct.pack("<I", n)
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    with path.open("wb") as out:
        out.write(b"\0" * 128 + b"DICM" + head.getvalue())
        out.write(comp.compress(body.getvalue() + pixel_header))
        for _ in range(n >> 20):
            out.write(comp.compress(zeros))
        out.write(comp.flush())
    return path


def big_bmp(path: Path, width: int, height: int, seed: int = 0) -> Path:
    """An uncompressed 24-bit BMP of ``width`` x ``height`` noise (fast to write; slow to preprocess when big)."""
    import cv2

    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    cv2.imwrite(str(path), image)
    return path
