"""The one atomic writer: a failed write keeps the old file and leaves no temp file; folders publish whole."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lightship.files import (
    publish_dir,
    replacing,
    save_array,
    save_arrays,
    staging_dir,
    write_json,
    write_text,
)


def test_writers_write_what_they_are_given(tmp_path: Path) -> None:
    write_text(tmp_path / "deep" / "a.txt", "héllo")
    write_json(tmp_path / "b.json", {"x": [1, 2]})
    save_array(tmp_path / "c.npy", np.arange(5))
    save_arrays(tmp_path / "d.npz", images=np.ones((2, 3), np.uint8), labels=np.arange(2))
    assert (tmp_path / "deep" / "a.txt").read_text(encoding="utf-8") == "héllo"
    assert json.loads((tmp_path / "b.json").read_text()) == {"x": [1, 2]}
    assert np.load(tmp_path / "c.npy").tolist() == [0, 1, 2, 3, 4]
    with np.load(tmp_path / "d.npz") as data:
        assert data["images"].shape == (2, 3) and data["labels"].tolist() == [0, 1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json", "c.npy", "d.npz", "deep"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    write_json(target, {"version": 1})
    with pytest.raises(RuntimeError, match="disk full"), replacing(target) as handle:
        handle.write(b'{"version": 2, "trunc')
        raise RuntimeError("disk full")
    assert json.loads(target.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_a_folder_is_published_whole_and_replaces_only_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    with staging_dir(out) as tmp:
        write_text(tmp / "manifest.json", "{}")
        assert not out.exists()
        publish_dir(tmp, out)
    assert (out / "manifest.json").is_file()

    with staging_dir(out) as tmp:
        write_text(tmp / "new.txt", "new")
        with pytest.raises(FileExistsError):
            publish_dir(tmp, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"], "the staging folder is removed"
    assert (out / "manifest.json").is_file()

    with staging_dir(out) as tmp:
        write_text(tmp / "new.txt", "new")
        publish_dir(tmp, out, replace=True)
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"], "the old folder is removed"
