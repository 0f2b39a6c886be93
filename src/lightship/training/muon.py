"""Muon for conv filters, with SGD-Nesterov for everything else, in one optimiser.

Muon (Keller Jordan, 2024; airbench94_muon) replaces each filter's momentum update by its nearest
semi-orthogonal matrix (a few Newton-Schulz iterations), and keeps the filter at a fixed norm, which BatchNorm
after the conv makes harmless. On CIFAR-10 it reaches airbench94's accuracy in about 20% fewer epochs.

Written here rather than taken from ``torch.optim.Muon`` because that one accepts 2-D parameters only
(conv filters are 4-D) and has no weight normalisation; and as one optimiser rather than two because
Lightning's automatic optimisation steps exactly one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

# The quintic Newton-Schulz coefficients of airbench94_muon / modded-nanogpt: they maximise the slope at zero,
# so three iterations suffice; singular values land near 1 rather than exactly on it, which does not hurt.
_NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def orthogonalize(grad: torch.Tensor, steps: int = 3, eps: float = 1e-7) -> torch.Tensor:
    """Approximately ``U V^T`` of the 2-D ``grad = U S V^T``, in bfloat16 (the iteration tolerates it)."""
    a, b, c = _NS_COEFFICIENTS
    x = grad.bfloat16()
    x = x / (x.norm() + eps)
    tall = x.size(0) > x.size(1)
    if tall:
        x = x.T
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


class MuonSGD(torch.optim.Optimizer):
    """Param groups with ``muon=True`` get Muon (momentum, orthogonalised update, weight kept at norm
    ``sqrt(out_channels)``, no weight decay); the others get SGD with Nesterov momentum and weight decay,
    exactly as ``torch.optim.SGD`` computes it."""

    def __init__(
        self,
        params: Iterable[dict[str, Any]],
        lr: float = 0.1,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        muon: bool = False,
        ns_steps: int = 3,
    ) -> None:
        if lr < 0 or not 0 <= momentum < 1:
            raise ValueError(f"need lr >= 0 and 0 <= momentum < 1, got lr={lr}, momentum={momentum}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "muon": muon,
            "ns_steps": ns_steps,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            if group["muon"] and any(p.ndim < 2 for p in group["params"]):
                raise ValueError("Muon groups take matrices or conv filters only (ndim >= 2)")

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if not group["muon"] and group["weight_decay"]:
                    grad = grad.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = grad.clone()
                else:
                    state["momentum_buffer"].mul_(momentum).add_(grad)
                update = grad.add(state["momentum_buffer"], alpha=momentum)  # Nesterov
                if group["muon"]:
                    p.mul_(len(p) ** 0.5 / p.norm().clamp_min(1e-12))
                    update = orthogonalize(update.reshape(len(p), -1), group["ns_steps"]).view_as(p)
                p.add_(update.to(p.dtype), alpha=-lr)
        return loss
