import os
from pathlib import Path

import pytest
import torch

from lightship.errors import CheckpointError
from lightship.training.checkpoint import load_classifier, read_checkpoint, resolve_checkpoint
from lightship.training.checkpoint_io import AtomicCheckpointIO


def test_atomic_save_leaves_no_temp_file_and_keeps_old_file_on_failure(tmp_path: Path) -> None:
    io = AtomicCheckpointIO()
    target = tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"a": torch.ones(3)}, target)
    assert torch.equal(torch.load(target, weights_only=True)["a"], torch.ones(3))

    class Unpicklable:
        def __reduce__(self):
            raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space"):
        io.save_checkpoint({"a": Unpicklable()}, target)
    assert torch.equal(torch.load(target, weights_only=True)["a"], torch.ones(3))
    assert os.listdir(target.parent) == ["last.ckpt"]


def test_truncated_checkpoint_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "best.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError, match=r"best\.ckpt is not a readable checkpoint"):
        read_checkpoint(path)


def test_missing_and_foreign_checkpoints_have_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        resolve_checkpoint(tmp_path / "nope.ckpt")
    with pytest.raises(CheckpointError, match=r"no checkpoints/best\.ckpt"):
        resolve_checkpoint(tmp_path)
    torch.save({"state_dict": {}}, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match="not written by lightship"):
        load_classifier(tmp_path / "other.ckpt")
