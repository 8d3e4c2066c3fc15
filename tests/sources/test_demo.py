"""The demo writer: exact ScanNet v2 layout and formats, determinism, and geometry that matches its own truth."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import open3d as o3d
import pytest
from shapely import Point, Polygon

from sources.demo import make_demo

SCENES = ("scene9000_00", "scene9001_00")  # a rectangular bedroom and an L-shaped office
KW = dict(scenes=2, seed=3, frames=8, vertices=8000)

PLY_VERTEX_PROPS = [
    ("float", "x"),
    ("float", "y"),
    ("float", "z"),
    ("uchar", "red"),
    ("uchar", "green"),
    ("uchar", "blue"),
    ("uchar", "alpha"),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    assert make_demo(root, **KW) == list(SCENES)
    return root


def read_ply(path: Path) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray, list[str]]:
    """A minimal independent reader: vertex properties, vertex records, faces (M, 3), header lines."""
    data = path.read_bytes()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:end].decode("ascii").splitlines()
    props, n_vert, n_face = [], 0, 0
    for line in header:
        parts = line.split()
        if parts[:2] == ["element", "vertex"]:
            n_vert = int(parts[2])
        elif parts[:2] == ["element", "face"]:
            n_face = int(parts[2])
        elif parts[0] == "property" and parts[1] != "list":
            props.append((parts[1], parts[2]))
    types = {"float": "<f4", "uchar": "u1", "ushort": "<u2"}
    vdt = np.dtype([(name, types[t]) for t, name in props])
    verts = np.frombuffer(data, dtype=vdt, count=n_vert, offset=end)
    fdt = np.dtype([("n", "u1"), ("idx", "<i4", (3,))])
    faces = np.frombuffer(data, dtype=fdt, count=n_face, offset=end + n_vert * vdt.itemsize)
    assert end + n_vert * vdt.itemsize + n_face * fdt.itemsize == len(data)
    assert (faces["n"] == 3).all()
    return props, verts, faces["idx"], header


def read_meta(path: Path) -> dict[str, str]:
    text = path.read_bytes().decode()
    return dict(line.split(" = ", 1) for line in text.split("\r\n") if line)


def aligned_mesh(scene: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aligned vertices, faces, and the axisAlignment matrix, read back from the written files."""
    _, verts, faces, _ = read_ply(scene / f"{scene.name}_vh_clean_2.ply")
    align = np.array(read_meta(scene / f"{scene.name}.txt")["axisAlignment"].split(), dtype=float).reshape(
        4, 4
    )
    xyz = np.stack([verts["x"], verts["y"], verts["z"]], 1).astype(float)
    return xyz @ align[:3, :3].T + align[:3, 3], np.asarray(faces), align


def object_vertices(scene: Path) -> dict[int, np.ndarray]:
    """objectId -> vertex indices, through segs + aggregation (as a ScanNet reader does)."""
    segs = np.array(
        json.loads((scene / f"{scene.name}_vh_clean_2.0.010000.segs.json").read_text())["segIndices"]
    )
    agg = json.loads((scene / f"{scene.name}.aggregation.json").read_text())
    return {g["objectId"]: np.flatnonzero(np.isin(segs, g["segments"])) for g in agg["segGroups"]}


