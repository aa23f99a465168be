"""``liveredge crop INPUT --out DIR``: find the ultrasound region of an image, video or DICOM file.

Writes ``DIR/<stem>_mask.png`` (255 inside the region, 0 elsewhere, the frame's size), ``DIR/<stem>_overlay.png``
(the outline on the frame, for a person to check) and ``DIR/<stem>.json`` (bbox, kind, sector parameters,
panels, cm/pixel when the DICOM gives it, status). Exit 0 when a region was found, 1 when the input holds
no ultrasound region (the files are still written, the mask is empty), 2 for unusable input.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "crop",
        help="detect the ultrasound image region (fan) of an image, video or DICOM file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="INPUT", help="image (.png/.jpg/...), video (.mp4/.avi/...) or DICOM file")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument(
        "--warmup",
        type=_positive,
        default=60,
        metavar="N",
        help="frames of a video or cine used to estimate the region (default 60)",
    )
    parser.add_argument(
        "--max-frame-pixels",
        type=_positive,
        default=None,
        metavar="N",
        help="refuse frames larger than N pixels (default 4096x4096), as 'liveredge run' does",
    )
    parser.set_defaults(handler=_handle)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _handle(args: argparse.Namespace) -> int:
    from liveredge.edge.bounds import DEFAULT_LIMITS, configure
    from liveredge.edge.preprocess.crop import crop_file

    if args.max_frame_pixels is not None:
        configure(dataclasses.replace(DEFAULT_LIMITS, max_frame_pixels=args.max_frame_pixels))
    region, doc = crop_file(args.input, args.out, warmup=args.warmup)
    stem = doc["input"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if not region.ok:
        why = f" ({region.partial})" if region.partial else ""
        print(f"liveredge crop: {args.input}: {region.status}: {region.message}{why}", file=sys.stderr)
        return 1
    x, y, w, h = region.bbox
    extra = f", {region.cm_per_px[0]:.4f} cm/px" if region.cm_per_px else ""
    print(
        f"{args.input}: {region.kind} region {w}x{h} at ({x}, {y}), {len(region.panels)} panel(s){extra} "
        f"-> {args.out}/{stem}_mask.png, _overlay.png, .json"
    )
    if region.partial:
        print(f"  partial evidence: {region.partial}")
    return 0
