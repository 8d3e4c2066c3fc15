"""The shard tar writer produces exactly the bytes of webdataset's TarWriter(mtime=0), for every kind of name."""

from __future__ import annotations

import io

import pytest
import webdataset as wds

from shards.tar_members import TarMembers


def webdataset_bytes(members: list[tuple[str, bytes]]) -> tuple[bytes, list[int]]:
    f = io.BytesIO()
    sink = wds.TarWriter(f, mtime=0, encoder=False)
    offsets = []
    for key, data in members:
        offsets.append(sink.tarstream.offset)
        sink.write({"__key__": key, "json": data})
    sink.close()
    return f.getvalue(), offsets


def our_bytes(members: list[tuple[str, bytes]]) -> tuple[bytes, list[int]]:
    f = io.BytesIO()
    sink = TarMembers(f)
    offsets = []
    for key, data in members:
        offsets.append(sink.offset)
        sink.add(f"{key}.json", data)
    sink.close()
    assert sink.offset == len(f.getvalue())
    return f.getvalue(), offsets


@pytest.mark.parametrize(
    "keys",
    [
        [],
        ["a"],
        ["scannet-scene0000_00-camera_rotation-000001", "k" * 95],  # 100-byte member name: the USTAR limit
        ["k" * 96, "x" * 300],  # 101 bytes and far over: tarfile's extended (PAX) headers
        ["szene-größe-1", "场景-2"],  # non-ASCII names
    ],
)
def test_bytes_and_offsets_match_webdataset(keys: list[str]) -> None:
    sizes = [0, 1, 511, 512, 513, 10_000]
    members = [(k, b"{" + b"x" * sizes[i % len(sizes)] + b"}") for i, k in enumerate(keys)]
    assert our_bytes(members) == webdataset_bytes(members)


def test_many_members_fill_whole_records_like_tarfile() -> None:
    members = [(f"scene-{i:06d}", b'{"i":%d}' % i * (i % 7)) for i in range(200)]
    ours, _ = our_bytes(members)
    assert ours == webdataset_bytes(members)[0]
    assert len(ours) % (20 * 512) == 0
