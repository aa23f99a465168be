"""``liveredge simulate``: phantom datasets, cine clips and the list of site profiles.

Everything it writes is SIMULATED ultrasound, not for clinical use.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``HxW`` (e.g. ``256x256``) into (height, width) (shared by the simulator and benchmark commands)."""
    from liveredge.edge.errors import ConfigError

    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise ConfigError(f"--size {text!r}: use HEIGHTxWIDTH, e.g. 256x256") from exc
    return h, w


def _sites(text: str) -> list[str]:
    """Comma-separated profile names; ``random:A-B`` expands to random:A .. random:B-1 (e.g. random:0-150)."""
    out: list[str] = []
    for item in (s.strip() for s in text.split(",")):
        head, _, rng = item.partition(":")
        if head == "random" and "-" in rng:
            a, _, b = rng.partition("-")
            if not (a.isdigit() and b.isdigit() and int(a) < int(b)):
                from liveredge.edge.errors import ConfigError

                raise ConfigError(f"--sites {item!r}: a range is random:START-STOP with START < STOP")
            out += [f"random:{k}" for k in range(int(a), int(b))]
        elif item:
            out.append(item)
    return out


def _dataset(args: argparse.Namespace) -> int:
    from liveredge.edge.errors import ConfigError
    from liveredge.edge.sim.dataset import plan_dataset, write_dataset

    try:
        stages = [int(v) for v in args.fibrosis_stages.split(",") if v]
    except ValueError as exc:
        raise ConfigError(f"--fibrosis-stages {args.fibrosis_stages!r}: use e.g. 2,3,4") from exc
    specs = plan_dataset(
        args.patients, _sites(args.sites), args.seed, stages, negatives=args.negatives, purpose=args.purpose
    )
    manifest = write_dataset(
        Path(args.out), specs, args.frames_per_patient, parse_size(args.size), progress=not args.quiet
    )
    print(
        f"wrote {manifest} ({len(specs)} patients x {args.frames_per_patient} frames; SIMULATED, not for clinical use)"
    )
    return 0


def _clip(args: argparse.Namespace) -> int:
    from liveredge.edge.errors import ConfigError
    from liveredge.edge.sim import Scanner, get_profile, make_patient
    from liveredge.edge.sim.dataset import write_clip

    if not args.seconds > 0 or not args.fps > 0:
        raise ConfigError(f"--seconds and --fps must be > 0, got {args.seconds} and {args.fps}")
    from liveredge.edge.sim.scenes import make_scene

    profile = get_profile(args.site)
    if args.scene:
        patient = make_scene(args.patient_id, args.scene, seed=args.seed)
    else:
        patient = make_patient(
            args.patient_id,
            args.condition,
            severity=args.severity,
            lesion=args.lesion,
            seed=args.seed,
            view=args.view,
            profile=profile,
        )
    scanner = Scanner(
        patient,
        profile,
        seed=args.seed,
        fps=args.fps,
        size=parse_size(args.size),
        dual_panel=args.dual_panel,
        doppler=args.doppler,
        freeze_prob=args.freeze_prob,
    )
    meta = write_clip(Path(args.out), scanner, max(1, round(args.seconds * args.fps)), progress=not args.quiet)
    print(f"wrote {args.out} and {meta} (SIMULATED, not for clinical use)")
    return 0


def _profiles(args: argparse.Namespace) -> int:
    from liveredge.edge.sim import get_profile, list_profiles

    for name in list_profiles() + list(args.extra):
        print(get_profile(name).summary())
    print("also: random:SEED (drawn from wider ranges)")
    return 0


def _phantom(args: argparse.Namespace) -> int:
    from liveredge.edge.sim.phantom import PhantomSpec, write_phantom

    spec = PhantomSpec(
        probe=args.probe,
        frequency_mhz=args.frequency,
        depth_cm=args.depth_cm,
        dynamic_range_db=args.dynamic_range,
        tgc=args.tgc == "on",
        seed=args.seed,
        size=parse_size(args.size),
        frac_bandwidth=args.bandwidth,
        harmonic=args.harmonic,
        compound_angles=args.compound,
    )
    png, meta = write_phantom(args.out, spec)
    print(f"wrote {png} and {meta} (SIMULATED homogeneous phantom, not for clinical use)")
    return 0


