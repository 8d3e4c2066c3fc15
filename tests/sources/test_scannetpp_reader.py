"""The ScanNet++ reader on hand-built inputs and on a small demo room: depth.bin's three encodings, the obb
transpose, objectId <= 0, the iPhone video decoded at chosen frames, the extracted folders, broken inputs."""

from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path

import cv2
import lz4.block
import numpy as np
import pytest

from sources.scannetpp import list_scenes, read_scene
from sources.scannetpp.depth import HEIGHT, WIDTH, DepthReader, encode_lz4_frames, read_depth_index
from sources.scannetpp.reader import obb_box
from sources.scene import SceneError

SCENE = "de00000000"


def _frames_mm(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 5000, (HEIGHT, WIDTH)).astype(np.uint16) for _ in range(n)]


def _per_frame_deflate(frames: list[np.ndarray]) -> bytes:
    out = bytearray()
    for depth in frames:
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        block = compressor.compress((depth / 1000).astype("<f4").tobytes()) + compressor.flush()
        out += len(block).to_bytes(4, "little") + block
    return bytes(out)


def _whole_file_deflate(frames: list[np.ndarray]) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = b"".join((d / 1000).astype("<f4").tobytes() for d in frames)
    return compressor.compress(raw) + compressor.flush()


@pytest.mark.parametrize("encode", [encode_lz4_frames, _per_frame_deflate, _whole_file_deflate])
def test_depth_bin_layouts_decode_the_same_frames(tmp_path: Path, encode) -> None:
    frames = _frames_mm(3)
    path = tmp_path / "depth.bin"
    path.write_bytes(encode(frames))
    reader = DepthReader(read_depth_index(path))
    assert len(reader.index) == 3
    for k in (2, 0, 1):  # out of order: the single-stream layout restarts
        np.testing.assert_allclose(reader.frame(k), frames[k] / 1000, atol=1e-6)
    with pytest.raises(OSError, match="no depth frame 3"):
        reader.frame(3)


def test_depth_bin_truncated_is_a_scene_error(tmp_path: Path) -> None:
    path = tmp_path / "depth.bin"
    path.write_bytes(_whole_file_deflate(_frames_mm(2))[:-50])
    with pytest.raises(SceneError, match="depth.bin"):
        read_depth_index(path)


def test_lz4_block_is_what_the_toolkit_decodes(tmp_path: Path) -> None:
    frames = _frames_mm(1)
    data = encode_lz4_frames(frames)
    size = int.from_bytes(data[:4], "little")
    raw = lz4.block.decompress(data[4 : 4 + size], uncompressed_size=HEIGHT * WIDTH * 2)
    assert np.array_equal(np.frombuffer(raw, np.uint16).reshape(HEIGHT, WIDTH), frames[0])


def test_obb_normalized_axes_are_rows_transposed_to_columns() -> None:
    yaw = 0.4
    axes = [[np.cos(yaw), np.sin(yaw), 0], [-np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]]  # one axis per row
    box = obb_box(
        {"centroid": [1, 2, 3], "axesLengths": [2, 1, 0.5], "normalizedAxes": np.ravel(axes).tolist()}
    )
    assert np.allclose(box.rotation[:, 0], axes[0]) and np.allclose(box.rotation[:, 2], [0, 0, 1])
    corner = box.center + box.rotation @ (box.extent / 2)
    assert box.contains(corner[None], 1e-9)[0] and not box.contains((corner + axes[0])[None])[0]


def _copy(small_layouts: dict[str, Path], tmp_path: Path) -> Path:
    root = tmp_path / "pp"
    shutil.copytree(small_layouts["scannetpp"], root)
    return root


def test_reads_the_demo_room(small_layouts: dict[str, Path]) -> None:
    root = small_layouts["scannetpp"]
    assert list_scenes(root) == [SCENE]
    scene = read_scene(root, SCENE)
    truth = json.loads((root / "data" / SCENE / "demo_truth.json").read_text())
    assert [f.index for f in scene.frames] == truth["frame_indices"] == [0, 30, 60, 90]
    assert [f.timestamp for f in scene.frames] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert [o.instance_id for o in scene.objects] == [o["objectId"] + 1 for o in truth["objects"]]
    assert [o.label for o in scene.objects] == [o["label"] for o in truth["objects"]]
    assert (scene.depth_camera.width, scene.depth_camera.height) == (256, 192)
    assert scene.floor_vertex_mask.any()
    for obj, known in zip(scene.objects, truth["objects"], strict=True):
        assert int((scene.vertex_instance == obj.instance_id).sum()) == known["num_vertices"]
        assert np.allclose(obj.box.center, known["center"], atol=1e-5)


