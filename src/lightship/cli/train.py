"""``lightship train`` and ``lightship tune lr|batch-size``: a typed config from YAML and dotted options.

The options are LightningCLI's: ``--config FILE`` then overrides such as ``--data.root PATH``,
``--trainer.max_epochs 3``, and every ``lightning.Trainer`` argument under ``--trainer.*``, loggers and
callbacks included (``--trainer.callbacks+=EarlyStopping --trainer.callbacks.monitor val/acc``). Their help
text is the config dataclasses' attribute docstrings.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from jsonargparse import ActionConfigFile, ArgumentParser, Namespace

from lightship.cli.parsing import check_config_files, new_parser
from lightship.cli.spelling import bare_flags_as_true, option_name, underscored
from lightship.console import console, escape
from lightship.errors import LightshipError, check_at_least

#: Top-level options of TrainConfig (the sections data/model/optim/trainer are added as groups).
_SECTIONS = ("data", "model", "optim", "trainer")


def train_parser(prog: str = "lightship train", description: str | None = None) -> ArgumentParser:
    """The parser of ``lightship train`` (``tune`` adds its own options to it)."""
    from lightning import Trainer

    from lightship.data.config import DataConfig
    from lightship.training.config import ModelConfig, OptimConfig, TrainConfig

    parser = new_parser(
        prog=prog, description=description or "Train an image classifier; writes a run folder."
    )
    parser.add_argument(
        "--config",
        action=ActionConfigFile,
        help="YAML config: a file, or a shipped config by name (digits, cifar10-fast, imagefolder, ...); later "
        "options override it",
    )
    parser.add_argument(
        "--resume",
        type=Path | None,
        default=None,
        help="Continue the run in this folder from its checkpoints/last.ckpt, with its config.yaml (options given "
        "here override it, e.g. --trainer.max_epochs 20)",
    )
    parser.add_class_arguments(DataConfig, "data")
    parser.add_class_arguments(ModelConfig, "model")
    parser.add_class_arguments(OptimConfig, "optim")
    parser.add_class_arguments(Trainer, "trainer", instantiate=False, fail_untyped=False)
    parser.add_class_arguments(TrainConfig, skip=set(_SECTIONS))  # --seed, --tta, --out, --name, --overwrite
    return parser


def config_from_namespace(cfg: Namespace) -> Any:
    """The parsed options as a :class:`~lightship.training.TrainConfig` (trainer loggers and callbacks stay
    ``class_path`` specs, so the run's config.yaml can be read back)."""
    from lightship.data.config import AugmentConfig, DataConfig
    from lightship.training.config import ModelConfig, OptimConfig, TrainConfig

    data = cfg.data.as_dict()
    data["augment"] = AugmentConfig(**data.get("augment", {}))
    trainer = {k: v for k, v in cfg.trainer.as_dict().items() if v is not None}
    return TrainConfig(
        data=DataConfig(**data),
        model=ModelConfig(**cfg.model.as_dict()),
        optim=OptimConfig(**cfg.optim.as_dict()),
        trainer=trainer,
        seed=cfg.seed,
        tta=cfg.tta,
        out=cfg.out,
        name=cfg.name,
        overwrite=cfg.overwrite,
    )


def train_words(argv: Sequence[str]) -> list[str]:
    """The spelling policy for train and tune, plus ``--resume``: its run's config.yaml is read first, so
    options given after it override the run's settings."""
    from lightship.training.recipes import resolve_config_args

    words = resolve_config_args(bare_flags_as_true([underscored(arg) for arg in argv]))
    resume = None
    for i, word in enumerate(words):
        if option_name(word) == "--resume":
            value = word.partition("=")[2] or (words[i + 1] if i + 1 < len(words) else "true")
            if value == "true":
                raise LightshipError(
                    "--resume needs the run folder to continue, e.g. lightship train --resume runs/NAME"
                )
            resume = value
    check_config_files(words)
    if resume is None:
        return words
    from lightship.training import RunFolder

    saved = RunFolder(Path(resume)).read_config()
    saved.pop("overwrite", None)
    return ["--config", yaml.safe_dump(saved, sort_keys=False), *words]


def train_command(argv: Sequence[str]) -> int:
    """``lightship train``: parse, train, print where everything is."""
    from lightning.pytorch.utilities import rank_zero_only

    from lightship.training import train

    cfg = train_parser().parse_args(train_words(argv))
    result = train(config_from_namespace(cfg), resume=cfg.resume)
    if rank_zero_only.rank != 0:  # under DDP every process returns here; one report is enough
        return 0
    from lightship.training.summary import describe

    lines = describe(result.summary, escape(result.run_dir / "summary.json"))
    console().print(
        f"[bold green]done[/] run folder: [bold]{escape(result.run_dir)}[/]\n{lines}", highlight=False
    )
    return 0


def tune_parser(what: str) -> ArgumentParser:
    """The parser of ``lightship tune lr|batch-size``: the train options plus the finder's own."""
    finder = {"lr": "a learning rate (a range test)", "batch-size": "the largest batch size that fits"}[what]
    parser = train_parser(
        f"lightship tune {what}", f"Find {finder} for a train config; writes a plot and tune.json."
    )
    if what == "lr":
        parser.add_argument(
            "--min_lr", type=float, default=1e-5, help="Smallest learning rate of the range test"
        )
        parser.add_argument(
            "--max_lr", type=float, default=10.0, help="Largest learning rate of the range test"
        )
        parser.add_argument("--num_training", type=int, default=100, help="Steps of the range test")
    else:
        parser.add_argument("--max_trials", type=int, default=6, help="Doublings of the batch size to try")
        parser.add_argument(
            "--steps_per_trial", type=int, default=3, help="Training steps run per batch size"
        )
    return parser


def tune_command(what: str, argv: Sequence[str]) -> int:
    """``lightship tune lr|batch-size``: parse, run the finder, print what it found."""
    from lightship.training.tune import find_batch_size, find_lr

    cfg = tune_parser(what).parse_args(train_words(argv))
    config = config_from_namespace(cfg)
    out = Path(cfg.out or f"runs/tune-{what}")
    if what == "lr":
        check_at_least(1, num_training=cfg.num_training)
        if not 0 < cfg.min_lr < cfg.max_lr:
            raise LightshipError(
                f"--min_lr and --max_lr must satisfy 0 < min_lr < max_lr (they are {cfg.min_lr}, {cfg.max_lr})"
            )
        result = find_lr(config, out, cfg.min_lr, cfg.max_lr, cfg.num_training)
        console().print(
            f"[bold green]suggested --optim.lr {result['suggested_lr']:.4g}[/]  plot: {escape(result['plot'])}"
        )
    else:
        check_at_least(1, max_trials=cfg.max_trials, steps_per_trial=cfg.steps_per_trial)
        result = find_batch_size(config, out, cfg.max_trials, cfg.steps_per_trial)
        console().print(
            f"[bold green]largest batch size that fits: --data.batch_size {result['batch_size']}[/]"
        )
    return 0


def tune_lr_command(argv: Sequence[str]) -> int:
    """``lightship tune lr``."""
    return tune_command("lr", argv)


def tune_batch_size_command(argv: Sequence[str]) -> int:
    """``lightship tune batch-size``."""
    return tune_command("batch-size", argv)
