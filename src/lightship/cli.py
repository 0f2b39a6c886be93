"""The ``lightship`` command: one entry point, each subcommand a thin call into the Python API.

Arguments follow LightningCLI/jsonargparse conventions: ``--config FILE`` then dotted overrides such as
``--data.root PATH --trainer.max_epochs 3``. Commands other than ``train`` are typed functions whose
signature and docstring become their arguments and help (``COMMANDS`` below: one line to add one).
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml
from jsonargparse import ActionConfigFile, ArgumentParser, Namespace
from rich.console import Console

from lightship.errors import LightshipError
from lightship.images import ImageDecodeError

err_console = Console(stderr=True)

#: subcommand -> (module, function). Each function takes typed arguments and returns an exit code.
COMMANDS: dict[str, tuple[str, str]] = {
    "models": ("lightship.cli", "models_command"),
    "evaluate": ("lightship.evaluation", "evaluate_command"),
    "export": ("lightship.export.commands", "export_command"),
    "verify": ("lightship.export.commands", "verify_command"),
    "predict": ("lightship.runtime.predict", "predict_command"),
    "benchmark": ("lightship.runtime.benchmark", "benchmark_command"),
    "serve": ("lightship.serve", "serve_command"),
    "web": ("lightship.web", "web_command"),
    "data inspect": ("lightship.evaluation.inspect", "inspect_command"),
    "data shard": ("lightship.data.shard_writer", "shard_command"),
}
#: First words of two-word commands ("data inspect").
_GROUPS = {name.split()[0] for name in COMMANDS if " " in name}

#: Trainer arguments lightship sets itself (run folder, loggers, checkpointing callbacks).
_TRAINER_SKIP = {"callbacks", "logger", "plugins", "default_root_dir", "enable_checkpointing"}


def models_command(filter: str = "") -> int:
    """List model names that --model.name accepts.

    Args:
        filter: Only names containing this text.
    """
    from lightship.models import describe_model, list_models

    for name in list_models():
        if filter in name:
            print(f"{name:28s} {describe_model(name)}")
    return 0


def _train_parser() -> ArgumentParser:
    from lightning import Trainer

    from lightship.data.config import DataConfig
    from lightship.training.config import ModelConfig, OptimConfig, TrainConfig

    parser = ArgumentParser(
        description="Train an image classifier; writes a run folder.", exit_on_error=False
    )
    parser.add_argument(
        "--config", action=ActionConfigFile, help="YAML config (e.g. configs/cifar10-fast.yaml)"
    )
    parser.add_argument(
        "--resume",
        type=Path | None,
        default=None,
        help="Continue the run in this folder from checkpoints/last.ckpt with its config.yaml",
    )
    parser.add_class_arguments(DataConfig, "data")
    parser.add_class_arguments(ModelConfig, "model")
    parser.add_class_arguments(OptimConfig, "optim")
    parser.add_class_arguments(Trainer, "trainer", skip=_TRAINER_SKIP, instantiate=False, fail_untyped=False)
    top = {f.name: f for f in fields(TrainConfig) if f.name not in {"data", "model", "optim", "trainer"}}
    parser.add_argument("--seed", type=int, default=top["seed"].default, help="Seed of everything")
    parser.add_argument(
        "--tta",
        type=int,
        choices=[0, 1, 2],
        default=0,
        help="Test-time augmentation for the test accuracy: 0 none, 1 mirror, 2 mirror+translate",
    )
    parser.add_argument(
        "--out", type=Path | None, default=None, help="Run folder (default runs/<name>-<time>)"
    )
    return parser


def _config_from_namespace(cfg: Namespace) -> Any:
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
    )


def train_command(argv: Sequence[str]) -> int:
    """``lightship train``: parse, train, print where everything is."""
    from lightning.pytorch.utilities import rank_zero_only

    from lightship.training import RunFolder, train

    argv = list(argv)
    if "--resume" in argv:  # the run's own config first, so later flags override it
        run = RunFolder(Path(argv[argv.index("--resume") + 1]))
        argv = ["--config", yaml.safe_dump(run.read_config(), sort_keys=False), *argv]
    parser = _train_parser()
    cfg = parser.parse_args(argv)
    result = train(_config_from_namespace(cfg), resume=cfg.resume)
    if rank_zero_only.rank != 0:  # under DDP every process returns here; one report is enough
        return 0
    s = result.summary
    Console().print(
        f"[bold green]done[/] run folder: [bold]{result.run_dir}[/]\n"
        f"  test accuracy {_pct(s['test_acc'])} (no TTA {_pct(s['test_acc_no_tta'])}), "
        f"val accuracy {_pct(s['val_acc'])}\n"
        f"  {s['epochs']:g} epochs, {s['global_step']} steps, {s['train_images_per_second']:.0f} images/s, "
        f"wall {s['wall_seconds']:.1f} s\n"
        f"  checkpoints: {s['checkpoints']['best']}\n  summary: {result.run_dir / 'summary.json'}"
    )
    return 0


def tune_command(what: str, argv: Sequence[str]) -> int:
    """``lightship tune lr|batch-size``: the train arguments plus the finder's own; prints the result."""
    from lightship.training.tune import find_batch_size, find_lr

    parser = _train_parser()
    parser.description = (
        "Find a learning rate (lr) or the largest batch size (batch-size) for a train config."
    )
    if what == "lr":
        parser.add_argument("--min_lr", type=float, default=1e-5)
        parser.add_argument("--max_lr", type=float, default=10.0)
        parser.add_argument("--num_training", type=int, default=100, help="Steps of the range test")
    else:
        parser.add_argument("--max_trials", type=int, default=6, help="Doublings of the batch size to try")
        parser.add_argument("--steps_per_trial", type=int, default=3)
    cfg = parser.parse_args(list(argv))
    config = _config_from_namespace(cfg)
    out = Path(cfg.out or f"runs/tune-{what}")
    if what == "lr":
        result = find_lr(config, out, cfg.min_lr, cfg.max_lr, cfg.num_training)
        Console().print(
            f"[bold green]suggested --optim.lr {result['suggested_lr']:.4g}[/]  plot: {result['plot']}"
        )
    else:
        result = find_batch_size(config, out, cfg.max_trials, cfg.steps_per_trial)
        Console().print(
            f"[bold green]largest batch size that fits: --data.batch_size {result['batch_size']}[/]"
        )
    return 0


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _normalise_argv(fn: Callable[..., int], argv: Sequence[str]) -> list[str]:
    """Make the command line read as users write it, before jsonargparse sees it (all as ``--name value``).

    - required parameters may come as positional words, in order, or as flags (``web BUNDLE --out SITE``);
    - a positional ``list`` parameter takes every word up to the next flag (``predict BUNDLE a.png b.png``);
    - ``--top-k`` means ``--top_k`` (flag names use underscores in the signature);
    - ``--strict`` alone means ``--strict true`` for a bool parameter (jsonargparse wants a value).
    """
    params = list(inspect.signature(fn).parameters.values())
    bools = {f"--{p.name}" for p in params if p.annotation in (bool, "bool")}
    words = [_underscored(arg) for arg in argv]
    given = {w.partition("=")[0] for w in words if w.startswith("--")}
    positional = [p for p in params if p.default is inspect.Parameter.empty and f"--{p.name}" not in given]
    out: list[str] = []
    i = position = 0
    while i < len(words):
        arg = words[i]
        if arg.startswith("--"):
            out.append(arg)
            following = words[i + 1].lower() if i + 1 < len(words) else ""
            if arg in bools and following not in {"true", "false", "yes", "no", "1", "0"}:
                out.append("true")
            elif arg not in bools and "=" not in arg and i + 1 < len(words):
                out.append(words[i + 1])
                i += 1
            i += 1
            continue
        if position >= len(positional):
            out.append(arg)  # jsonargparse reports the unexpected word
            i += 1
            continue
        param = positional[position]
        position += 1
        end = i + 1
        if str(param.annotation).startswith("list"):
            while end < len(words) and not words[end].startswith("--"):
                end += 1
            out += [f"--{param.name}", json.dumps(words[i:end])]
        else:
            out += [f"--{param.name}", arg]
        i = end
    return out


