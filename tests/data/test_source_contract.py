"""Conformance of every data source in the table (timm-style: a new row is covered without editing this
file): opened on small real data, each yields the same split contract: train/val/test, the class names,
uint8 images at the configured size, labels in range with every class present, and its bad files reported."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lightship.data import DataConfig, load_split
from lightship.data.prepare import open_source
from lightship.data.sources import SOURCES
from lightship.data.types import SPLITS


@pytest.mark.parametrize("source", SOURCES.names())
def test_every_source_keeps_the_split_contract(source, source_example):
    example = source_example(source)
    config = example.config
    opened = open_source(config)
    assert list(opened.splits) == list(SPLITS) and opened.class_names == example.class_names
    good = 0
    for split in SPLITS:
        data = load_split(config, split)
        size = config.image_size
        assert data.class_names == example.class_names
        assert data.images.dtype == torch.uint8 and tuple(data.images.shape[1:]) == (size, size, 3)
        assert data.labels.dtype == torch.int64 and len(data.labels) == len(data.images) > 0, split
        assert set(data.labels.tolist()) == set(range(len(example.class_names))), f"{split}: every class"
        assert sorted(Path(bad.path).name for bad in data.bad_files) == example.bad.get(split, []), split
        assert all(bad.reason for bad in data.bad_files)
        good += len(data.labels)
    assert good == example.good


@pytest.mark.parametrize("source", SOURCES.names())
def test_auto_reads_every_source_from_its_root(source, source_example, capsys):
    """--data.source auto finds each source from its folder alone (and says so); no root means digits."""
    from dataclasses import replace

    from lightship.data.detect import resolve_source

    config = source_example(source).config
    auto = replace(config, source="auto")
    assert resolve_source(auto).source == source
    assert f"data source {source}" in capsys.readouterr().err


def test_auto_refuses_a_folder_of_no_known_layout_naming_them(tmp_path):
    from lightship.data.detect import resolve_source
    from lightship.errors import DataError

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no images here")
    with pytest.raises(DataError) as caught:
        resolve_source(DataConfig(root=tmp_path))
    message = str(caught.value)
    assert all(SOURCES[name].layout in message for name in SOURCES if SOURCES[name].layout)


def test_a_built_in_source_with_a_root_is_refused_not_ignored(tmp_path):
    from lightship.errors import DataError

    with pytest.raises(DataError, match="reads no folder"):
        load_split(DataConfig(source="digits", root=tmp_path), "train")
