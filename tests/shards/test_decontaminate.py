"""`decontaminate` on hand-built corpora: scans by room from the index and media paths, frames by image hash
against benchmark parquets of embedded images (near-duplicates found, unrelated images ignored)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from schemas.errors import UserError
from shards.decontaminate import decontaminate, resolve_benchmarks
from shards.image_match import CROPS, image_hashes, load_benchmark
from shards.layout import media_dir
from shards.writer import write_scene_shard


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Colour frames of three demo rooms (scene9000_00 .. scene9002_00), a few per room."""
    from sources.demo import make_demo

    root = tmp_path_factory.mktemp("rooms")
    ids = make_demo(root, scenes=3, seed=0, frames=6, vertices=3000)
    return {sid: sorted((root / "scans" / sid / "color").glob("*.jpg")) for sid in ids}


def write_corpus(
    out: Path, scans: dict[tuple[str, str], list[Path]], shard_no: int = 0, media_scene: str | None = None
) -> list[str]:
    """One shard whose samples show these frames (copied under media/ as a build does); returns the refs.
    `media_scene`: file the frames under another scan's folder (a mixed corpus)."""
    refs = []
    samples = []
    for (source, scene_id), paths in scans.items():
        scene_refs = []
        for path in paths:
            ref = f"{source}/{media_scene or scene_id}/{path.name}"
            (media_dir(out) / ref).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, media_dir(out) / ref)
            scene_refs.append(ref)
        refs += scene_refs
        for i in range(0, len(scene_refs), 2):  # samples share frames, as real ones do
            samples.append(
                {
                    "id": f"{source}-{scene_id}-{i}",
                    "category": "metric_measurement",
                    "subtask": "object_height",
                    "source": source,
                    "scene_id": scene_id,
                    "answer_type": "numeric",
                    "answer": "1.0",
                    "question": "How tall is the chair?",
                    "images": scene_refs[i : i + 3],
                    "facts": {"frames": list(range(len(scene_refs[i : i + 3])))},
                }
            )
    write_scene_shard(out, shard_no, samples, [], {"shard_no": shard_no})
    return refs


