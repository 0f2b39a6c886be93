import pytest
import torch

from lightship.models import (
    Classifier,
    UnknownModelError,
    create_model,
    default_image_size,
    list_models,
    register_model,
)


@pytest.mark.parametrize(
    ("name", "size"),
    [("airbench", 32), ("resnet18_cifar", 32), ("mobilenet_v3_small", 64), ("efficientnet_b0", 64)],
)
def test_models_by_name_give_logits_for_the_number_of_classes(name: str, size: int) -> None:
    net = create_model(name, num_classes=7).eval()
    with torch.no_grad():
        out = net(torch.randn(2, 3, size, size))
    assert out.shape == (2, 7)


def test_list_models_has_ours_first_then_torchvision() -> None:
    names = list_models()
    assert names[:2] == ["airbench", "resnet18_cifar"]
    assert {"resnet50", "vit_b_16", "convnext_tiny"} <= set(names)
    assert default_image_size("airbench") == 32 and default_image_size("resnet50") == 224


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(UnknownModelError, match=r"Did you mean.*resnet18"):
        create_model("resnet81", num_classes=10)


def test_registering_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register_model("airbench", 32, "again")(lambda num_classes: None)


def test_airbench_whitening_init_whitens_patches() -> None:
    net = create_model("airbench", 10)
    images = torch.randn(64, 3, 32, 32) * torch.tensor([1.0, 2.0, 0.5]).view(1, 3, 1, 1)
    net.init_from_data(images)
    out = torch.nn.functional.conv2d(images, net.whiten.weight[:12])
    cov = torch.cov(out.permute(1, 0, 2, 3).reshape(12, -1))
    assert torch.allclose(torch.diag(cov), torch.ones(12), atol=0.05)
    assert net.whiten.weight.requires_grad is False
    net.set_epoch(3)
    assert net.whiten.bias.requires_grad is False


def test_classifier_takes_uint8_nhwc_of_any_size() -> None:
    model = Classifier(create_model("airbench", 10), 32, [0.5] * 3, [0.25] * 3).eval()
    with torch.no_grad():
        for h, w in [(32, 32), (1, 1), (300, 20)]:
            out = model(torch.randint(0, 256, (3, h, w, 3), dtype=torch.uint8))
            assert out.shape == (3, 10) and torch.isfinite(out).all()


def test_preprocess_normalises_and_resize_to_same_size_is_identity() -> None:
    model = Classifier(create_model("airbench", 10), 4, [0.5] * 3, [0.25] * 3)
    pixels = torch.randint(0, 256, (2, 4, 4, 3), dtype=torch.uint8)
    x = model.preprocess.to_float(pixels)
    assert torch.equal(model.preprocess.resize(x), x)
    expected = (pixels.permute(0, 3, 1, 2).float() / 255 - 0.5) / 0.25
    assert torch.allclose(model.preprocess(pixels), expected, atol=1e-5)
