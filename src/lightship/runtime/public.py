"""What of a bundle's manifest may leave the machine: no local paths, no file layout unless asked.

A manifest records where its verification and calibration data came from, e.g.
``"imagefolder:/home/alice/photos test split"`` or a shard URL that may carry credentials. That is useful
on the machine that exported the bundle and private everywhere else, so every manifest that is published
(``/v1/model`` of ``lightship serve``, the ``manifest.json`` of a ``lightship web`` site) goes through
:func:`scrub_local_paths` first.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "<local path>"

#: Absolute POSIX and home paths, Windows drive and UNC paths, URLs (``scheme://``), ``pipe:``/``file:``
#: commands, and any path-like token right after a ``name:`` prefix (``imagefolder:data/cifar``).
#: A slash inside a word (``grayscale/palette``) is prose and stays.
LOCAL_PATH = re.compile(
    r"(?<![\w.~-])(?:~?/|[A-Za-z]:[\\/]|\\\\)\S*"
    r"|\b[A-Za-z][\w+.-]*://\S*"
    r"|\b(?:pipe|file):\S*(?:\s+\S*[/\\]\S*)*"
    r"|(?<=[\w]:)[^\s/\\]*[/\\]\S*"
)

#: Top-level manifest sections that describe the model for a client (the rest is build detail).
PUBLIC_KEYS = (
    "schema_version",
    "lightship_version",
    "created",
    "model",
    "labels",
    "input",
    "outputs",
    "normalization",
    "verification",
)
#: Artifact keys naming files inside the bundle: the public description lists their hashes instead.
FILE_KEYS = ("file", "files")


def scrub_local_paths(value: Any) -> Any:
    """A copy of ``value`` (JSON-like) whose strings have every local path or URL replaced by REDACTED."""
    if isinstance(value, str):
        return LOCAL_PATH.sub(REDACTED, value)
    if isinstance(value, dict):
        return {key: scrub_local_paths(item) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub_local_paths(item) for item in value]
    return value


def public_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The client-facing description: model, classes, input spec, artifacts with hashes, no paths."""
    public = {key: manifest[key] for key in PUBLIC_KEYS if key in manifest}
    public["artifacts"] = [
        {
            **{k: v for k, v in artifact.items() if k not in FILE_KEYS},
            "sha256": [record["sha256"] for record in artifact["files"]],
            "bytes": sum(record["bytes"] for record in artifact["files"]),
        }
        for artifact in manifest["artifacts"]
    ]
    return scrub_local_paths(public)