def test_video_frames_match_a_sequential_decode(small_layouts: dict[str, Path]) -> None:
    scene = read_scene(small_layouts["scannetpp"], SCENE)
    capture = cv2.VideoCapture(str(small_layouts["scannetpp"] / "data" / SCENE / "iphone" / "rgb.mkv"))
    decoded = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        decoded.append(image)
    assert len(decoded) == 91  # every 60 fps slot up to the last rendered frame
    for frame in reversed(scene.frames):  # backwards: the capture reopens
        jpeg = cv2.imdecode(np.frombuffer(scene.store.color_jpeg(frame.index), np.uint8), cv2.IMREAD_COLOR)
        assert np.abs(jpeg.astype(int) - decoded[frame.index]).mean() < 3


def test_extracted_folders_replace_the_containers(small_layouts: dict[str, Path], tmp_path: Path) -> None:
    root = _copy(small_layouts, tmp_path)
    iphone = root / "data" / SCENE / "iphone"
    original = read_scene(root, SCENE)
    (iphone / "rgb").mkdir()
    (iphone / "depth").mkdir()
    for frame in original.frames:
        name = f"frame_{frame.index:06d}"
        (iphone / "rgb" / f"{name}.jpg").write_bytes(original.store.color_jpeg(frame.index))
        mm = np.round(original.store.depth(frame.index) * 1000).astype(np.uint16)
        cv2.imwrite(str(iphone / "depth" / f"{name}.png"), mm)
    depths = {f.index: original.store.depth(f.index) for f in original.frames}
    (iphone / "rgb.mkv").unlink()
    (iphone / "depth.bin").unlink()
    scene = read_scene(root, SCENE)
    assert [f.index for f in scene.frames] == [f.index for f in original.frames]
    for frame in scene.frames:
        assert np.allclose(scene.store.depth(frame.index), depths[frame.index], atol=1e-3)
        assert (
            scene.store.color_jpeg(frame.index)
            == (iphone / "rgb" / f"frame_{frame.index:06d}.jpg").read_bytes()
        )


def test_groups_without_an_object_and_double_claims(small_layouts: dict[str, Path], tmp_path: Path) -> None:
    root = _copy(small_layouts, tmp_path)
    path = root / "data" / SCENE / "scans" / "segments_anno.json"
    anno = json.loads(path.read_text())
    first = anno["segGroups"][0]
    anno["segGroups"].append({**first, "id": 999, "objectId": 0, "label": "ghost"})  # <= 0: no object
    anno["segGroups"].append(
        {**first, "id": 1000, "objectId": 500, "label": "claimant"}
    )  # claims taken vertices
    path.write_text(json.dumps(anno))
    scene = read_scene(root, SCENE)
    assert "ghost" not in {o.label for o in scene.objects}
    assert 500 not in {o.instance_id for o in scene.objects}  # the first claim keeps every vertex
    assert any("owning no vertex" in w for w in scene.warnings)


BROKEN = {
    "truncated mesh": (lambda d: _truncate(d / "scans" / "mesh_aligned_0.05.ply", 4000), "truncated"),
    "corrupt segments_anno": (
        lambda d: (d / "scans" / "segments_anno.json").write_text('{"segGroups": ['),
        "invalid JSON",
    ),
    "corrupt pose json": (
        lambda d: (d / "iphone" / "pose_intrinsic_imu.json").write_text("{"),
        "invalid JSON",
    ),
    "undecodable video": (
        lambda d: (d / "iphone" / "rgb.mkv").write_bytes(b"\x1aE\xdf\xa3" + b"\0" * 4000),
        "rgb.mkv",
    ),
    "truncated depth.bin": (lambda d: _truncate(d / "iphone" / "depth.bin", 300), "depth.bin"),
}


def _truncate(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_inputs_fail_with_one_line(small_layouts: dict[str, Path], tmp_path: Path, case: str) -> None:
    root = _copy(small_layouts, tmp_path)
    breaker, expected = BROKEN[case]
    breaker(root / "data" / SCENE)
    with pytest.raises(SceneError) as error:
        read_scene(root, SCENE)
    assert expected in str(error.value) and "\n" not in str(error.value)
