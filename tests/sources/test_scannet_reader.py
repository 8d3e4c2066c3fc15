"""read_scene on small synthetic scenes in ScanNet v2 layout, whose answers are known by construction."""

from __future__ import annotations

import json
import logging
import pickle
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from sources.scannet import ReaderOptions, list_scenes, read_scene
from sources.scannet.sens import SensFrame, SensHeader, write_sens
from sources.scene import FrameError, SceneError

SCENE = "scene0001_00"
# axisAlignment: 90 degrees about z, then shift (1, 2, 0): (x, y, z) -> (1 - y, 2 + x, z)
ALIGN = np.array([[0, -1, 0, 1], [1, 0, 0, 2], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float64)
K_COLOR = np.array([[50.0, 0, 32], [0, 50.0, 24], [0, 0, 1]])
K_DEPTH = np.array([[25.0, 0, 16], [0, 25.0, 12], [0, 0, 1]])
COLOR_SIZE, DEPTH_SIZE = (64, 48), (32, 24)
# box name -> (centre, size, segment id, (objectId, label) or None when unannotated)
BOXES = {
    "floor": ((0.0, 0.0, -0.01), (4.0, 4.0, 0.02), 1001, (0, "floor")),
    "chair": ((1.0, 0.5, 0.4), (0.5, 0.5, 0.8), 7, (1, "chair")),
    "table": ((-1.0, -0.5, 0.35), (1.2, 0.8, 0.7), 42, (2, "table")),
    "clutter": ((0.0, 1.5, 0.1), (0.2, 0.2, 0.2), 99, None),
}
TSV = (
    "id\traw_category\tcategory\tcount\tnyu40id\teigen13id\tnyuClass\tnyu40class\n"
    "1\tfloor\tfloor\t1\t2\t5\tfloor\tfloor\n2\tchair\tchair\t1\t5\t4\tchair\tchair\n"
    "7\ttable\ttable\t1\t7\t10\ttable\ttable\n13\tpillow\tpillow\t1\t18\t7\tpillow\tpillow\n"
    "13\tpillows\tpillow\t1\t18\t7\tpillow\tpillow\n"
)


def box(center, size) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    faces = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                      [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])  # fmt: skip
    return corners * np.asarray(size) + np.asarray(center), faces


