"""The two chunk stages run directly (no Ray): SPAR markers drawn into media/, duplicates and drops in rejects."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from pipeline.ingest_task import keys_path, stage_chunk, staged_path, write_chunk
from shards.index import query
from shards.writer import read_shard
from sources.community.inputs import plan_chunks


def test_spar_chunk_marks_drawn_and_duplicates_rejected(tmp_path: Path):
    media = tmp_path / "spar"
    image = media / "scannet" / "images" / "scene0000_00" / "image_color" / "5.jpg"
    image.parent.mkdir(parents=True)
    Image.new("RGB", (400, 300), (30, 30, 30)).save(image)
    record = {
        "id": "scene0000_00_3",
        "image": ["scene0000_00/image_color/5.jpg"],
        "type": "obj_spatial_relation_oo",
        "red_bbox": [[100, 100, 400, 400]],
        "blue_bbox": [[600, 600, 900, 900]],
        "conversations": [
            {
                "from": "human",
                "value": "Where is the chair (red box) relative to the table (blue box)? A. left B. right",
            },
            {"from": "gpt", "value": "A"},
        ],
    }
    data = (
        tmp_path
        / "spar"
        / "scannet"
        / "qa_jsonl"
        / "train"
        / "obj_spatial_relation_oo"
        / "select"
        / "s_2.jsonl"
    )
    data.parent.mkdir(parents=True)
    data.write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
    (chunk,) = plan_chunks([data], 1 << 20, 100)
    out = tmp_path / "out"
    result = stage_chunk("spar7m", chunk, 0, out, media, False)
    assert result["staged"] == 2 and keys_path(out, 0).is_file()
    marker = write_chunk(out, 0, [1], {"shard_no": 0, "source": "spar7m", "scene_id": chunk.label()})
    assert (marker["n_samples"], marker["dropped"]) == (1, {"duplicate": 1})
    assert not staged_path(out, 0).exists()
    (sample,) = read_shard(out / "shards" / "qa-000000.tar")
    assert sample["images"] == ["spar7m/_marked/spar7m-000000-000000-0.jpg"]
    assert sample["subtask"] == "object_spatial_relation" and sample["answer"] == "A"
    marked = Image.open(out / "media" / sample["images"][0]).convert("RGB")
    # the red box outline: 20 px wide, pushed 17.5 px outside (40, 30)-(160, 120) in this 400x300 image
    assert marked.getpixel((40 - 10, 75))[0] > 180 and marked.getpixel((100, 75))[0] < 80
    assert (out / "media" / "spar7m/scannet/images/scene0000_00/image_color/5.jpg").samefile(image)  # linked
    _, rows = query(out, "SELECT reason FROM rejects")
    assert rows == [("duplicate: same question, answer and media",)]
