"""Label map (tolerant tsv keyed by raw_category) and the CRLF scene .txt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sources.scannet import load_label_map
from sources.scannet.meta import axis_alignment, image_size, intrinsic_from_meta, parse_meta
from sources.scene import SceneError

HEADER = "id\traw_category\tcategory\tcount\tnyu40id\teigen13id\tnyuClass\tnyu40class\n"


def test_label_map_maps_through_raw_category_not_id(tmp_path: Path) -> None:
    tsv = tmp_path / "labels.tsv"
    tsv.write_text(
        HEADER
        + "13\tpillow\tpillow\t937\t18\t7\tpillow\tpillow\n"
        + "13\tpillows\tpillow\t9\t18\t7\tpillow\tpillow\n"  # same id: a dict keyed by id would lose one
        + "28\tdoor\tdoor\t1\t8\t12\tdoor\tdoor\n"
        + "28\tdoors\tdoor\t1\t8\t12\tdoor\tdoor\n"
        + "99\tshort row\n"  # short row: category falls back to the raw label, no crash
        + "\n"
    )
    labels = load_label_map(tsv)
    assert labels.lookup("pillow") == ("pillow", "pillow")
    assert labels.lookup("pillows") == ("pillow", "pillow")
    assert labels.lookup("doors") == ("door", "door")
    assert labels.lookup("short row") == ("short row", "")
    assert labels.entry("door").nyu40id == 8
    assert labels.lookup(" Pillows ") == ("pillow", "pillow")  # case/spacing only
    assert labels.lookup("trashcan") is None
    assert len(labels) == 5


def test_label_map_without_raw_category_column_is_rejected(tmp_path: Path) -> None:
    tsv = tmp_path / "bad.tsv"
    tsv.write_text("id\tname\n1\twall\n")
    with pytest.raises(ValueError, match="raw_category"):
        load_label_map(tsv)


def test_real_label_map_keeps_synonyms_sharing_an_id(real_fixtures: Path) -> None:
    labels = load_label_map(real_fixtures / "scannetv2-labels.combined.tsv")
    assert len(labels) == 607
    ids = [
        line.split("\t")[0]
        for line in (real_fixtures / "scannetv2-labels.combined.tsv").read_text().splitlines()[1:]
    ]
    assert len(set(ids)) < len(ids)  # the trap is real: id is not unique
    for raw, category in [("pillow", "pillow"), ("pillows", "pillow"), ("door", "door"), ("doors", "door"),
                          ("chair", "chair"), ("towel", "towel"), ("lamp", "lamp"), ("bookshelf", "bookshelf")]:  # fmt: skip
        assert labels.lookup(raw)[0] == category, raw
    assert labels.lookup("trash can") == ("trash can", "otherfurniture")
    assert labels.lookup("trashcan") is None and labels.lookup("dishrack") is None


def test_meta_crlf_values_with_spaces_and_slashes(tmp_path: Path) -> None:
    txt = tmp_path / "scene.txt"
    a = "0.5 -0.866 0 1 0.866 0.5 0 2 0 0 1 -0.25 0 0 0 1"
    txt.write_bytes(
        f"axisAlignment = {a}\r\nsceneType = Bedroom / Hotel\r\ncolorWidth = 1296\r\ncolorHeight = 968\r\n"
        "fx_depth = 570.9\r\nfy_depth = 571.0\r\nmx_depth = 319.5\r\nmy_depth = 239.5\r\nodd = a = b\r\n".encode()
    )
    meta = parse_meta(txt)
    assert meta["sceneType"] == "Bedroom / Hotel"
    assert meta["odd"] == "a = b"  # split on the first " = " only
    assert not any("\r" in k or "\r" in v for k, v in meta.items())
    align = axis_alignment(meta)
    np.testing.assert_allclose(align[:3, 3], [1, 2, -0.25])
    np.testing.assert_allclose(align[0, :2], [0.5, -0.866])
    assert image_size(meta, "color") == (1296, 968)
    assert image_size(meta, "depth") is None
    np.testing.assert_allclose(
        intrinsic_from_meta(meta, "depth"), [[570.9, 0, 319.5], [0, 571.0, 239.5], [0, 0, 1]]
    )
    assert intrinsic_from_meta(meta, "color") is None


def test_missing_axis_alignment_is_identity_and_bad_one_is_an_error() -> None:
    np.testing.assert_array_equal(axis_alignment({"sceneType": "Office"}), np.eye(4))
    with pytest.raises(SceneError, match="16 finite"):
        axis_alignment({"axisAlignment": "1 0 0 0 1"})
    with pytest.raises(SceneError, match="16 finite"):
        axis_alignment({"axisAlignment": " ".join(["nan"] * 16)})
    with pytest.raises(SceneError, match="not numeric"):
        axis_alignment({"axisAlignment": "one two"})