def _add_phantom(ss: argparse._SubParsersAction) -> None:
    ph = ss.add_parser("phantom", help="image a homogeneous soft-tissue block (speckle physics checks)")
    ph.add_argument("out", help="output .png; OUT.json gets mm_per_px, dynamic_range_db, frequency_mhz, top_px")
    ph.add_argument("--probe", default="linear", choices=["linear", "curvilinear", "phased"], help="probe geometry")
    ph.add_argument("--frequency", type=float, default=5.0, help="centre frequency, MHz")
    ph.add_argument("--depth-cm", type=float, default=6.0, help="imaging depth (cm)")
    ph.add_argument("--dynamic-range", type=float, default=60.0, help="log-compression range, dB")
    ph.add_argument("--tgc", default="on", choices=["on", "off"], help="on: TGC compensates 0.5 dB/cm/MHz")
    ph.add_argument("--seed", type=int, default=0, help="simulation seed")
    ph.add_argument("--size", default="512x512", help="screen HEIGHTxWIDTH in px")
    ph.add_argument("--bandwidth", type=float, default=0.6, help="pulse-echo -6 dB fractional bandwidth")
    ph.add_argument("--harmonic", action="store_true", help="tissue harmonic imaging")
    ph.add_argument("--compound", type=int, default=1, help="spatial compounding angles (1 = off)")
    ph.set_defaults(handler=_phantom)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``simulate dataset|clip|profiles|phantom``."""
    p = sub.add_parser("simulate", help="simulated B-mode liver phantoms (datasets, clips); not for clinical use")
    ss = p.add_subparsers(
        dest="sim_command", metavar="WHAT", required=True, help="what to simulate (each has its own --help)"
    )
    d = ss.add_parser("dataset", help="write PNG screen frames, fan masks and manifest.csv")
    d.add_argument("out", help="output folder (must not exist or be empty)")
    d.add_argument("--patients", type=int, required=True, help="number of patients (classes round-robin)")
    d.add_argument("--frames-per-patient", type=int, default=4, help="frames rendered per simulated patient")
    d.add_argument(
        "--sites",
        default="S1,S2,S3,S4,S5,S6",
        help="comma-separated profiles, e.g. S1,S2,random:7 or random:0-150 (random:0 .. random:149)",
    )
    d.add_argument("--seed", type=int, default=0, help="simulation seed")
    d.add_argument("--size", default="256x256", help="screen HEIGHTxWIDTH in px")
    d.add_argument("--fibrosis-stages", default="2,3,4", help="stages drawn for the fibrosis class (F1 is mild)")
    d.add_argument(
        "--purpose",
        choices=("training", "validation", "benchmark"),
        default=None,
        help="check every site against that purpose's seed range and draw patient seeds from it "
        "(docs/benchmark.md); default: unassigned seeds, for tests and ad hoc use",
    )
    d.add_argument(
        "--negatives",
        type=int,
        default=0,
        help="extra non-liver scenes (label not_liver: heart, bladder, pregnancy, thyroid, lung, air, ...)",
    )
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(handler=_dataset)
    c = ss.add_parser("clip", help="write an mp4 cine clip plus OUT.json with per-frame ground truth")
    c.add_argument("out", help="output .mp4 path")
    c.add_argument("--condition", default="normal", help="normal | steatosis | fibrosis | focal_lesion")
    c.add_argument("--severity", type=int, default=None, help="steatosis 1..3, fibrosis 1..4")
    c.add_argument("--lesion", default=None, help="cyst | haemangioma | hcc | metastasis")
    c.add_argument("--seconds", type=float, default=10.0, help="clip length (s)")
    c.add_argument("--fps", type=float, default=30.0, help="frame rate")
    c.add_argument("--site", default="S1", help="simulated scanner profile")
    c.add_argument("--view", default=None, help="subcostal | intercostal | sagittal (default: drawn from the seed)")
    c.add_argument(
        "--scene",
        default=None,
        help="a NON-liver scene instead of a patient: cardiac | bladder | obstetric | "
        "kidney | thyroid | vessels | lung | air | gel (label not_liver)",
    )
    c.add_argument("--seed", type=int, default=0, help="simulation seed")
    c.add_argument("--patient-id", default="clip-patient", help="id of the simulated patient")
    c.add_argument("--size", default="480x640", help="screen HEIGHTxWIDTH in px")
    c.add_argument(
        "--dual-panel", action="store_true", help="two panels (the right one shows the view one second earlier)"
    )
    c.add_argument("--doppler", action="store_true", help="add a colour Doppler box")
    c.add_argument("--freeze-prob", type=float, default=0.0, help="probability per frame of a scanner freeze")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(handler=_clip)
    pr = ss.add_parser("profiles", help="list the named site/scanner profiles")
    pr.add_argument("extra", nargs="*", help="also show these, e.g. random:7")
    pr.set_defaults(handler=_profiles)
    _add_phantom(ss)
