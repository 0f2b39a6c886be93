"""The Muon + SGD optimiser: SGD groups match torch's SGD, Muon groups whiten and normalise."""

from __future__ import annotations

import pytest
import torch

from lightship.models import create_model
from lightship.training import OptimConfig
from lightship.training.module import build_optimizer
from lightship.training.muon import MuonSGD, orthogonalize


def test_orthogonalize_flattens_the_spectrum() -> None:
    grad = torch.randn(64, 576, generator=torch.Generator().manual_seed(0))
    grad[:, :8] *= 100  # badly conditioned, like a real gradient
    singular = torch.linalg.svdvals(orthogonalize(grad).float())
    before = torch.linalg.svdvals(grad)
    assert before.max() / before.min() > 20
    assert singular.max() / singular.min() < 4 and singular.max() < 1.3  # three iterations: near, not on, 1
    assert orthogonalize(grad.T).shape == (576, 64)


def test_sgd_groups_step_exactly_like_torch_sgd_with_nesterov_and_decay() -> None:
    torch.manual_seed(0)
    ours_w, torch_w = torch.randn(5, 3, requires_grad=True), None
    torch_w = ours_w.detach().clone().requires_grad_(True)
    ours = MuonSGD([{"params": [ours_w], "lr": 0.1, "weight_decay": 0.01}], momentum=0.85)
    reference = torch.optim.SGD([torch_w], lr=0.1, momentum=0.85, nesterov=True, weight_decay=0.01)
    for step in range(4):
        target = torch.randn(5, 3, generator=torch.Generator().manual_seed(step))
        for w, opt in ((ours_w, ours), (torch_w, reference)):
            opt.zero_grad()
            ((w - target) ** 2).sum().backward()
            opt.step()
    torch.testing.assert_close(ours_w, torch_w)


def test_muon_groups_keep_the_filter_norm_and_ignore_the_loss_scale() -> None:
    def one_step(loss_scale: float) -> torch.Tensor:
        w = torch.randn(8, 4, 3, 3, generator=torch.Generator().manual_seed(1)).requires_grad_(True)
        opt = MuonSGD([{"params": [w], "lr": 0.05, "momentum": 0.6, "muon": True}])
        (loss_scale * (w**3).sum()).backward()
        opt.step()
        return w.detach()

    small, large = one_step(1.0), one_step(1000.0)
    torch.testing.assert_close(small, large, atol=1e-2, rtol=0)
    # Normalised to sqrt(8) before the step; an orthogonal step of 0.05 moves the norm only slightly.
    assert abs(small.norm().item() - 8**0.5) < 0.2


def test_muon_refuses_vectors() -> None:
    with pytest.raises(ValueError, match="ndim >= 2"):
        MuonSGD([{"params": [torch.zeros(3, requires_grad=True)], "muon": True}])


def test_muon_recipe_groups_airbench_filters_biases_and_head() -> None:
    net = create_model("airbench", num_classes=10)
    cfg = OptimConfig(optimizer="muon", lr=2.0, norm_lr_scale=64.0, weight_decay=0.002, muon_lr=0.24)
    opt = build_optimizer(net, cfg)
    by_lr = {g["lr"]: g for g in opt.param_groups}
    muon, biases, head = by_lr[0.24], by_lr[128.0], by_lr[2.0]
    assert muon["muon"] and not biases["muon"] and not head["muon"]
    assert {p.ndim for p in muon["params"]} == {4} and len(muon["params"]) == 6  # whitening conv is frozen
    assert net.whiten.bias in biases["params"] and {p.ndim for p in biases["params"]} == {1}
    assert head["params"] == [net.head.weight]
