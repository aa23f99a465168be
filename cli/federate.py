"""``liveredge federate``: federated fine-tuning across (simulated) clinics on Flower (needs the ``federated``
extra). Everything it trains on is SIMULATED data; the models are not for clinical use.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected HxW like 64x64, got {text!r}") from exc
    return h, w


def _interrupt(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt  # SIGTERM stops the federation like Ctrl-C: every process group is ended


def _config(args: argparse.Namespace) -> Any:
    """The :class:`FederateConfig` the options describe (validated there)."""
    from liveredge.edge.errors import ConfigError
    from liveredge.models.federated.config import FederateConfig

    if args.drop_clinic is not None and not 1 <= args.drop_clinic <= args.clinics:
        raise ConfigError(f"--drop-clinic {args.drop_clinic}: must be in 1..{args.clinics}")
    return FederateConfig(
        clinics=args.clinics,
        patients_per_clinic=args.patients_per_clinic,
        negatives_per_clinic=args.negatives,
        frames_per_patient=args.frames_per_patient,
        screen_size=args.screen_size,
        rounds=args.rounds,
        local_epochs=args.local_epochs,
        strategy=args.strategy,
        proximal_mu=args.proximal_mu,
        learning_rate=args.lr,
        batch_size=args.batch_size,
        val_frac=args.val_frac,
        seed=args.seed,
        init=args.init,
        width=args.width,
        input_size=args.input_size,
        min_clinics=args.min_clinics,
        round_timeout_s=args.round_timeout,
        unseen_patients=args.unseen_patients,
        unseen_purpose=args.unseen,
        threads=args.threads,
        dp_epsilon=args.dp_epsilon,
        dp_delta=args.dp_delta,
        dp_clip=args.dp_clip,
    )


def _summary(report: dict[str, Any], out: Path) -> None:
    """The headline numbers, the privacy budget and any dropout, for the terminal."""
    worst, unseen = report["worst_clinic_balanced_accuracy"], report["unseen_site_balanced_accuracy"]
    print(f"wrote {out / 'federated.json'} and federated.html (SIMULATED data, not for clinical use)")
    if worst is not None:
        print(
            f"worst clinic balanced accuracy: local-only {worst['local_only']}, federated {worst['federated']}, "
            f"pooled {worst['centralized']}; unseen site: local-only mean {unseen['local_only_mean']}, "
            f"federated {unseen['federated']}, pooled {unseen['centralized']}"
        )
    if report["differential_privacy"]:
        dp = report["differential_privacy"]
        print(
            f"differential privacy: ({dp['epsilon_per_round']}, {dp['delta_per_round']})-DP per round, "
            f"epsilon <= {dp['epsilon_total']} over {report['rounds']} rounds (basic composition)"
        )
    for d in report["dropouts"]:
        print(f"dropout: {d['clinic']} in round {d['round']} ({d['reason']})", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    from liveredge.models.federated.run import RunOptions, federate

    cfg = _config(args)
    opts = RunOptions(
        Path(args.out),
        args.superlink,
        args.root_certificates,
        args.insecure,
        args.drop_clinic,
        args.drop_round,
        args.timeout,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    _summary(federate(cfg, opts), opts.out)
    return 0


def _data_options(f: argparse.ArgumentParser, d: Any) -> None:
    from liveredge.models.federated.config import UNSEEN_PURPOSES

    g = f.add_argument_group("simulated clinics (SIMULATED data)")
    g.add_argument(
        "--clinics", type=int, default=d.clinics, help="simulated clinics, each a SuperNode with its own profile"
    )
    g.add_argument(
        "--patients-per-clinic",
        type=int,
        default=d.patients_per_clinic,
        help="liver patients per clinic (classes round-robin)",
    )
    g.add_argument(
        "--negatives",
        type=int,
        default=d.negatives_per_clinic,
        help="non-liver scenes per clinic (the not_liver class)",
    )
    g.add_argument("--frames-per-patient", type=int, default=d.frames_per_patient, help="frames simulated per patient")
    g.add_argument("--screen-size", type=_size, default=d.screen_size, metavar="HxW", help="simulated screen size")
    g.add_argument("--val-frac", type=float, default=d.val_frac, help="fraction of each clinic's patients held out")
    g.add_argument("--seed", type=int, default=d.seed, help="seed of the clinics' data, splits and training")
    g.add_argument(
        "--unseen",
        choices=UNSEEN_PURPOSES,
        default=d.unseen_purpose,
        help="seed range of the unseen site (benchmark: a final reported number only)",
    )
    g.add_argument(
        "--unseen-patients", type=int, default=d.unseen_patients, help="patients of the unseen site (evaluation only)"
    )


def _training_options(f: argparse.ArgumentParser, d: Any) -> None:
    from liveredge.models.federated.config import STRATEGIES, ZOO

    g = f.add_argument_group("training and aggregation")
    g.add_argument("--rounds", type=int, default=d.rounds, help="federated rounds")
    g.add_argument("--local-epochs", type=int, default=d.local_epochs, help="epochs each clinic trains per round")
    g.add_argument("--strategy", choices=STRATEGIES, default=d.strategy, help="Flower aggregation strategy")
    g.add_argument("--proximal-mu", type=float, default=d.proximal_mu, help="FedProx proximal term weight")
    g.add_argument("--lr", type=float, default=d.learning_rate, help="learning rate of each clinic's local training")
    g.add_argument("--batch-size", type=int, default=d.batch_size, help="local training batch size")
    g.add_argument(
        "--init",
        choices=(ZOO, "fresh"),
        default=d.init,
        help="zoo: fine-tune models/zoo/liver_cnn.keras; fresh: a new network (--width, --input-size)",
    )
    g.add_argument("--width", type=float, default=d.width, help="--init fresh: channel multiplier")
    g.add_argument("--input-size", type=_size, default=d.input_size, metavar="HxW", help="--init fresh: input size")
    g.add_argument(
        "--min-clinics",
        type=int,
        default=None,
        help="replies a round needs (Flower min-available/min-train nodes; default clinics - 1)",
    )
    g.add_argument("--round-timeout", type=float, default=d.round_timeout_s, help="seconds a round waits for replies")
    g.add_argument("--threads", type=int, default=d.threads, help="TensorFlow threads per process")


def _privacy_options(f: argparse.ArgumentParser, d: Any) -> None:
    g = f.add_argument_group("differential privacy (client side)")
    g.add_argument(
        "--dp-epsilon",
        type=float,
        default=d.dp_epsilon,
        help="client-side differential privacy per round (Flower LocalDpMod; 0: off)",
    )
    g.add_argument("--dp-delta", type=float, default=d.dp_delta, help="differential-privacy delta per round")
    g.add_argument("--dp-clip", type=float, default=d.dp_clip, help="L2 clipping norm of each clinic's weight update")


def _deployment_options(f: argparse.ArgumentParser) -> None:
    g = f.add_argument_group("deployment and fault drill")
    g.add_argument(
        "--superlink",
        default=None,
        metavar="HOST:PORT",
        help="join an existing federation's SuperLink instead of starting a local one (no baselines)",
    )
    g.add_argument("--root-certificates", type=Path, default=None, help="CA certificate (PEM) of the SuperLink's TLS")
    g.add_argument("--insecure", action="store_true", help="with --superlink: no TLS (trusted networks/tests only)")
    g.add_argument(
        "--drop-clinic",
        type=int,
        default=None,
        metavar="K",
        help="fault drill: kill clinic K's SuperNode once it has started --drop-round",
    )
    g.add_argument("--drop-round", type=int, default=1, help="fault drill: the round in which --drop-clinic is killed")
    g.add_argument("--timeout", type=float, default=3600.0, help="seconds the whole federation may take")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``federate`` subcommand (its defaults are :class:`FederateConfig`'s: one home)."""
    from liveredge.models.federated.config import FederateConfig

    d = FederateConfig()
    f = sub.add_parser(
        "federate",
        help="federated fine-tuning across clinics on Flower (simulated data: not for clinical use)",
        description="Start a Flower SuperLink and one SuperNode per simulated clinic (separate processes on "
        "127.0.0.1), fine-tune the zoo model with FedAvg/FedProx, train the local-only and pooled baselines, write "
        "OUT/federated.json and OUT/federated.html. See docs/federated.md. SIMULATED data, not for clinical use.",
    )
    f.add_argument("--out", required=True, help="run folder (clinic data, Flower logs, model, reports)")
    _data_options(f, d)
    _training_options(f, d)
    _privacy_options(f, d)
    _deployment_options(f)
    f.set_defaults(handler=_run)
