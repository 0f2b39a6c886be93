"""``reference.pt``: the eager model kept inside the bundle so ``verify`` can rebuild it anywhere.

It holds plain types only (a state_dict and the ModelMeta as a dict), so it loads with
``torch.load(weights_only=True)`` and needs neither the run folder nor the training code.
"""

from __future__ import annotations

from pathlib import Path

import torch

from lightship.errors import BundleError
from lightship.files import replacing
from lightship.models import Classifier, ModelMeta

REFERENCE_NAME = "reference.pt"


def save_reference(classifier: Classifier, meta: ModelMeta, path: Path) -> None:
    """The classifier's weights (on the CPU) and its ModelMeta, written atomically to ``path``."""
    state = {k: v.detach().cpu() for k, v in classifier.state_dict().items()}
    with replacing(path) as handle:
        torch.save({"meta": meta.portable(), "state_dict": state}, handle)


def load_reference(path: Path) -> Classifier:
    """The eager classifier (eval, CPU) stored at ``path``."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        model = ModelMeta(**payload["meta"]).build()
        model.load_state_dict(payload["state_dict"])
    except Exception as exc:
        raise BundleError(f"{path} is not a usable reference model ({type(exc).__name__}: {exc})") from exc
    return model.eval()