def write_ply(path: Path, vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray | None = None) -> None:
    fields = [
        ("x", "<f4"),
        ("y", "<f4"),
        ("z", "<f4"),
        ("red", "u1"),
        ("green", "u1"),
        ("blue", "u1"),
        ("alpha", "u1"),
    ]
    if labels is not None:
        fields.append(("label", "<u2"))
    records = np.zeros(len(vertices), dtype=fields)
    records["x"], records["y"], records["z"] = vertices.T
    records["red"] = np.arange(len(vertices)) % 256
    records["green"], records["blue"], records["alpha"] = 10, 20, 255
    if labels is not None:
        records["label"] = labels
    tris = np.zeros(len(faces), dtype=[("n", "u1"), ("v", "<i4", (3,))])
    tris["n"], tris["v"] = 3, faces
    props = "".join(
        f"property {'float' if t == '<f4' else 'ushort' if t == '<u2' else 'uchar'} {n}\n" for n, t in fields
    )
    header = (f"ply\nformat binary_little_endian 1.0\ncomment test\nelement vertex {len(vertices)}\n{props}"
              f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n")  # fmt: skip
    path.write_bytes(header.encode() + records.tobytes() + tris.tobytes())


@dataclass
class Built:
    root: Path
    scene_dir: Path
    vertices: np.ndarray  # unaligned
    instance: np.ndarray  # expected objectId per vertex
    poses: list[np.ndarray]  # unaligned camera-to-world


def pose_at(i: int) -> np.ndarray:
    pose = np.eye(4)
    angle = 0.1 * i
    pose[:3, :3] = [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    pose[:3, 3] = [0.1 * i, -0.2, 1.5]
    return pose


def depth_mm(i: int) -> np.ndarray:
    depth = np.full((DEPTH_SIZE[1], DEPTH_SIZE[0]), 1000 + 100 * i, dtype=np.uint16)
    depth[:4, :4] = 0  # no measurement
    return depth


def color_jpeg(i: int) -> bytes:
    image = np.full((COLOR_SIZE[1], COLOR_SIZE[0], 3), 20 * i % 256, dtype=np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


def build_scene(
    root: Path, n_frames: int = 4, export: bool = True, sens: bool = False, txt: bool = True
) -> Built:
    scene_dir = root / "scans" / SCENE
    scene_dir.mkdir(parents=True)
    (root / "scannetv2-labels.combined.tsv").write_text(TSV)
    vertices, faces, segs, instance = [], [], [], []
    for center, size, segment, annotation in BOXES.values():
        v, f = box(center, size)
        faces.append(f + sum(len(x) for x in vertices))
        vertices.append(v)
        segs += [segment] * len(v)
        instance += [annotation[0] if annotation else -1] * len(v)
    vertices, faces = np.concatenate(vertices), np.concatenate(faces)
    write_ply(scene_dir / f"{SCENE}_vh_clean_2.ply", vertices, faces)
    (scene_dir / f"{SCENE}_vh_clean_2.0.010000.segs.json").write_text(
        json.dumps({"params": {"kThresh": "0.0001"}, "sceneId": SCENE, "segIndices": segs})
    )
    groups = [
        {"id": a[0], "objectId": a[0], "segments": [seg], "label": a[1]}
        for _, _, seg, a in BOXES.values()
        if a
    ]
    write_aggregation(scene_dir, groups)
    # A high-res aggregation that contradicts the low-res one: the reader must never use it.
    (scene_dir / f"{SCENE}_vh_clean.aggregation.json").write_text(
        json.dumps({"segGroups": [{"id": 0, "objectId": 0, "segments": [7, 42, 1001], "label": "pillow"}]})
    )
    if txt:
        a = " ".join(f"{v:g}" for v in ALIGN.reshape(-1))
        (scene_dir / f"{SCENE}.txt").write_bytes(
            f"axisAlignment = {a}\r\ncolorHeight = 48\r\ncolorWidth = 64\r\ndepthHeight = 24\r\ndepthWidth = 32\r\n"
            "sceneType = Bedroom / Hotel\r\n".encode()
        )
    poses = [pose_at(i) for i in range(n_frames)]
    if export:
        for sub in ("color", "depth", "pose", "intrinsic"):
            (scene_dir / sub).mkdir()
        for i in range(n_frames):
            (scene_dir / "color" / f"{i}.jpg").write_bytes(color_jpeg(i))
            cv2.imwrite(str(scene_dir / "depth" / f"{i}.png"), depth_mm(i))
            write_pose(scene_dir, i, poses[i])
        for name, k in (("intrinsic_color", K_COLOR), ("intrinsic_depth", K_DEPTH)):
            full = np.eye(4)
            full[:3, :3] = k
            np.savetxt(scene_dir / "intrinsic" / f"{name}.txt", full, fmt="%f")
    if sens:
        write_sens(scene_dir / f"{SCENE}.sens", sens_header(),
                   (SensFrame(poses[i], color_jpeg(i), depth_mm(i), 5_000_000 + 33_333 * i, 5_000_100 + 33_333 * i)
                    for i in range(n_frames)))  # fmt: skip
    return Built(root, scene_dir, vertices, np.asarray(instance), poses)


def sens_header() -> SensHeader:
    ic, idp = np.eye(4), np.eye(4)
    ic[:3, :3], idp[:3, :3] = K_COLOR, K_DEPTH
    return SensHeader(intrinsic_color=ic, intrinsic_depth=idp, color_size=COLOR_SIZE, depth_size=DEPTH_SIZE)


def write_aggregation(scene_dir: Path, groups: list[dict]) -> None:
    (scene_dir / f"{SCENE}.aggregation.json").write_text(
        json.dumps(
            {
                "sceneId": f"scannet.{SCENE}",
                "appId": "Aggregator.v2",
                "segGroups": groups,
                "segmentsFile": f"scannet.{SCENE}_vh_clean_2.0.010000.segs.json",
            }
        )  # fmt: skip
    )


def write_pose(scene_dir: Path, i: int, pose: np.ndarray) -> None:
    np.savetxt(scene_dir / "pose" / f"{i}.txt", pose, fmt="%f")


def aligned(points: np.ndarray) -> np.ndarray:
    return points @ ALIGN[:3, :3].T + ALIGN[:3, 3]


# ---------------------------------------------------------------- the happy path


def test_reads_a_scene_aligned_with_instances_labels_frames_and_cameras(tmp_path: Path) -> None:
    built = build_scene(tmp_path)
    scene = read_scene(tmp_path, SCENE, ReaderOptions())
    assert scene.source == "scannet" and scene.scene_id == SCENE
    assert scene.vertices.dtype == np.float32 and scene.faces.dtype == np.int32
    np.testing.assert_allclose(scene.vertices, aligned(built.vertices), atol=1e-5)
    # chair box centre (1, 0.5) -> aligned (1 - 0.5, 2 + 1) = (0.5, 3.0)
    chair = scene.vertices[scene.vertex_instance == 1]
    np.testing.assert_allclose(chair.mean(axis=0), [0.5, 3.0, 0.4], atol=1e-5)
    np.testing.assert_array_equal(
        scene.vertex_instance, built.instance
    )  # low-res pair, not the high-res aggregation
    assert [(o.instance_id, o.label, o.raw_label, o.nyu40class) for o in scene.objects] == [
        (0, "floor", "floor", "floor"), (1, "chair", "chair", "chair"), (2, "table", "table", "table")]  # fmt: skip
    np.testing.assert_array_equal(scene.floor_vertex_mask, built.instance == 0)
    assert scene.colors.shape == (32, 3) and scene.colors[5].tolist() == [5, 10, 20]
    assert scene.warnings == [] and scene.skipped_frames == {}
    assert [f.index for f in scene.frames] == [0, 1, 2, 3]
    assert [f.timestamp for f in scene.frames] == pytest.approx([0, 1 / 30, 2 / 30, 3 / 30])
    for frame, pose in zip(scene.frames, built.poses, strict=True):
        np.testing.assert_allclose(frame.pose, ALIGN @ pose, atol=1e-5)
    assert (scene.depth_camera.fx, scene.depth_camera.cx, scene.depth_camera.width) == (25, 16, 32)
    assert (scene.color_camera.fx, scene.color_camera.cy, scene.color_camera.height) == (50, 24, 48)
    depth = scene.store.depth(2)
    assert depth.dtype == np.float32 and depth.shape == (24, 32)
    assert depth[10, 10] == pytest.approx(1.2) and depth[0, 0] == 0
    assert scene.store.color_jpeg(3) == color_jpeg(3)
    assert list_scenes(tmp_path) == [SCENE]


def test_frame_indices_sort_numerically_and_subsample_step_then_uniform(tmp_path: Path) -> None:
    build_scene(tmp_path, n_frames=12)
    assert [f.index for f in read_scene(tmp_path, SCENE, ReaderOptions()).frames] == list(range(12))
    assert [f.index for f in read_scene(tmp_path, SCENE, ReaderOptions(frame_step=3)).frames] == [0, 3, 6, 9]
    # every 2nd: 0 2 4 6 8 10, then 3 uniform over those six: positions 0, 2.5->2, 5
    picked = read_scene(tmp_path, SCENE, ReaderOptions(frame_step=2, max_frames=3)).frames
    assert [f.index for f in picked] == [0, 4, 10]
    assert [f.index for f in read_scene(tmp_path, SCENE, ReaderOptions(max_frames=4)).frames] == [0, 4, 7, 11]
    with pytest.raises(ValueError):
        ReaderOptions(frame_step=0)


def test_poses_of_frames_not_selected_are_never_read_and_depth_is_never_decoded(tmp_path: Path) -> None:
    built = build_scene(tmp_path, n_frames=6)
    for i in (1, 3, 5):  # frames that frame_step=2 drops: garbage would be counted if they were read
        (built.scene_dir / "pose" / f"{i}.txt").write_text("garbage")
    for i in range(6):  # a PNG head (the size the camera is decided by), then garbage: never decoded here
        path = built.scene_dir / "depth" / f"{i}.png"
        path.write_bytes(path.read_bytes()[:33] + b"not the rest of a png")
    scene = read_scene(tmp_path, SCENE, ReaderOptions(frame_step=2))
    assert [f.index for f in scene.frames] == [0, 2, 4] and scene.skipped_frames == {}
    with pytest.raises(FrameError, match="depth_unreadable"):
        scene.store.depth(0)  # decoding happens only on demand (the geometry stage)


def test_infinite_and_missing_poses_are_skipped_and_counted(tmp_path: Path) -> None:
    built = build_scene(tmp_path, n_frames=10)
    write_pose(built.scene_dir, 2, np.full((4, 4), -np.inf))
    nan_pose = pose_at(5)
    nan_pose[0, 3] = np.nan
    write_pose(built.scene_dir, 5, nan_pose)
    (built.scene_dir / "pose" / "7.txt").unlink()
    (built.scene_dir / "color" / "8.jpg").unlink()
    scene = read_scene(tmp_path, SCENE, ReaderOptions())
    assert [f.index for f in scene.frames] == [0, 1, 3, 4, 6, 9]
    assert scene.skipped_frames == {"invalid_pose": 2, "missing_pose": 1, "missing_color": 1}
    # uniform over what is left: 6 usable, 3 wanted -> positions 0, 2.5->2, 5
    scene = read_scene(tmp_path, SCENE, ReaderOptions(max_frames=3))
    assert [f.index for f in scene.frames] == [0, 3, 9]


def test_no_usable_frame_is_a_scene_error(tmp_path: Path) -> None:
    built = build_scene(tmp_path, n_frames=3)
    for i in range(3):
        write_pose(built.scene_dir, i, np.full((4, 4), -np.inf))
    with pytest.raises(SceneError, match=r"no usable frame \(invalid_pose=3\)"):
        read_scene(tmp_path, SCENE, ReaderOptions())


def test_no_frames_at_all_is_a_scene_error(tmp_path: Path) -> None:
    build_scene(tmp_path, export=False)
    with pytest.raises(SceneError, match="no usable frame"):
        read_scene(tmp_path, SCENE, ReaderOptions())


def test_missing_txt_means_identity_alignment_and_sizes_from_images(tmp_path: Path) -> None:
    built = build_scene(tmp_path, txt=False)
    scene = read_scene(tmp_path, SCENE, ReaderOptions())
    np.testing.assert_allclose(scene.vertices, built.vertices, atol=1e-6)
    np.testing.assert_allclose(scene.frames[1].pose, built.poses[1], atol=1e-6)
    assert (scene.depth_camera.width, scene.depth_camera.height) == DEPTH_SIZE
    assert (scene.color_camera.width, scene.color_camera.height) == COLOR_SIZE


# ---------------------------------------------------------------- annotation traps


def test_duplicate_seg_groups_are_dropped_and_a_vertex_has_one_instance(tmp_path: Path) -> None:
    built = build_scene(tmp_path)
    write_aggregation(built.scene_dir, [
        {"id": 0, "objectId": 0, "segments": [1001], "label": "floor"},
        {"id": 1, "objectId": 1, "segments": [7], "label": "chair"},
        {"id": 2, "objectId": 2, "segments": [42], "label": "table"},
        {"id": 3, "objectId": 3, "segments": [1001], "label": "floor"},  # scene0217_00-style exact duplicates
        {"id": 4, "objectId": 4, "segments": [7], "label": "chair"},
        {"id": 5, "objectId": 5, "segments": [7, 99], "label": "pillows"},  # overlaps the chair: chair keeps it
    ])  # fmt: skip
    scene = read_scene(tmp_path, SCENE, ReaderOptions())
    expected = built.instance.copy()
    expected[expected == -1] = 5  # clutter (segment 99) is the pillow's only unclaimed part
    np.testing.assert_array_equal(scene.vertex_instance, expected)
    assert [(o.instance_id, o.label, o.raw_label) for o in scene.objects] == [
        (0, "floor", "floor"), (1, "chair", "chair"), (2, "table", "table"), (5, "pillow", "pillows")]  # fmt: skip
    assert "dropped 2 duplicate segGroups" in scene.warnings


def test_unknown_label_is_kept_raw_with_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    built = build_scene(tmp_path)
    write_aggregation(built.scene_dir, [
        {"id": 0, "objectId": 0, "segments": [1001], "label": "floor"},
        {"id": 1, "objectId": 1, "segments": [7], "label": "trashcan"},
        {"id": 2, "objectId": 2, "segments": [42], "label": "trashcan"},
        {"id": 3, "objectId": 3, "segments": [99], "label": "dishrack"},
    ])  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="sources.scannet"):
        scene = read_scene(tmp_path, SCENE, ReaderOptions())
    assert [(o.label, o.raw_label, o.nyu40class) for o in scene.objects[1:]] == [
        ("trashcan", "trashcan", ""), ("trashcan", "trashcan", ""), ("dishrack", "dishrack", "")]  # fmt: skip
    unknown = [w for w in scene.warnings if "not in the label map" in w]
    assert unknown == ["labels not in the label map, kept raw: dishrack, trashcan"]
    assert len([r for r in caplog.records if "not in the label map" in r.getMessage()]) == 1


def test_labels_ply_marks_floor_vertices(tmp_path: Path) -> None:
    built = build_scene(tmp_path)
    write_aggregation(built.scene_dir, [{"id": 1, "objectId": 1, "segments": [7], "label": "chair"}])
    nyu40 = np.where(np.arange(32) >= 24, 2, 0)  # the clutter box (last 8 vertices) is floor per labels.ply
    write_ply(
        built.scene_dir / f"{SCENE}_vh_clean_2.labels.ply", built.vertices, np.zeros((0, 3), int), nyu40
    )
    scene = read_scene(tmp_path, SCENE, ReaderOptions())
    np.testing.assert_array_equal(scene.floor_vertex_mask, np.arange(32) >= 24)


def test_explicit_label_map_and_options_labels_path(tmp_path: Path) -> None:
    build_scene(tmp_path)
    other = tmp_path / "other.tsv"
    other.write_text("id\traw_category\tcategory\tnyu40class\n5\tchair\tseat\tchair\n")
    scene = read_scene(tmp_path, SCENE, ReaderOptions(labels=other))
    assert [o.label for o in scene.objects] == [
        "floor",
        "seat",
        "table",
    ]  # floor/table unknown there: kept raw
    (tmp_path / "scannetv2-labels.combined.tsv").unlink()
    with pytest.raises(SceneError, match="label map not found"):
        read_scene(tmp_path, SCENE, ReaderOptions())


# ---------------------------------------------------------------- broken scenes


def test_truncated_ply_is_a_scene_error(tmp_path: Path) -> None:
    built = build_scene(tmp_path)
    mesh = built.scene_dir / f"{SCENE}_vh_clean_2.ply"
    mesh.write_bytes(mesh.read_bytes()[:-10])
    with pytest.raises(SceneError, match=r"_vh_clean_2\.ply: truncated"):
        read_scene(tmp_path, SCENE, ReaderOptions())


def test_ply_with_garbage_header_or_bad_face_index_is_a_scene_error(tmp_path: Path) -> None:
    built = build_scene(tmp_path)
    mesh = built.scene_dir / f"{SCENE}_vh_clean_2.ply"
    body = mesh.read_bytes()
    mesh.write_bytes(b"not a ply\n" + body)
    with pytest.raises(SceneError, match="not a PLY"):
        read_scene(tmp_path, SCENE, ReaderOptions())
    write_ply(mesh, built.vertices, np.array([[0, 1, 32]]))
    with pytest.raises(SceneError, match="face index out of range"):
        read_scene(tmp_path, SCENE, ReaderOptions())


def test_corrupt_json_is_a_scene_error(tmp_path: Path) -> None:
    built = build_scene(tmp_path)
    (built.scene_dir / f"{SCENE}.aggregation.json").write_text('{"segGroups": [')
    with pytest.raises(SceneError, match=r"aggregation\.json: invalid JSON"):
        read_scene(tmp_path, SCENE, ReaderOptions())


def test_segs_not_matching_the_mesh_is_a_scene_error(tmp_path: Path) -> None:
    built = build_scene(tmp_path)
    segs = built.scene_dir / f"{SCENE}_vh_clean_2.0.010000.segs.json"
    data = json.loads(segs.read_text())
    data["segIndices"] = data["segIndices"][:-1]
    segs.write_text(json.dumps(data))
    with pytest.raises(SceneError, match="31 segIndices for a mesh of 32 vertices"):
        read_scene(tmp_path, SCENE, ReaderOptions())


def test_missing_aggregation_never_falls_back_to_the_high_res_one(tmp_path: Path) -> None:
    built = build_scene(tmp_path)
    (built.scene_dir / f"{SCENE}.aggregation.json").unlink()
    with pytest.raises(SceneError, match="only the high-res _vh_clean aggregation"):
        read_scene(tmp_path, SCENE, ReaderOptions())


def test_no_annotation_and_missing_folder_are_scene_errors(tmp_path: Path) -> None:
    built = build_scene(tmp_path)
    (built.scene_dir / f"{SCENE}.aggregation.json").unlink()
    (built.scene_dir / f"{SCENE}_vh_clean_2.0.010000.segs.json").unlink()
    with pytest.raises(SceneError, match="not annotated"):
        read_scene(tmp_path, SCENE, ReaderOptions())
    with pytest.raises(SceneError, match="scene folder not found"):
        read_scene(tmp_path, "scene9999_00", ReaderOptions())


def test_aggregation_without_objects_is_not_annotated(tmp_path: Path) -> None:
    built = build_scene(tmp_path)
    write_aggregation(built.scene_dir, [])
    with pytest.raises(SceneError, match="not annotated"):
        read_scene(tmp_path, SCENE, ReaderOptions())


# ---------------------------------------------------------------- the .sens path


def test_scene_from_sens_when_no_export_folders(tmp_path: Path) -> None:
    built = build_scene(tmp_path, n_frames=5, export=False, sens=True)
    scene = read_scene(tmp_path, SCENE, ReaderOptions(frame_step=2))
    assert [f.index for f in scene.frames] == [0, 2, 4]
    assert [f.timestamp for f in scene.frames] == pytest.approx([0, 0.066666, 0.133332])
    np.testing.assert_allclose(scene.frames[1].pose, ALIGN @ built.poses[2], atol=1e-5)
    assert (scene.depth_camera.fx, scene.depth_camera.width, scene.color_camera.height) == (25, 32, 48)
    assert scene.store.depth(4)[12, 12] == pytest.approx(1.4)
    assert scene.store.color_jpeg(4) == color_jpeg(4)
    revived = pickle.loads(pickle.dumps(scene.store))  # the store travels to workers
    np.testing.assert_array_equal(revived.depth(2), scene.store.depth(2))


def test_use_sens_option_picks_the_stream(tmp_path: Path) -> None:
    build_scene(tmp_path, n_frames=3, export=True, sens=True)
    from_export = read_scene(tmp_path, SCENE, ReaderOptions())
    from_sens = read_scene(tmp_path, SCENE, ReaderOptions(use_sens=True))
    assert type(from_export.store).__name__ == "ExportFrameStore"
    assert type(from_sens.store).__name__ == "SensFrameStore"
    np.testing.assert_allclose(from_sens.store.depth(1), from_export.store.depth(1))
    assert from_sens.frames[2].timestamp == pytest.approx(2 * 0.033333)


def test_ply_reader_handles_ascii_and_big_endian(tmp_path: Path) -> None:
    from sources.scannet.ply import read_ply

    vertices, faces = box((0, 0, 0), (1, 2, 3))
    ascii_ply = tmp_path / "a.ply"
    ascii_ply.write_text(
        "ply\nformat ascii 1.0\nelement vertex 8\nproperty float x\nproperty float y\nproperty float z\n"
        "element face 12\nproperty list uchar int vertex_indices\nend_header\n"
        + "".join(f"{x} {y} {z}\n" for x, y, z in vertices)
        + "".join(f"3 {a} {b} {c}\n" for a, b, c in faces)
    )
    mesh = read_ply(ascii_ply)
    np.testing.assert_allclose(np.stack([mesh.vertex[k] for k in "xyz"], axis=1), vertices)
    np.testing.assert_array_equal(mesh.faces, faces)
    big = tmp_path / "b.ply"
    tris = np.zeros(12, dtype=[("n", "u1"), ("v", ">i4", (3,))])
    tris["n"], tris["v"] = 3, faces
    big.write_bytes(
        b"ply\nformat binary_big_endian 1.0\nelement vertex 8\nproperty float x\nproperty float y\n"
        b"property float z\nelement face 12\nproperty list uchar int vertex_indices\nend_header\n"
        + vertices.astype(">f4").tobytes() + tris.tobytes()
    )  # fmt: skip
    mesh = read_ply(big)
    np.testing.assert_allclose(mesh.vertex["y"], vertices[:, 1])
    np.testing.assert_array_equal(mesh.faces, faces)
    tris["n"] = 4  # a quad count where a triangle was declared: corrupt or non-triangle faces
    big.write_bytes(big.read_bytes()[: -tris.nbytes] + tris.tobytes())
    with pytest.raises(SceneError, match="not all triangles"):
        read_ply(big)


def test_broken_or_mismatched_labels_ply_only_costs_a_warning(tmp_path: Path) -> None:
    built = build_scene(tmp_path)
    labels_ply = built.scene_dir / f"{SCENE}_vh_clean_2.labels.ply"
    write_ply(labels_ply, built.vertices[:10], np.zeros((0, 3), int), np.full(10, 2))
    scene = read_scene(tmp_path, SCENE, ReaderOptions())
    np.testing.assert_array_equal(
        scene.floor_vertex_mask, built.instance == 0
    )  # from the floor instance only
    assert scene.warnings == [f"{labels_ply.name} ignored: no label per mesh vertex"]
    labels_ply.write_bytes(
        b"ply\nformat binary_little_endian 1.0\nelement vertex 5\nproperty float x\nend_header\n"
    )
    scene = read_scene(tmp_path, SCENE, ReaderOptions())
    assert len(scene.warnings) == 1 and "truncated" in scene.warnings[0]


def test_malformed_seg_group_is_a_scene_error(tmp_path: Path) -> None:
    built = build_scene(tmp_path)
    write_aggregation(
        built.scene_dir, [{"id": 0, "objectId": 0, "segments": [1001], "label": "floor"}, "oops"]
    )
    with pytest.raises(SceneError, match="segGroup is not an object"):
        read_scene(tmp_path, SCENE, ReaderOptions())
    write_aggregation(built.scene_dir, [{"id": 0, "objectId": "zero", "segments": [1001], "label": "floor"}])
    with pytest.raises(SceneError, match="malformed segGroup"):
        read_scene(tmp_path, SCENE, ReaderOptions())
