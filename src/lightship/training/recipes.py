"""The shipped training configs (``configs/*.yaml``), selectable by name: ``--config digits``.

A wheel carries them inside the package (``lightship/configs``, copied there by setup.py); a source
checkout (an editable install) reads the repository's ``configs/`` folder. Either way ``--config NAME``
finds them from any working directory, and ``--config PATH`` still means that file.
"""

from __future__ import annotations

from pathlib import Path

#: Where the configs are: inside an installed wheel, then in the source checkout.
CONFIG_DIRS = (
    Path(__file__).resolve().parents[1] / "configs",
    Path(__file__).resolve().parents[3] / "configs",
)


def shipped_configs() -> dict[str, Path]:
    """Name (file name without .yaml) -> path of every shipped config (the first folder that has any)."""
    for folder in CONFIG_DIRS:
        found = {path.stem: path for path in sorted(folder.glob("*.yaml"))}
        if found:
            return found
    return {}


def resolve_config_args(argv: list[str]) -> list[str]:
    """``argv`` with every ``--config NAME`` that names a shipped config (and no existing file) replaced by
    its path; anything else (a path, inline YAML) is left for the parser."""
    out = list(argv)
    configs = shipped_configs()
    for i, arg in enumerate(out):
        key, equals, value = arg.partition("=")
        if key != "--config":
            continue
        value, at = (value, i) if equals else (out[i + 1] if i + 1 < len(out) else "", i + 1)
        name = value.removesuffix(".yaml")
        if value and not Path(value).exists() and name in configs:
            out[at] = f"--config={configs[name]}" if equals else str(configs[name])
    return out