def encoded(img: Image.Image, fmt: str = "JPEG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def near_duplicates(path: Path) -> dict[str, bytes]:
    """What a benchmark may have done to a frame: re-encode, resize, crop slightly."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    c, d = int(0.03 * w), int(0.03 * h)
    return {
        "reencoded": encoded(img, quality=55),
        "resized": encoded(img.resize((w // 2, h // 2), Image.BILINEAR), "PNG"),
        "square": encoded(img.resize((448, 448), Image.BICUBIC), quality=90),
        "cropped": encoded(img.crop((c, d, w - c, h - d)), quality=85),
        "cropped_one_side": encoded(img.crop((c, 0, w, h)), quality=85),
    }


def hf_image_parquet(path: Path, images: list[bytes]) -> Path:
    """A benchmark file as Hugging Face writes an Image column: struct<bytes, path>, plus a text column."""
    column = pa.array(
        [{"bytes": b, "path": f"{i}.jpg"} for i, b in enumerate(images)],
        pa.struct([("bytes", pa.binary()), ("path", pa.string())]),
    )
    pq.write_table(pa.table({"question": [f"q{i}" for i in range(len(images))], "image": column}), path)
    return path


def test_near_duplicates_match_and_other_rooms_do_not(frames: dict[str, list[Path]], tmp_path: Path):
    corpus = {p: image_hashes(p, CROPS) for p in frames["scene9000_00"]}
    for n, (path, frame) in enumerate(corpus.items()):
        variants = near_duplicates(path)
        bench = load_benchmark(hf_image_parquet(tmp_path / f"near{n}.parquet", list(variants.values())))
        found = {i for i, _ in bench.matches(frame)}
        assert found >= set(range(len(variants))), (
            f"{path.name}: not found {set(range(len(variants))) - found}"
        )
    others = [
        encoded(Image.open(p), quality=90) for sid in ("scene9001_00", "scene9002_00") for p in frames[sid]
    ]
    bench = load_benchmark(hf_image_parquet(tmp_path / "others.parquet", others))
    assert len(bench.where) == len(others)
    assert not any(bench.matches(frame) for frame in corpus.values())


def test_real_scannet_frames_are_found_after_reencoding(real_fixtures: Path, tmp_path: Path):
    color = sorted((real_fixtures / "scans_test" / "scene0707_00" / "color").glob("*.jpg"))  # read in place
    assert color
    for n, path in enumerate(color):
        variants = near_duplicates(path)
        bench = load_benchmark(hf_image_parquet(tmp_path / f"real{n}.parquet", list(variants.values())))
        assert {i for i, _ in bench.matches(image_hashes(path, CROPS))} == set(range(len(variants)))


def test_decontaminate_finds_reencoded_frames_in_a_benchmark_parquet(frames, tmp_path: Path):
    out = tmp_path / "corpus"
    write_corpus(out, {("scannet", "scene9000_00"): frames["scene9000_00"][:4]})
    write_corpus(out, {("scannet", "scene9001_00"): frames["scene9001_00"][:4]}, shard_no=1)
    # The benchmark holds two re-encoded and resized frames of scene9000_00 and frames of a room not in the corpus
    leaked = [
        near_duplicates(frames["scene9000_00"][1])["reencoded"],
        near_duplicates(frames["scene9000_00"][3])["resized"],
    ]
    unrelated = [encoded(Image.open(p), quality=80) for p in frames["scene9002_00"]]
    noise = encoded(Image.fromarray(np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)))
    bench = tmp_path / "MMSI_Bench.parquet"
    pq.write_table(
        pa.table({"id": [0, 1, 2], "images": [[unrelated[0], leaked[0]], unrelated[1:], [noise, leaked[1]]]}),
        bench,
    )
    result = decontaminate(out, [str(bench)])
    assert not result.ok and result.frames == 8 and result.missing_frames == 0
    assert result.benchmarks == ["VSI-Bench", "ViewSpatial-Bench", "MMSI_Bench"]
    assert list(result.findings) == [("scannet", "scene9000_00")]
    hits = result.findings[("scannet", "scene9000_00")].frames["MMSI_Bench"]
    assert [(ref.split("/")[-1], where) for ref, where, _ in hits] == [
        (frames["scene9000_00"][1].name, "row 0 images[1]"),
        (frames["scene9000_00"][3].name, "row 2 images[1]"),
    ]
    (line,) = result.lines()
    assert line.startswith(
        "scene9000_00: MMSI_Bench (2 frames match MMSI_Bench images, e.g. scannet/scene9000_00/"
    )

    clean = tmp_path / "SPAR.parquet"
    hf_image_parquet(clean, unrelated + [noise])
    assert decontaminate(out, [str(clean)]).ok


def test_scans_come_from_the_index_and_the_media_paths(frames, tmp_path: Path):
    out = tmp_path / "corpus"
    # a rescan of a benchmark room, and a Training-fold video of a VSI-Bench video's visit
    write_corpus(out, {("scannet", "scene0251_02"): frames["scene9000_00"][:2]})
    write_corpus(out, {("arkitscenes", "41159521"): frames["scene9001_00"][:2]}, shard_no=1)
    # a mixed corpus whose rows name a user's scan but whose frames are filed under a VSI-Bench room
    write_corpus(
        out, {("scannet", "scene9002_00"): frames["scene9002_00"][:1]}, 2, media_scene="scene0701_02"
    )
    result = decontaminate(out, [])
    assert result.scans == 4  # three scans named by rows, one more by media paths
    assert result.lines() == [
        "arkitscenes/41159521: VSI-Bench (visit 381879)",
        "scannet/scene0251_02: VSI-Bench, ViewSpatial-Bench (room scene0251)",
        "scannet/scene0701_02: VSI-Bench (room scene0701)",
    ]
    assert result.summary().endswith("3 scans overlap")


def test_benchmark_arguments(tmp_path: Path):
    assert resolve_benchmarks([]) == (["VSI-Bench", "ViewSpatial-Bench"], [])
    assert resolve_benchmarks(["vsibench"]) == (["VSI-Bench"], [])
    with pytest.raises(UserError, match="ships images"):
        resolve_benchmarks(["spar-bench"])
    with pytest.raises(UserError, match="does not exist"):
        resolve_benchmarks([str(tmp_path / "none.parquet")])
    with pytest.raises(UserError, match="unknown benchmark"):
        resolve_benchmarks(["cv-bench"])
    text_only = tmp_path / "text.parquet"
    pq.write_table(pa.table({"question": ["q"]}), text_only)
    with pytest.raises(UserError, match="no image column"):
        load_benchmark(text_only)


def test_the_image_check_refuses_a_corpus_without_its_frames(frames, tmp_path: Path):
    out = tmp_path / "corpus"
    write_corpus(out, {("scannet", "scene9000_00"): frames["scene9000_00"][:2]})
    shutil.rmtree(media_dir(out))
    bench = hf_image_parquet(tmp_path / "b.parquet", [encoded(Image.open(frames["scene9000_00"][0]))])
    with pytest.raises(UserError, match="none of the 2 media files"):
        decontaminate(out, [str(bench)])
    assert decontaminate(out, []).ok  # the scene-id check needs only the index
