import pytest
import torch

from lightship.training.config import OptimConfig
from lightship.training.module import lr_factor
from lightship.training.tta import tta_logits


def test_airbench_schedule_warms_up_then_decays_to_final_factor() -> None:
    cfg = OptimConfig(schedule="linear", warmup_fraction=0.23, start_factor=0.2, final_factor=0.07)
    total = 100
    assert lr_factor(cfg, 0, total) == pytest.approx(0.2)
    assert lr_factor(cfg, 23, total) == pytest.approx(1.0)
    assert lr_factor(cfg, 100, total) == pytest.approx(0.07)
    values = [lr_factor(cfg, s, total) for s in range(total + 1)]
    assert max(values) == pytest.approx(1.0)


def test_cosine_and_constant_schedules() -> None:
    cosine = OptimConfig(schedule="cosine", warmup_fraction=0.0, final_factor=0.0)
    assert lr_factor(cosine, 0, 10) == pytest.approx(1.0)
    assert lr_factor(cosine, 5, 10) == pytest.approx(0.5)
    assert lr_factor(cosine, 10, 10) == pytest.approx(0.0, abs=1e-9)
    assert lr_factor(OptimConfig(schedule="constant"), 7, 10) == 1.0


def test_tta_levels_average_mirrored_and_shifted_views() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.LazyLinear(5))
    x = torch.randn(2, 3, 8, 8)
    net(x)
    plain = tta_logits(net, x, 0)
    assert torch.equal(plain, net(x))
    mirror = tta_logits(net, x, 1)
    assert torch.allclose(mirror, 0.5 * net(x) + 0.5 * net(x.flip(-1)))
    full = tta_logits(net, x, 2)
    assert full.shape == (2, 5) and not torch.allclose(full, mirror)
    torch.testing.assert_close(tta_logits(net, x, 2, plain=net(x)), full)
