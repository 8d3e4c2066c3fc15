"""make-demo's ScanNet++ and ARKitScenes layouts: byte-identical for a seed, and carrying the formats' traits."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import pytest

from sources.demo import make_demo


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _decoded(path: Path) -> list[bytes]:
    capture, frames = cv2.VideoCapture(str(path)), []
    while True:
        ok, image = capture.read()
        if not ok:
            return frames
        frames.append(image.tobytes())


@pytest.mark.parametrize("layout", ["scannetpp", "arkitscenes"])
def test_same_seed_writes_the_same_bytes(tmp_path: Path, layout: str) -> None:
    for name in ("a", "b"):
        make_demo(tmp_path / name, scenes=1, seed=3, frames=2, vertices=3000, layout=layout)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    video = "data/de00000000/iphone/rgb.mkv"
    if layout == "scannetpp":  # FFmpeg's Matroska muxer writes random UIDs; the encoded frames are identical
        assert _decoded(tmp_path / "a" / video) == _decoded(tmp_path / "b" / video)
        del a[video], b[video]
    assert a == b


def test_arkit_frames_are_stored_as_the_phone_held_them(small_layouts: dict[str, Path]) -> None:
    root = small_layouts["arkitscenes"] / "3dod"
    rows = (root / "metadata.csv").read_text().splitlines()
    assert rows[0].startswith("video_id,visit_id,sky_direction") and rows[1:] == [
        "99000000,100000000,Down,Training",
        "99000001,100000001,Left,Training",
    ]
    for video in ("99000000", "99000001"):
        frames = root / "Training" / video / f"{video}_frames"
        image = cv2.imread(str(next((frames / "lowres_wide").glob("*.png"))))
        assert image.shape[:2] == (192, 256)  # stored landscape, whatever way up it is shown
        annotation = json.loads((root / "Training" / video / f"{video}_3dod_annotation.json").read_text())
        assert {d["objectId"] for d in annotation["data"]} == {1}  # not an id, as in real files


def test_scannetpp_ids_and_stream_traits(small_layouts: dict[str, Path]) -> None:
    root = small_layouts["scannetpp"]
    assert (root / "splits" / "nvs_sem_train.txt").read_text().split() == ["de00000000"]
    poses = json.loads((root / "data" / "de00000000" / "iphone" / "pose_intrinsic_imu.json").read_text())
    assert sorted(poses) == [f"frame_{k:06d}" for k in (0, 30, 60, 90)]
    assert poses["frame_000030"]["timestamp"] - poses["frame_000000"]["timestamp"] == pytest.approx(0.5)
    capture = cv2.VideoCapture(str(root / "data" / "de00000000" / "iphone" / "rgb.mkv"))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(60)
