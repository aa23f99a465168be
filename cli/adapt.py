"""``liveredge adapt``: fit a scanner's grey-level map from unlabeled frames → SITE.json (no labels, no retraining).

Module level imports: argparse and the standard library only (works on a device without TensorFlow). The map is
applied with ``liveredge run|evaluate|bench --site SITE.json`` (or ``site`` in the run config). Models are trained
on SIMULATED data; harmonisation does not replace validation on real data from the scanner.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from typing import Any

from liveredge.edge.events import NOTICE as _NOTICE

NOTICE = f"{_NOTICE} Harmonisation does not replace validation on real data from this scanner."
MAX_REFERENCE_FRAMES = 300


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``adapt``."""
    p = sub.add_parser(
        "adapt",
        help="fit a new scanner's grey-level map from unlabeled frames (SITE.json)",
        description="Map the tissue grey levels of a new scanner/probe/preset onto the model's "
        "training distribution (bounded quantile matching), from unlabeled frames. " + NOTICE,
    )
    p.add_argument(
        "--model", required=True, help=".tflite with liveredge metadata (the site file is bound to its hash)"
    )
    p.add_argument(
        "--source",
        required=True,
        help="frames of the new scanner: sim://..., a video, dicom://..., "
        "an image folder, v4l2://N (any source 'liveredge run' accepts)",
    )
    p.add_argument("--frames", type=int, default=150, help="frames to read from the source (default: %(default)s)")
    p.add_argument(
        "--reference",
        default=None,
        metavar="DATA",
        help="training/calibration frames (manifest CSV or "
        "image folder) to take the reference from, for models whose metadata has none",
    )
    p.add_argument("--out", required=True, metavar="SITE.json", help="site file to write")
    p.set_defaults(handler=_adapt)


def _adapt(args: argparse.Namespace) -> int:
    from liveredge.edge.errors import ConfigError
    from liveredge.edge.harmonize import fit_site
    from liveredge.edge.runtime.adapt import check_frames, read_frames
    from liveredge.edge.site import site_document, write_site

    if args.frames < 1:
        raise ConfigError(f"--frames must be >= 1, got {args.frames}")
    data, digest, meta = _model(args.model)
    reference, ref_note = _reference(args, meta)
    print(f"liveredge adapt: reference: {ref_note}", file=sys.stderr)
    frames = read_frames(args.source, args.frames)
    _refuse_not_liver(data, digest, args, frames)
    checks = check_frames(frames, meta.preprocess, reference.rule)
    fit = fit_site(checks, reference, source=f"--source {args.source}")
    frame_counts = {
        "requested": args.frames,
        "read": len(frames),
        "used": fit.frames_used,
        "rejected": fit.frames_rejected,
    }
    doc = site_document(
        digest,
        meta.name,
        str(args.model),
        args.source,
        fit.lut,
        fit.report(),
        frame_counts,
        {"source": reference.source, "n_frames": reference.n_frames, "note": ref_note},
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    site_hash = write_site(args.out, doc)
    _print_report(fit, frame_counts, args.out, site_hash)
    return 0


def _model(path: str) -> tuple[bytes, str, Any]:
    """(bytes, sha256, metadata) of a model file (read once, bounded); ModelError when it has no liveredge metadata."""
    from liveredge.edge.errors import ConfigError, ModelError, VerificationError
    from liveredge.edge.model_meta import read_metadata
    from liveredge.edge.trust import read_model_bytes

    try:
        data = read_model_bytes(path)
    except VerificationError as exc:
        raise ConfigError(f"--model {exc}") from exc
    meta = read_metadata(data)
    if meta is None:
        raise ModelError(
            f"--model {path}: the model carries no liveredge metadata; convert it with 'liveredge convert'"
        )
    return data, hashlib.sha256(data).hexdigest(), meta


def _refuse_not_liver(data: bytes, digest: str, args: argparse.Namespace, frames: list[Any]) -> None:
    """DataError when the model's own "not a liver" gate fires on most frames (a heart, a pregnancy, air):
    grey levels alone cannot tell such a scan from a liver, and a site fitted on it would be nonsense."""
    from liveredge.edge.errors import DataError
    from liveredge.edge.runtime.adapt import not_liver_fraction

    fraction = not_liver_fraction(data, digest, str(args.model), frames)
    if fraction is not None and fraction > 0.5:
        raise DataError(
            f"--source {args.source}: refused: the model's 'not a liver' gate fires on {fraction:.0%} "
            "of the frames, so these are not liver scans. Fit a site on liver exams of this scanner."
        )


def _reference(args: argparse.Namespace, meta: Any) -> tuple[Any, str]:
    """The intensity reference and a sentence saying where it came from."""
    from liveredge.edge.errors import ConfigError

    if args.reference:
        ref = reference_from_data(args.reference, meta.preprocess)
        why = "overrides the model's own" if meta.intensity_reference is not None else "the model's metadata has none"
        return ref, f"{ref.n_frames} tissue frames of {args.reference} (--reference; {why})"
    if meta.intensity_reference is None:
        raise ConfigError(
            f"--model {args.model}: its metadata records no training intensity reference (models "
            "converted before harmonisation existed, like the shipped zoo); pass --reference DATA with "
            "the training or calibration frames (manifest CSV or image folder)"
        )
    ref = meta.intensity_reference
    return ref, f"the model's metadata ({ref.n_frames} frames: {ref.source})"


def reference_from_data(data: str, spec: Any) -> Any:
    """The reference of up to 300 frames of DATA (stratified by class and site), through the runtime's preprocessing."""
    from liveredge.convert.data import discover, read_frame, stratify
    from liveredge.edge.errors import DataError, PreprocessError
    from liveredge.edge.harmonize import reference_from_images
    from liveredge.edge.preprocess import prepare_gray

    images = []
    for sample in stratify(discover(data), MAX_REFERENCE_FRAMES):
        try:
            images.append(prepare_gray(read_frame(sample), spec))
        except (PreprocessError, DataError):
            continue  # a frame without an ultrasound region cannot describe tissue
    return reference_from_images(images, source=f"{data} ({len(images)} frames)")


def _print_report(fit: Any, frames: dict[str, Any], out: str, site_hash: str) -> None:
    rep = fit.report()
    rejected = ", ".join(f"{n} {k}" for k, n in frames["rejected"].items()) or "none"
    print(f"liveredge adapt: {frames['used']} of {frames['read']} frames used (rejected: {rejected})")
    print(f"  percentiles {rep['percentiles']}")
    print(f"  reference   {rep['reference']}")
    print(f"  before      {rep['before']}")
    print(f"  after       {rep['after']}")
    print(f"  {rep['summary']}")
    print(f"wrote {out} (sha256 {site_hash[:16]}...). Apply it with --site {out}. {NOTICE}")


def with_site(model: Any, site_path: str | None) -> Any:
    """``model`` with SITE.json composed into its input table (``--site`` / config ``site``); unchanged when None."""
    if not site_path:
        return model
    from liveredge.edge.site import apply_site, read_site

    site = read_site(site_path)
    adapted = apply_site(model, site)
    summary = site.document.get("report", {}).get("summary", "")
    print(
        f"liveredge: site {site_path} (sha256 {site.sha256[:16]}...) applied through the input LUT: {summary}",
        file=sys.stderr,
    )
    return adapted
