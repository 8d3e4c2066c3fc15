"""SPAR-7M's markers, drawn the way its training code draws them (fudan-zvg/spar `datasets/draw_marker.py`):
coordinates are 0-1000 normalised to the image; a point is a filled disc of radius 20 px, a box a 20 px outline
pushed 17.5 px outwards. Types whose markers carry text labels (drawn with OpenCV fonts) are not reproduced:
those records are dropped with their reason, never shipped without the marks their question refers to."""

from __future__ import annotations

import io
from typing import Any

from sources.community.record import Drop

# type -> [(image slot, "point"|"bbox", colour)], slot = index into `point_img_idx[0]` / `bbox_img_idx[0]`,
# or None for the first image (single-view types).
_P, _B = "point", "bbox"
PLANS: dict[str, list[tuple[int | None, str, str]]] = {
    "obj_spatial_relation_oo": [(None, _B, "red"), (None, _B, "blue")],
    "depth_prediction_oc": [(None, _P, "red"), (None, _P, "blue")],
    "depth_prediction_oo": [(None, _P, "red"), (None, _P, "blue"), (None, _P, "green")],
    "distance_prediction_oc": [(None, _P, "red")],
    "distance_prediction_oo": [(None, _P, "red"), (None, _P, "blue")],
    "distance_infer_center_oc": [],
    "distance_infer_center_oo": [(None, _P, "red"), (None, _P, "blue"), (None, _P, "green")],
    "spatial_volume_infer": [(None, _B, "red")],
    "spatial_imagination_oc": [(None, _B, "red"), (None, _B, "blue"), (None, _B, "green")],
    "spatial_imagination_oo": [
        (None, _B, "red"),
        (None, _B, "blue"),
        (None, _B, "green"),
        (None, _B, "yellow"),
    ],
    "position_matching": [(None, _B, "red")],
    "view_change_infer": [],
    "camera_motion_infer": [],
    "depth_prediction_oc_mv": [(0, _P, "red"), (1, _P, "blue")],
    "depth_prediction_oo_mv": [(0, _P, "red"), (1, _P, "blue"), (2, _P, "green")],
    "distance_prediction_oc_mv": [(0, _P, "red")],
    "distance_prediction_oo_mv": [(0, _P, "red"), (1, _P, "blue")],
    "distance_prediction_oo_video": [(0, _P, "red"), (1, _P, "blue")],
    "distance_infer_center_oc_mv": [],
    "distance_infer_center_oo_mv": [(0, _P, "red"), (1, _P, "green"), (2, _P, "blue")],
    "spatial_imagination_oc_mv": [(2, _B, "red"), (0, _B, "green"), (1, _B, "blue")],
    "spatial_imagination_oo_mv": [(2, _B, "red"), (0, _B, "green"), (1, _B, "blue"), (3, _B, "yellow")],
    "obj_frame_locate": [(0, _B, "red")],
    "appearance_order": [],
    "room_size": [],
    "obj_count": [],
    "nav": [],
    "spatial_imagination_oc_video_hard": [],
    "spatial_imagination_oo_video_hard": [],
}
LABELLED = ("spatial_imagination_map_mv", "distance_infer_center_oo_video", "spatial_imagination_oo_video",
            "spatial_imagination_oc_video")  # fmt: skip

Draw = tuple[int, str, str, list[float]]  # (image index, kind, colour, coordinates 0-1000)


def _first(value: Any) -> list[Any]:
    """SPAR wraps every marker in a one-element list: [[x, y]] / [[x0, y0, x1, y1]] / [[i, j, ...]]."""
    if not isinstance(value, list) or not value:
        raise Drop("malformed markers: a marker field is not a non-empty list")
    inner = value[0]
    return inner if isinstance(inner, list) else value


def plan(qtype: str, fields: dict[str, Any] | None, n_images: int) -> list[Draw]:
    """The marks to draw for one SPAR record; Drop when they cannot be drawn as its trainer draws them."""
    if qtype in LABELLED:
        raise Drop(f"marker task not rendered: {qtype} labels its marks with OpenCV text")
    if qtype not in PLANS:
        raise Drop(f"marker task not rendered: no drawing rule for {qtype}")
    fields = fields or {}
    if qtype == "obj_spatial_relation_oc_mv":
        steps = [(0, _B, c) for c in ("red", "blue", "green") if fields.get(f"{c}_bbox")]
    elif qtype == "obj_spatial_relation_oo_mv":
        present = [c for c in ("red", "blue", "green") if fields.get(f"{c}_bbox")]
        if len(present) != 2:
            raise Drop("malformed markers: obj_spatial_relation_oo_mv needs exactly two boxes")
        steps = [(0, _B, present[0]), (1, _B, present[1])]
    else:
        steps = PLANS[qtype]
    draws: list[Draw] = []
    for slot, kind, colour in steps:
        key = f"{colour}_{kind}"
        if key not in fields:
            raise Drop(f"malformed markers: {qtype} needs {key}")
        if slot is None:
            index = 0
        else:
            idx = _first(fields.get(f"{kind}_img_idx") or [])
            if slot >= len(idx):
                raise Drop(f"malformed markers: {kind}_img_idx has no slot {slot}")
            index = int(idx[slot])
        if not 0 <= index < n_images:
            raise Drop(f"malformed markers: image index {index} outside the record's {n_images} images")
        coords = [float(v) for v in _first(fields[key])]
        if len(coords) != (2 if kind == _P else 4):
            raise Drop(f"malformed markers: {key} has {len(coords)} coordinates")
        draws.append((index, kind, colour, coords))
    return draws


def render(image_bytes: bytes, draws: list[Draw]) -> bytes:
    """The image with its marks, as JPEG (quality 95); drawn in the image's own pixels."""
    from PIL import Image, ImageDraw

    image = Image.open(io.BytesIO(image_bytes)).convert("RGB")
    pen = ImageDraw.Draw(image)
    w, h = image.size
    for _, kind, colour, c in draws:
        if kind == _P:
            x, y = int(c[0] / 1000 * w), int(c[1] / 1000 * h)
            pen.ellipse([x - 20, y - 20, x + 20, y + 20], fill=colour)
        else:
            box = [c[0] / 1000 * w, c[1] / 1000 * h, c[2] / 1000 * w, c[3] / 1000 * h]
            ext = 20 * 7 / 8
            out = [box[0] - ext, box[1] - ext, box[2] + ext, box[3] + ext]
            pen.rectangle(tuple(int(v) for v in out), outline=colour, width=20)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=95)
    return buf.getvalue()
