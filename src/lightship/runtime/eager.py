"""The trained model itself as a backend: what ``predict RUN`` and ``benchmark``'s reference run.

Same contract as the artifact backends (uint8 NHWC batch in, ``(probs, logits)`` out), through the same
:class:`~lightship.models.InferenceWrapper` every artifact is exported from. Slower than an exported
artifact on a CPU and it needs torch, which is why a bundle is what deployments load.
"""

from __future__ import annotations

import numpy as np
import torch

from lightship.models import Classifier, InferenceWrapper


class EagerBackend:
    """``classifier`` in PyTorch with ``threads`` CPU threads (torch's count is per process)."""

    def __init__(self, classifier: Classifier, threads: int) -> None:
        torch.set_num_threads(threads)
        self.wrapper = InferenceWrapper(classifier.cpu())

    def run(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            probs, logits, _ = self.wrapper(torch.from_numpy(np.ascontiguousarray(images)))
        return probs.numpy(), logits.numpy()