def _underscored(arg: str) -> str:
    """``--top-k=3`` -> ``--top_k=3``; values and positionals unchanged."""
    if not arg.startswith("--"):
        return arg
    name, sep, value = arg.partition("=")
    return "--" + name[2:].replace("-", "_") + sep + value


def _function_command(name: str, argv: Sequence[str]) -> int:
    module, attr = COMMANDS[name]
    fn: Callable[..., int] = getattr(importlib.import_module(module), attr)
    required = [p for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty]
    words = [p.name.upper() + ("..." if str(p.annotation).startswith("list") else "") for p in required]
    parser = ArgumentParser(
        prog=f"lightship {name}",
        usage=f"lightship {name} {' '.join(words)} [--option value ...]  (or --{required[0].name} ... as flags)"
        if required
        else None,
        description=(fn.__doc__ or "").split("\n")[0],
        exit_on_error=False,
    )
    parser.add_argument("--config", action=ActionConfigFile)
    parser.add_function_arguments(fn)
    cfg = parser.parse_args(_normalise_argv(fn, argv))
    cfg.pop("config", None)
    init = parser.instantiate_classes(cfg)
    return int(fn(**init.as_dict()) or 0)


def _usage() -> str:
    names = " | ".join(["train", "tune lr", "tune batch-size", *COMMANDS])
    return (
        f"usage: lightship {{{names}}} [--help] ...\n"
        "Train, evaluate, export, verify and serve image classifiers. `lightship COMMAND --help` for details."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit status (0 ok, 1 a check failed, 2 a usage or input error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(_usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name in _GROUPS and rest and f"{name} {rest[0]}" in COMMANDS:
        name, rest = f"{name} {rest[0]}", rest[1:]
    if name in {"--version", "version"}:
        from lightship import __version__

        print(f"lightship {__version__}")
        return 0
    try:
        if name == "train":
            return train_command(rest)
        if name == "tune" and rest and rest[0] in {"lr", "batch-size"}:
            return tune_command(rest[0], rest[1:])
        if name in COMMANDS:
            return _function_command(name, rest)
        err_console.print(f"[red]error:[/] unknown command {name!r}\n{_usage()}")
        return 2
    except SystemExit as exc:  # --help, or jsonargparse's own usage errors
        return int(exc.code or 0)
    except BrokenPipeError:  # `lightship predict ... --json | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0
    except (LightshipError, ImageDecodeError, FileNotFoundError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        return 2
    except FloatingPointError as exc:  # a NaN/inf loss: the message names the step and batch
        err_console.print(f"[red]training stopped:[/] {exc}")
        return 1
    except Exception as exc:
        if type(exc).__name__ in {"ArgumentError", "ParserError"}:
            err_console.print(
                f"[red]error:[/] {exc}\nRun `lightship {name} --help` for the accepted arguments."
            )
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