def test_label_tsv_has_real_header_synonyms_and_a_short_row(demo: Path) -> None:
    lines = (demo / "scannetv2-labels.combined.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    assert len(header) == 17 and header[:2] == ["id", "raw_category"] and header[-1] == "mpcat40index"
    rows = [line.split("\t") for line in lines[1:]]
    by_raw = {r[1]: r for r in rows}
    assert by_raw["pillows"][0] == by_raw["pillow"][0] and by_raw["pillows"][2] == "pillow"
    assert by_raw["pillows"][4] == "18" and by_raw["pillows"][7] == "pillow"
    assert by_raw["doors"][0] == by_raw["door"][0]
    assert any(len(r) < 17 for r in rows) and all(len(r) >= 8 for r in rows)


def test_scene_files_have_scannet_formats(demo: Path) -> None:
    for sid in SCENES:
        scene = demo / "scans" / sid
        props, verts, faces, header = read_ply(scene / f"{sid}_vh_clean_2.ply")
        assert header[1] == "format binary_little_endian 1.0"
        assert props == PLY_VERTEX_PROPS and "property list uchar int vertex_indices" in header
        assert faces.min() >= 0 and faces.max() < len(verts)
        lprops, lverts, lfaces, _ = read_ply(scene / f"{sid}_vh_clean_2.labels.ply")
        assert lprops == PLY_VERTEX_PROPS + [("ushort", "label")] and np.array_equal(lfaces, faces)
        assert np.array_equal(lverts["x"], verts["x"])
        segs = json.loads((scene / f"{sid}_vh_clean_2.0.010000.segs.json").read_text())
        assert segs["sceneId"] == sid and all(isinstance(v, str) for v in segs["params"].values())
        seg = np.array(segs["segIndices"])
        assert len(seg) == len(verts)
        ids = np.unique(seg)
        assert ids.max() + 1 > len(ids)  # arbitrary, non-contiguous ids
        raw = (scene / f"{sid}.txt").read_bytes()
        assert raw.count(b"\r\n") == raw.count(b"\n") > 10
        meta = read_meta(scene / f"{sid}.txt")
        align = np.array(meta["axisAlignment"].split(), dtype=float).reshape(4, 4)
        assert not np.allclose(align, np.eye(4)) and np.allclose(align[3], [0, 0, 0, 1])
        assert (
            np.allclose(align[:3, :3] @ align[:3, :3].T, np.eye(3), atol=1e-5) and abs(align[2, 2] - 1) < 1e-6
        )
        assert (meta["colorWidth"], meta["colorHeight"], meta["depthWidth"], meta["depthHeight"]) == (
            "640",
            "480",
            "320",
            "240",
        )
        assert int(meta["numColorFrames"]) == (KW["frames"] - 1) * 15 + 1
        for k in range(KW["frames"]):
            depth = cv2.imread(str(scene / "depth" / f"{15 * k}.png"), cv2.IMREAD_UNCHANGED)
            color = cv2.imread(str(scene / "color" / f"{15 * k}.jpg"))
            assert depth.dtype == np.uint16 and depth.shape == (240, 320) and (depth > 0).mean() > 0.5
            assert color.shape == (480, 640, 3)
            assert np.loadtxt(scene / "pose" / f"{15 * k}.txt").shape == (4, 4)
        assert not (scene / "color" / "1.jpg").exists()
        k_color = np.loadtxt(scene / "intrinsic" / "intrinsic_color.txt")
        k_depth = np.loadtxt(scene / "intrinsic" / "intrinsic_depth.txt")
        assert not np.allclose(k_color, k_depth)
        hfov = [2 * math.degrees(math.atan(w / 2 / k[0, 0])) for w, k in ((640, k_color), (320, k_depth))]
        assert 60 <= hfov[0] <= 70 and abs(hfov[0] - hfov[1]) < 0.5
        assert np.array_equal(np.loadtxt(scene / "intrinsic" / "extrinsic_depth.txt"), np.eye(4))
    assert read_meta(demo / "scans" / SCENES[0] / f"{SCENES[0]}.txt")["sceneType"] == "Bedroom / Hotel"


def test_same_arguments_write_identical_bytes(demo: Path, tmp_path: Path) -> None:
    make_demo(tmp_path, **KW)
    first = sorted(p.relative_to(demo) for p in demo.rglob("*") if p.is_file())
    again = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert first == again
    assert all((demo / p).read_bytes() == (tmp_path / p).read_bytes() for p in first)


def test_other_seed_gives_other_room(tmp_path: Path) -> None:
    polygons = []
    for seed in (3, 4):
        make_demo(tmp_path / str(seed), scenes=1, seed=seed, frames=1, vertices=3000)
        truth = json.loads((tmp_path / str(seed) / "scans" / SCENES[0] / "demo_truth.json").read_text())
        polygons.append(truth["room"]["floor_polygon"])
    assert polygons[0] != polygons[1]


def test_depth_back_projects_onto_the_mesh_in_the_aligned_frame(demo: Path) -> None:
    for sid in SCENES:
        scene = demo / "scans" / sid
        verts, faces, align = aligned_mesh(scene)
        truth = json.loads((scene / "demo_truth.json").read_text())
        k = np.loadtxt(scene / "intrinsic" / "intrinsic_depth.txt")
        raycast = o3d.t.geometry.RaycastingScene()
        raycast.add_triangles(
            o3d.core.Tensor(verts.astype(np.float32)), o3d.core.Tensor(faces.astype(np.uint32))
        )
        floor_hits = 0
        for index in truth["frame_indices"][::3]:
            depth = cv2.imread(str(scene / "depth" / f"{index}.png"), cv2.IMREAD_UNCHANGED) / 1000.0
            pose = align @ np.loadtxt(scene / "pose" / f"{index}.txt")  # camera-to-world, aligned
            v, u = np.nonzero(depth)
            z = depth[v, u]
            cam = np.stack([(u - k[0, 2]) / k[0, 0] * z, (v - k[1, 2]) / k[1, 1] * z, z], 1)
            world = cam @ pose[:3, :3].T + pose[:3, 3]
            dist = raycast.compute_distance(o3d.core.Tensor(world.astype(np.float32))).numpy()
            assert np.percentile(dist, 99) < 0.005 and dist.max() < 0.05
            assert world[:, 2].min() > -0.01 and world[:, 2].max() < truth["room"]["height"] + 0.01
            floor_hits += int((np.abs(world[:, 2]) < 0.005).sum())
            # the camera stands in the room at head height, not inside furniture
            centre = pose[:3, 3]
            assert 1.3 <= centre[2] <= 1.6
            assert Polygon(truth["room"]["floor_polygon"]).contains(Point(centre[0], centre[1]))
        assert floor_hits > 1000  # the floor is the aligned z = 0 plane


def test_truth_boxes_match_the_written_objects(demo: Path) -> None:
    for sid in SCENES:
        scene = demo / "scans" / sid
        verts, _, _ = aligned_mesh(scene)
        truth = json.loads((scene / "demo_truth.json").read_text())
        members = object_vertices(scene)
        assert sorted(members) == list(range(len(members))) == [o["objectId"] for o in truth["objects"]]
        claimed = np.concatenate(list(members.values()))
        assert len(np.unique(claimed)) == len(claimed) < len(verts)  # one object per vertex, some unannotated
        furniture = [o for o in truth["objects"] if o["label"] not in ("wall", "floor")]
        assert 15 <= len(furniture) <= 40
        assert sum(o["label"] == "floor" for o in truth["objects"]) == 1
        assert sum(o["label"] == "wall" for o in truth["objects"]) == len(truth["room"]["floor_polygon"])
        for obj in truth["objects"]:
            pts = verts[members[obj["objectId"]]]
            assert len(pts) >= 50 and len(pts) == obj["num_vertices"]
            c, s = math.cos(obj["yaw"]), math.sin(obj["yaw"])
            d = pts - obj["center"]
            local = np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1], d[:, 2]], 1)
            assert np.allclose(local.min(0), -np.array(obj["size"]) / 2, atol=2e-3), obj
            assert np.allclose(local.max(0), np.array(obj["size"]) / 2, atol=2e-3), obj
            if obj["mount"] in ("floor", "structure") and obj["label"] != "wall":
                assert abs(pts[:, 2].min()) < 2e-3  # stands on the floor
            if obj["on"] is not None:  # stands on its parent's top
                parent = next(p for p in truth["objects"] if p["objectId"] == obj["on"])
                assert (
                    pts[:, 2].min() > 0.1
                    and pts[:, 2].min() <= parent["center"][2] + parent["size"][2] / 2 + 2e-3
                )


