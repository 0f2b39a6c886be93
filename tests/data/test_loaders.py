"""InMemoryLoader: seeded epochs, a partial last training batch unless of one image, in-order eval, DDP sharding."""

from __future__ import annotations

import torch

from lightship.data import AugmentConfig, InMemoryLoader

NO_AUG = AugmentConfig(translate=0, flip="none", cutout=0)


def _data(n: int = 103) -> tuple[torch.Tensor, torch.Tensor]:
    # Pixel value = sample index mod 256 (constant image), so batches reveal which samples they hold.
    images = (torch.arange(n) % 256).to(torch.uint8).view(n, 1, 1, 1).expand(n, 4, 4, 3).contiguous()
    return images, torch.arange(n)


def _seen(loader: InMemoryLoader) -> list[int]:
    return [i for _, labels in loader for i in labels.tolist()]


def test_training_batches_are_seeded_change_per_epoch_and_keep_the_partial_last_one():
    images, labels = _data()
    loader = InMemoryLoader(images, labels, 10, train=True, augment=NO_AUG, seed=3)
    assert len(loader) == 11
    batches = list(loader)
    assert len(batches) == 11 and [len(b[1]) for b in batches] == [10] * 10 + [3]
    assert all(b[0].shape[1:] == (4, 4, 3) for b in batches)
    assert all(b[0].dtype == torch.uint8 and b[1].dtype == torch.int64 for b in batches)
    assert all(torch.equal(b[0][:, 0, 0, 0].long(), b[1]) for b in batches)  # images stay with labels
    epoch0 = [i for b in batches for i in b[1].tolist()]
    assert sorted(epoch0) == list(range(103))
    epoch1 = _seen(loader)  # the internal counter moved on
    assert epoch0 != epoch1
    loader.set_epoch(0)
    assert _seen(loader) == epoch0
    again = InMemoryLoader(images, labels, 10, train=True, augment=NO_AUG, seed=3, epoch_fn=lambda: 1)
    assert _seen(again) == epoch1


def test_a_last_training_batch_of_one_image_is_left_out_and_tiny_sets_still_give_a_batch():
    images, labels = _data(101)
    loader = InMemoryLoader(images, labels, 10, train=True, augment=NO_AUG)
    sizes = [len(b[1]) for b in loader]
    assert sizes == [10] * 10 and len(loader) == 10  # a batch of one would break BatchNorm
    images, labels = _data(3)
    assert [len(b[1]) for b in InMemoryLoader(images, labels, 3, train=True)] == [3]


def test_eval_is_in_order_and_keeps_the_last_batch():
    images, labels = _data()
    loader = InMemoryLoader(images, labels, 10, train=False)
    assert len(loader) == 11
    assert _seen(loader) == list(range(103))
    assert list(loader)[-1][0].shape[0] == 3


def test_two_ranks_take_disjoint_slices_of_the_same_permutation():
    images, labels = _data()
    for epoch in (0, 1):
        shards = []
        for rank in (0, 1):
            loader = InMemoryLoader(images, labels, 8, train=True, seed=1, rank=rank, world_size=2)
            loader.set_epoch(epoch)
            shards.append(_seen(loader))
            assert len(loader) == 7  # 51 images per rank: 6 batches of 8 and one of 3
        assert len(shards[0]) == len(shards[1]) == 51
        assert not set(shards[0]) & set(shards[1])


def test_ranks_cover_the_epoch_when_it_divides():
    images, labels = _data(96)
    shards = [_seen(InMemoryLoader(images, labels, 12, train=True, rank=r, world_size=2)) for r in (0, 1)]
    assert sorted(shards[0] + shards[1]) == list(range(96))


def test_eval_sharding_gives_every_rank_the_same_number_of_batches():
    images, labels = _data(21)
    loaders = [InMemoryLoader(images, labels, 4, train=False, rank=r, world_size=2) for r in (0, 1)]
    assert len(loaders[0]) == len(loaders[1]) == 3
    seen = [_seen(loader) for loader in loaders]
    assert len(seen[0]) == len(seen[1]) == 11
    assert set(seen[0]) | set(seen[1]) == set(range(21))


def test_augmentation_is_applied_for_training_only():
    images = torch.randint(0, 256, (32, 8, 8, 3), dtype=torch.uint8)
    labels = torch.arange(32)
    config = AugmentConfig(translate=0, flip="alternating", cutout=0)
    train = InMemoryLoader(images, labels, 32, train=True, augment=config)
    ((out, order),) = list(train)
    flipped = [torch.equal(o, images[i].flip(1)) for o, i in zip(out, order.tolist(), strict=True)]
    assert flipped == train.augment.flip_mask[order].tolist()
    evaluation = InMemoryLoader(images, labels, 32, train=False, augment=config)
    assert torch.equal(next(iter(evaluation))[0], images)


def test_to_moves_the_data():
    images, labels = _data(8)
    loader = InMemoryLoader(images, labels, 4, train=False).to("meta")
    assert loader.images.device.type == "meta" and loader.labels.device.type == "meta"
