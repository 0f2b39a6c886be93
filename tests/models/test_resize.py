"""The matrix-product resize against ATen's antialiased bilinear kernel, on every kind of size change."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch.export import Dim

from lightship.data.decode import resize_images
from lightship.models.classifier import LEVEL_NUDGE, RESIZE_MODES, Preprocess, centre_square, resize_to
from lightship.models.resize import aa_weights, resize_canvas, resize_matmul

SIZES = [1, 2, 3, 5, 7, 31, 32, 33, 97, 120, 250, 480]
#: How far the matrix-product resize may be from ATen's before rounding (pixel levels 0..255): only the
#: summation order differs (test_resize_matches_aten_on_every_aspect_ratio).
RAW_TOL = 3e-4


def _aten(x: torch.Tensor, size: int) -> torch.Tensor:
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def _aten_weights(n: int, size: int) -> torch.Tensor:
    """ATen's weights for one axis: resizing an identity matrix along its width (height unchanged)."""
    eye = torch.eye(n).view(1, 1, n, n)
    return F.interpolate(eye, size=(n, size), mode="bilinear", antialias=True, align_corners=False)[0, 0].T


@pytest.mark.parametrize("size", [1, 8, 32, 224])
def test_weights_match_aten_for_down_up_and_same_size(size):
    for n in [1, 2, 3, 7, 32, 97, 224, 1000, 4032]:
        positions = torch.arange(n, dtype=torch.float32).view(1, 1, 1, n)
        ours = aa_weights(positions, torch.full((1, 1, 1, 1), float(n)), size)[0, 0]
        assert (ours - _aten_weights(n, size)).abs().max() <= 1e-6, (n, size)


def test_resize_matches_aten_on_every_aspect_ratio():
    torch.manual_seed(0)
    worst = 0.0
    for (height, width), size in itertools.product(itertools.product(SIZES, SIZES), [8, 32]):
        x = torch.randint(0, 256, (2, 3, height, width)).float()
        worst = max(worst, float((resize_matmul(x, size) - _aten(x, size)).abs().max()))
    assert worst <= RAW_TOL, worst


def test_same_size_is_the_identity():
    x = torch.randint(0, 256, (1, 3, 32, 32)).float()
    assert torch.equal(resize_matmul(x, 32), x)


def test_canvas_resize_ignores_everything_outside_the_image():
    torch.manual_seed(1)
    for height, width in [(1, 1), (1, 40), (39, 61), (64, 64), (7, 64)]:
        x = torch.randint(0, 256, (1, 3, height, width)).float()
        canvas = torch.randint(
            0, 256, (1, 3, 64, 64)
        ).float()  # garbage padding, as the LiteRT runtime leaves it
        canvas[..., :height, :width] = x
        h, w = (torch.full((1, 1, 1, 1), float(v)) for v in (height, width))
        assert (resize_canvas(canvas, h, w, 32) - resize_matmul(x, 32)).abs().max() <= 1e-4


def test_exported_graph_keeps_height_and_width_dynamic():
    class Resize(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return resize_matmul(x, 16)

    example = torch.rand(2, 3, 40, 50) * 255
    program = torch.export.export(
        Resize(), (example,), dynamic_shapes={"x": {0: Dim("batch"), 2: Dim("height"), 3: Dim("width")}}
    )
    for height, width in [(3, 200), (16, 16), (71, 9)]:
        x = torch.rand(3, 3, height, width) * 255
        assert (program.module()(x) - _aten(x, 16)).abs().max() <= 3e-4


def test_crop_in_the_weights_matches_the_centre_square_then_resize():
    """Resize mode "crop" (photos): the weights select the centred square, as ``centre_square`` slices it,
    for portrait, landscape, odd differences and squares, on the dynamic and the canvas form."""
    torch.manual_seed(2)
    for height, width in [(1, 5), (5, 1), (40, 61), (61, 40), (33, 32), (97, 250), (32, 32)]:
        x = torch.randint(0, 256, (2, 3, height, width)).float()
        expected = _aten(centre_square(x), 32)
        assert (resize_matmul(x, 32, crop=True) - expected).abs().max() <= 3e-4, (height, width)
        canvas = torch.randint(0, 256, (2, 3, 256, 256)).float()
        canvas[..., :height, :width] = x
        h, w = (torch.full((1, 1, 1, 1), float(v)) for v in (height, width))
        assert (resize_canvas(canvas, h, w, 32, crop=True) - expected).abs().max() <= 3e-4, (height, width)


def test_preprocess_gives_the_same_pixels_with_either_method_in_both_modes():
    torch.manual_seed(3)
    pixels = torch.randint(0, 256, (2, 45, 70, 3), dtype=torch.uint8)
    for mode in RESIZE_MODES:
        native = Preprocess(24, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), resize=mode)
        matmul = Preprocess(24, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), resize=mode)
        matmul.resize_method = "matmul"
        x = native.to_float(pixels)
        assert torch.equal(matmul.resize(x), native.resize(x)), mode  # both rounded to the same levels
    with pytest.raises(ValueError, match="resize method"):
        resize_to(x, 24, "squash", "nearest")


def _flips(got: torch.Tensor, want: torch.Tensor, raw: torch.Tensor) -> int:
    """How many levels ``got`` has that the training path (``want``, rounded from ``raw``) has not. Each must
    be one level off, where ``raw`` lies within RAW_TOL of a rounding boundary: there the summation order
    (ATen's loops, a matrix product, its thread count) decides the level, and nothing else may differ."""
    differ = got != want
    nudged = raw + LEVEL_NUDGE
    from_boundary = (nudged - nudged.floor() - 0.5).abs()
    assert ((got - want).abs()[differ] == 1).all() and (from_boundary[differ] < RAW_TOL).all()
    return int(differ.sum())


@pytest.mark.parametrize("mode", RESIZE_MODES)
def test_matmul_and_canvas_resizes_give_the_training_paths_uint8_levels(mode):
    """The edge graphs' preprocessing (matrix products, dynamic or on a canvas) rounds to the uint8 levels the
    data pipeline stores (``resize_images``), on real-looking content at every aspect ratio: all of them but
    values that fall on a rounding boundary, which the sum order decides (with two BLAS threads, 1 of 150,528
    here; none with one). The export gates hold every runtime to the same bound (<= 0.1% one-level flips)."""
    torch.manual_seed(5)
    pre = Preprocess(32, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), resize=mode)
    pre.resize_method = "matmul"
    canvas = torch.zeros(1, 3, 130, 130)
    flips = total = 0
    for height, width in itertools.product([1, 7, 31, 32, 33, 97, 130], repeat=2):
        # smooth gradients plus noise: many resized values fall near half levels, where rounding could flip
        ramp = torch.linspace(0, 255, width).view(1, width, 1).expand(height, width, 3)
        image = (ramp + torch.randint(-20, 21, (height, width, 3))).clamp(0, 255).to(torch.uint8)[None]
        want = torch.from_numpy(resize_images(image.numpy(), 32, mode)).permute(0, 3, 1, 2).float()
        raw = resize_to(pre.to_float(image), 32, mode)  # the training path before rounding
        flips += _flips(pre.levels(image), want, raw)
        canvas.zero_()
        canvas[:, :, :height, :width] = pre.to_float(image)
        valid = (torch.tensor([[[[float(height)]]]]), torch.tensor([[[[float(width)]]]]))
        flips += _flips(pre.resize(canvas, valid), want, raw)
        total += 2 * want.numel()
    assert flips <= 1e-4 * total, (mode, flips, total)