def test_room_truth_and_object_mix(demo: Path) -> None:
    labels = (demo / "scannetv2-labels.combined.tsv").read_text().splitlines()
    raw_to_category = {r.split("\t")[1]: r.split("\t")[2] for r in labels[1:]}
    shapes = []
    for sid in SCENES:
        truth = json.loads((demo / "scans" / sid / "demo_truth.json").read_text())
        poly = Polygon(truth["room"]["floor_polygon"])
        assert abs(poly.area - truth["room"]["floor_area"]) < 1e-4 and poly.is_valid
        shapes.append(len(truth["room"]["floor_polygon"]))
        assert all(raw_to_category[o["raw_label"]] == o["label"] for o in truth["objects"])
        names = [o["label"] for o in truth["objects"]]
        assert any(names.count(n) >= 2 for n in set(names) - {"wall"})  # several instances of some label
        assert any(names.count(n) == 1 for n in set(names) - {"floor"})  # and single-instance labels
        assert any(o["on"] is not None for o in truth["objects"])
        assert any(o["mount"] == "wall" for o in truth["objects"])
        floor = next(o for o in truth["objects"] if o["label"] == "floor")
        assert floor["size"][2] == 0 and floor["center"][2] == 0
    assert sorted(shapes) == [4, 6]  # a rectangle and an L
