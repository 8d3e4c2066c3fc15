"""Perspective-taking rules (docs/taxonomy.md, perspective taking): correspondence across views, camera motion
and rotation, allocentric directions, imagined turns and objects relative to another camera.

Rules yield every candidate that passes its filter, in random order, and never balance. Direction-labelled
rules register a balance cap (`DIRECTION_CAP`): the registry's round-robin then keeps no label more than twice
as often as the scarcest label of the scene, so the open generators' skew toward "forward"/"front" does not
come back (generators.guards, guard 3).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from generators.base import Draft, GenContext
from generators.registry import rule
from generators.viewpoint import (
    ALLOCENTRIC_LEVELS,
    CAMERA_SECTORS,
    DirectionBins,
    floor_angle,
    horizontal_norm,
    motion_direction,
    relative_translations,
)
from schemas.facts import SceneFacts

# A label keeps at most DIRECTION_CAP x the count of the scene's scarcest other label (guards.MIN_CAP at
# least). Per scene this is only a brake on a strong skew; the corpus-level balance comes from the registry's
# round-robin over balance keys (1.25x with a floor of 2 threw away almost every pair of a scene with one
# rare label: 4 of 171 camera-motion candidates).
DIRECTION_CAP = 2.0

BOUNDARY_MARGIN_DEG = 15.0  # every direction answer is this far from its bins' boundaries
MIN_HORIZONTAL_AXIS = 0.3  # an optical axis this close to vertical has no meaningful heading

CORRESPONDENCE_OVERLAP = (0.10, 0.85)  # distinct views that still share content
CORRESPONDENCE_MIN_PX = 50.0
CORRESPONDENCE_TRIES_PER_PAIR = 3

MOTION_OVERLAP = (0.06, 0.60)
MOTION_DOMINANCE = 1.5
MOTION_MIN_M = 0.10

ROTATION_MIN_DEG = 15.0
ROTATION_MAX_DEG = 165.0  # near 180 deg "turned left" and "turned right" describe the same turn
ROTATION_STEP_DEG = 15  # answers are rounded to this step ("about 45 degrees")
ROTATION_SPACING_DEG = 30  # options differ in direction or by at least this much (signed difference)
PAIR_MIN_OVERLAP = 0.05  # two images must share content for their relative pose to be readable

ALLOCENTRIC_DISTANCE_M = (0.3, 5.0)  # pairwise floor-plane distances of the centroids of A, B, C
ALLOCENTRIC_MAX_CORNERS_OUT = 1  # floor-projected OBB corners of C allowed in another bin than its centroid
ALLOCENTRIC_MAX_OBJECTS = 40  # random subset of candidates; bounds the (n, n, n, corners) arrays

VIRTUAL_MIN_VISIBLE = 0.25  # the answer object is clearly visible in the virtual view
VIRTUAL_MARGIN = 0.10  # runner-up label this much farther (normalised) from the image centre
VIRTUAL_MAX_CENTER = 0.35  # the answer is really "in front": its visible centre near the image centre
VIRTUAL_MAX_REPEAT = 2  # the same (turn, object) answer at most this often per scene

OCP_MAX_FRACTION_1 = 0.02  # "not visible in image 1" also means no sliver of it in image 1
# "behind" is rarer than left/right (image 2 must still share content with image 1); a cap of 1 keeps it as
# frequent as each of them in every scene that has it (DIRECTION_CAP let left/right reach 40 % each).
OCP_CAP = 1.0

COORD_NOTE = "coordinates are (x, y) normalised to 0-1000, x to the right and y down from the top-left corner"


def _valid_poses(facts: SceneFacts) -> tuple[np.ndarray, np.ndarray]:
    poses = np.stack([f.pose for f in facts.frames]) if facts.frames else np.zeros((0, 4, 4))
    return poses, np.isfinite(poses).all(axis=(1, 2))


def _pairs(
    facts: SceneFacts, valid: np.ndarray, lo: float, hi: float, ctx: GenContext
) -> tuple[np.ndarray, np.ndarray]:
    """Unordered frame pairs with overlap in [lo, hi], each put in a random order (first, second): using both
    orders would repeat near-identical questions with mirrored answers."""
    overlap = np.asarray(facts.overlap, dtype=np.float64)
    i, j = np.nonzero(np.triu((overlap >= lo) & (overlap <= hi), k=1))
    keep = valid[i] & valid[j]
    i, j = i[keep], j[keep]
    n_valid = int(valid.sum())
    outside = f"frame pair overlap outside {lo:.0%}-{hi:.0%}" if hi < 1 else f"frame pair overlap < {lo:.0%}"
    ctx.drop(outside, n_valid * (n_valid - 1) // 2 - len(i))
    flip = ctx.rng.random(len(i)) < 0.5
    return np.where(flip, j, i), np.where(flip, i, j)


# ---------------------------------------------------------------- view_correspondence

CORRESPONDENCE_TEMPLATES = [
    "The two images show the same scene from different viewpoints. The point at ({x}, {y}) in image 1 is also "
    "seen in image 2. Which of the following positions in image 2 shows the same 3D point? ("
    + COORD_NOTE
    + ")",
    "Look at the spot ({x}, {y}) in image 1. Which point of image 2 corresponds to the same place in the scene? "
    "(" + COORD_NOTE + ")",
    "Find the correspondence: a surface point appears at ({x}, {y}) in the first image. Where does it appear in "
    "the second image? (" + COORD_NOTE + ")",
    "Image coordinates are normalised to 0-1000 with (0, 0) at the top-left corner. The scene point at ({x}, {y}) "
    "in image 1 is visible in image 2 as well. Which candidate location in image 2 is it?",
    "Which of the candidate points in image 2 is the same physical point as the one at ({x}, {y}) in image 1? "
    "(" + COORD_NOTE + ")",
]


def _coord_text(uv: np.ndarray) -> str:
    return f"({int(round(float(uv[0]) * 1000))}, {int(round(float(uv[1]) * 1000))})"


def _spaced_pick(
    candidates: np.ndarray, px: np.ndarray, chosen: list[int], k: int, min_px: float, rng: np.random.Generator
) -> list[int] | None:
    """k of `candidates` (random order), each >= min_px from every point already chosen; None if impossible."""
    picked: list[int] = []
    for c in rng.permutation(candidates):
        if len(picked) == k:
            break
        others = chosen + picked
        if np.all(np.linalg.norm(px[others] - px[c], axis=1) >= min_px):
            picked.append(int(c))
    return picked if len(picked) == k else None


@rule("view_correspondence")
def view_correspondence(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    """A track point visible in both images; options are four track points of image 2, >= 50 px apart.

    Text-only shortcut: the option nearest the given image-1 coordinates would win whenever the camera moved
    little. The true option's rank by that distance is drawn uniformly (and is the balance key), measured in
    the space the model reads: the printed 0-1000 coordinates, not pixels (a 4:3 image stretched to a square
    ranks differently; balancing in pixels left the nearest printed option right 32 % of the time)."""
    tracks = facts.tracks
    if tracks is None or facts.image_width <= 0 or facts.image_height <= 0:
        return
    size = np.array([facts.image_width, facts.image_height], dtype=np.float64)
    _, valid = _valid_poses(facts)
    first, second = _pairs(facts, valid, *CORRESPONDENCE_OVERLAP, ctx)
    for k in ctx.rng.permutation(len(first)):
        f1, f2 = int(first[k]), int(second[k])
        common = np.nonzero(tracks.visible[f1] & tracks.visible[f2])[0]
        seen2 = np.nonzero(tracks.visible[f2])[0]
        if len(common) == 0:
            ctx.drop("no track point seen in both images")
            continue
        if len(seen2) < 4:
            ctx.drop("fewer than 4 track points in image 2")
            continue
        px2 = tracks.uv[f2] * size
        printed2 = np.round(tracks.uv[f2] * 1000)  # what the options print
        for p in ctx.rng.permutation(common)[:CORRESPONDENCE_TRIES_PER_PAIR]:
            p = int(p)
            query = np.round(tracks.uv[f1, p] * 1000)
            others = seen2[seen2 != p]
            others = others[np.linalg.norm(px2[others] - px2[p], axis=1) >= CORRESPONDENCE_MIN_PX]
            to_query = np.linalg.norm(printed2[others] - query, axis=1)
            true_to_query = float(np.linalg.norm(printed2[p] - query))
            rank = int(ctx.rng.integers(4))
            closer = _spaced_pick(
                others[to_query < true_to_query], px2, [p], rank, CORRESPONDENCE_MIN_PX, ctx.rng
            )
            farther = (
                None
                if closer is None
                else _spaced_pick(
                    others[to_query > true_to_query],
                    px2,
                    [p, *closer],
                    3 - rank,
                    CORRESPONDENCE_MIN_PX,
                    ctx.rng,
                )
            )
            if farther is None:
                ctx.drop(f"no options >= {CORRESPONDENCE_MIN_PX:g} px apart at the drawn distance rank")
                continue
            options = [p, *closer, *farther]
            x, y = (int(round(float(v) * 1000)) for v in tracks.uv[f1, p])
            yield Draft(
                question=ctx.template(CORRESPONDENCE_TEMPLATES, x=x, y=y),
                frames=[f1, f2],
                objects=[],
                choices=[_coord_text(tracks.uv[f2, o]) for o in options],
                extra={
                    "track_point": p,
                    "point_world": tracks.points[p],
                    "uv_image1": tracks.uv[f1, p],
                    "uv_image2": tracks.uv[f2, p],
                    "option_track_points": options,
                    "option_px": px2[options],
                    "true_rank_by_distance_to_query": rank,  # in printed 0-1000 coordinates
                    "overlap": float(facts.overlap[f1, f2]),
                },
                balance_key=f"rank{rank}",
            )
            break


# ---------------------------------------------------------------- camera_motion_direction

MOTION_TEMPLATES = [
    "Between image 1 and image 2, in which direction did the camera mainly move, relative to where it was "
    "facing in image 1?",
    "The camera took image 1 and then image 2. Relative to the camera's own orientation in image 1, what was "
    "the main direction of its movement?",
    "Think of the camera's own axes when it captured the first image. Along which direction did it mostly "
    "travel to capture the second image?",
    "From the first view to the second, the camera was displaced. Which direction best describes most of that "
    "displacement, taking the camera's viewpoint in the first image as reference?",
    "Judging from the two images, which way did the camera mainly move between the first and the second shot "
    "(directions as seen from the first shot)?",
    "I took the first picture, moved, and took the second. Which way did I mostly move, from the point of view "
    "of the first picture?",
]
# Options are always the four horizontal directions: an option set that depended on the answer would let a
# text-only model guess it (handheld scans almost never move mainly up or down, so "up"/"down" as distractors
# were nearly always wrong: the audit caught that). Motions that are mainly vertical are skipped.
MOTION_OPTIONS = ("left", "right", "forward", "backward")


@rule("camera_motion_direction", cap_ratio=DIRECTION_CAP)
def camera_motion_direction(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    """Translation c2 - c1 in frame 1's camera axes; overlap in [6 %, 60 %]; dominant axis >= 1.5x the others
    and >= 0.1 m (a near-zero motion is never labelled).

    Each unordered pair is asked once, in the order whose label is the least used so far when both orders
    pass (a pair moving "forward" one way often reads "backward" the other way): handheld scans mostly walk
    forward, and the rare "backward" label would otherwise cap every other label of the scene."""
    poses, valid = _valid_poses(facts)
    first, second = _pairs(facts, valid, *MOTION_OVERLAP, ctx)
    if len(first) == 0:
        return
    forward_t = relative_translations(poses, first, second)
    reverse_t = relative_translations(poses, second, first)
    used = dict.fromkeys(MOTION_OPTIONS, 0)
    keyed: list[tuple[str, tuple[int, int, np.ndarray, str]]] = []
    for k in ctx.rng.permutation(len(first)):
        orders = [
            (label, (int(a), int(b), t, label))
            for a, b, t in ((first[k], second[k], forward_t[k]), (second[k], first[k], reverse_t[k]))
            if (label := motion_direction(t, MOTION_DOMINANCE, MOTION_MIN_M)) in MOTION_OPTIONS
        ]
        if not orders:
            ctx.drop(f"no horizontal direction {MOTION_DOMINANCE:g}x the others and >= {MOTION_MIN_M:g} m")
            continue
        least = min(used[label] for label, _ in orders)
        label, item = next(o for o in orders if used[o[0]] == least)  # ties: the random order of _pairs
        used[label] += 1
        keyed.append((label, item))
    for _, (f1, f2, t, label) in keyed:
        distractors = [d for d in MOTION_OPTIONS if d != label]
        yield Draft(
            question=ctx.template(MOTION_TEMPLATES),
            frames=[f1, f2],
            objects=[],
            choices=[label, *distractors],
            extra={
                "direction": label,
                "translation_camera1": t,
                "distance_m": float(np.linalg.norm(t)),
                "overlap": float(facts.overlap[f1, f2]),
            },
            balance_key=label,
        )


# ---------------------------------------------------------------- camera_rotation

ROTATION_TEMPLATES = [
    "Between image 1 and image 2, how did the camera's viewing direction change horizontally?",
    "The camera rotated between the two images. Ignoring any tilt up or down, which way did it turn and by "
    "roughly how much?",
    "Compare the viewing directions of the two images. Going from the first to the second, how did the camera "
    "turn, seen from above?",
    "From image 1 to image 2 the camera panned. Which option best describes the change of its heading?",
    "Imagine you were holding the camera: after taking the first image, how did you turn to take the second?",
]


def _rotation_text(signed_deg: int) -> str:
    return f"turned {'left' if signed_deg > 0 else 'right'} by about {abs(signed_deg)} degrees"


def rotation_options(true_deg: int, pool: Sequence[int], rng: np.random.Generator) -> list[int]:
    """The true signed, rounded yaw first, then 3 distractors pairwise >= ROTATION_SPACING_DEG apart (signed, so
    they differ in direction or in size). Distractors are drawn from the scene's own answers (mirrored) so the
    typical magnitude gives nothing away; the grid fills in when the pool runs short."""
    grid = [
        s * m for m in range(ROTATION_STEP_DEG, int(ROTATION_MAX_DEG) + 1, ROTATION_STEP_DEG) for s in (1, -1)
    ]
    chosen = [true_deg]
    for source in (
        list(rng.choice(pool, size=min(len(pool), 64))) if len(pool) else [],
        list(rng.permutation(grid)),
    ):
        for v in source:
            if len(chosen) == 4:
                return chosen
            if all(abs(int(v) - c) >= ROTATION_SPACING_DEG for c in chosen):
                chosen.append(int(v))
    return chosen


@rule("camera_rotation", cap_ratio=DIRECTION_CAP)
def camera_rotation(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    """Signed floor-plane angle from forward1 to forward2 (+ = turned left); 15 <= |yaw| <= 165 deg; both axes
    far from vertical; the views share content (overlap >= 5 %)."""
    poses, valid = _valid_poses(facts)
    first, second = _pairs(facts, valid, PAIR_MIN_OVERLAP, 1.0, ctx)
    if len(first) == 0:
        return
    fwd = poses[:, :3, 2]
    yaw = floor_angle(fwd[first], fwd[second])
    ok = (
        (horizontal_norm(fwd[first]) >= MIN_HORIZONTAL_AXIS)
        & (horizontal_norm(fwd[second]) >= MIN_HORIZONTAL_AXIS)
        & (np.abs(yaw) >= ROTATION_MIN_DEG)
        & (np.abs(yaw) <= ROTATION_MAX_DEG)
    )
    rounded = np.sign(yaw) * np.maximum(
        ROTATION_STEP_DEG, np.round(np.abs(yaw) / ROTATION_STEP_DEG) * ROTATION_STEP_DEG
    )
    rounded = rounded.astype(int)
    ctx.drop(
        f"yaw outside {ROTATION_MIN_DEG:g}-{ROTATION_MAX_DEG:g} deg or an optical axis near vertical",
        int((~ok).sum()),
    )
    pool = [int(v) for v in rounded[ok]] + [-int(v) for v in rounded[ok]]
    keyed = [("left" if yaw[k] > 0 else "right", int(k)) for k in ctx.rng.permutation(len(first)) if ok[k]]
    for _, k in keyed:
        options = rotation_options(int(rounded[k]), pool, ctx.rng)
        f1, f2 = int(first[k]), int(second[k])
        direction = "left" if yaw[k] > 0 else "right"
        yield Draft(
            question=ctx.template(ROTATION_TEMPLATES),
            frames=[f1, f2],
            objects=[],
            choices=[_rotation_text(v) for v in options],
            extra={
                "direction": direction,
                "yaw_deg": float(yaw[k]),
                "yaw_rounded_deg": int(rounded[k]),
                "option_yaw_deg": options,
                "overlap": float(facts.overlap[f1, f2]),
            },
            balance_key=direction,
        )


# ---------------------------------------------------------------- allocentric_direction

_CENTRE_NOTE = " Treat each object as its centre seen from above."

# Per level: (question for "you", question for "I"). Hard/fine define their sectors so the bins are explicit.
ALLOCENTRIC_ASKS: dict[str, tuple[str, str]] = {
    "easy": ("is the {c} on your left or on your right?", "is the {c} to my left or to my right?"),
    "medium": (
        "is the {c} on your left, on your right, or behind you? An object is behind you if you would have to "
        "turn at least 135 degrees in order to face it.",
        "is the {c} to my left, right, or back? An object is to my back if I would have to turn at least 135 "
        "degrees in order to face it.",
    ),
    "hard": (
        "is the {c} in front of you, to your left, behind you, or to your right? Each direction is the "
        "90-degree sector centred on it.",
        "is the {c} in front of me, to my left, behind me, or to my right? Each direction is the 90-degree "
        "sector centred on it.",
    ),
    "fine": (
        "in which direction is the {c}? The eight directions are 45-degree sectors centred on front, "
        "front-left, left, back-left, back, back-right, right and front-right.",
        "in which direction is the {c} from me? The eight directions are 45-degree sectors centred on front, "
        "front-left, left, back-left, back, back-right, right and front-right.",
    ),
}
# (situation, person); the first is VSI-Bench's relative-direction wording, then ViewSpatial / MindCube styles.
ALLOCENTRIC_SITUATIONS: list[tuple[str, int]] = [
    ("If I am standing by the {a} and facing the {b}, {ask}", 1),
    ("Imagine you are standing at the position of the {a}, facing the {b}. From your perspective, {ask}", 0),
    ("Suppose you stand next to the {a} and look toward the {b}. From this viewpoint, {ask}", 0),
    ("You are positioned at the {a} and oriented toward the {b}. {Ask}", 0),
    ("Standing beside the {a} with the {b} straight ahead of you, {ask}", 0),
    ("Picture yourself at the {a}, turned so that the {b} is directly in front of you. {Ask}", 0),
]


def _allocentric_question(ctx: GenContext, level: str, a: str, b: str, c: str) -> str:
    situation, person = ALLOCENTRIC_SITUATIONS[int(ctx.rng.integers(len(ALLOCENTRIC_SITUATIONS)))]
    ask = ALLOCENTRIC_ASKS[level][person].format(c=c)
    return situation.format(a=a, b=b, ask=ask, Ask=ask[0].upper() + ask[1:]) + _CENTRE_NOTE


def _footprint_corners(obj: Any) -> np.ndarray:
    """Distinct floor-projected OBB corners (an upright box projects its 8 corners onto 4)."""
    return np.unique(np.round(obj.obb_corners[:, :2], 3), axis=0)


def _video_objects(facts: SceneFacts, frames: list[int]) -> list[int]:
    """Single-instance objects the video shows at least once (a question never names an unseen object)."""
    if not frames:
        return []
    seen = facts.visibility.visible[frames].any(axis=0)
    return [o for o in facts.single_instance() if seen[o]]


@rule("allocentric_direction", cap_ratio=DIRECTION_CAP)
def allocentric_direction(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    """Standing by A facing B, where is C: signed floor-plane angle of A->C from A->B (centroids). Filter: A, B,
    C single-instance and seen in the video, pairwise 0.3-5 m apart; angle >= 15 deg from every boundary of
    the level; at most one floor-projected OBB corner of C in another bin than C's centroid.

    Each valid triple is asked at one level (the least-used so far among those it passes); the balance key
    "level:label" lets the registry interleave levels and balance labels within each."""
    frames = ctx.video_frames(facts)
    objs = _video_objects(facts, frames)
    if len(objs) > ALLOCENTRIC_MAX_OBJECTS:
        objs = [objs[i] for i in sorted(ctx.rng.choice(len(objs), ALLOCENTRIC_MAX_OBJECTS, replace=False))]
    n = len(objs)
    if n < 3:
        return
    cen = np.stack([facts.objects[o].centroid[:2] for o in objs]).astype(np.float64)
    corners = [_footprint_corners(facts.objects[o]) for o in objs]
    width = max(len(c) for c in corners)
    # pad with the centroid itself: it is always in its own bin, so padding never counts as "out"
    padded = np.stack(
        [np.vstack([c, np.repeat(cen[i][None], width - len(c), axis=0)]) for i, c in enumerate(corners)]
    )

    dist = np.linalg.norm(cen[:, None] - cen[None], axis=2)
    near = (dist >= ALLOCENTRIC_DISTANCE_M[0]) & (dist <= ALLOCENTRIC_DISTANCE_M[1])
    triple_ok = near[:, :, None] & near[:, None, :] & near[None, :, :]  # a-b, a-c, b-c
    facing = cen[None] - cen[:, None]  # (a, b, 2): A -> B
    theta = floor_angle(facing[:, :, None], facing[:, None])  # (a, b, c)
    corner_vec = padded[None] - cen[:, None, None]  # (a, c, k, 2): A -> corner of C
    phi = floor_angle(facing[:, :, None, None], corner_vec[:, None])  # (a, b, c, k)

    passes: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    clear_any = np.zeros_like(triple_ok)
    for bins in ALLOCENTRIC_LEVELS:
        idx = bins.index(theta)
        out = (bins.index(phi) != idx[..., None]).sum(axis=-1)
        passes[bins.name] = triple_ok & (bins.boundary_distance(theta) >= BOUNDARY_MARGIN_DEG)
        clear_any |= passes[bins.name]
        passes[bins.name] &= out <= ALLOCENTRIC_MAX_CORNERS_OUT
        labels[bins.name] = idx
    any_ok = np.zeros_like(triple_ok)
    for mask in passes.values():
        any_ok |= mask
    n_ok, n_clear, n_near = int(any_ok.sum()), int(clear_any.sum()), int(triple_ok.sum())
    ctx.drop(
        f"objects not pairwise {ALLOCENTRIC_DISTANCE_M[0]:g}-{ALLOCENTRIC_DISTANCE_M[1]:g} m apart",
        n * (n - 1) * (n - 2) - n_near,
    )
    ctx.drop(
        f"angle within {BOUNDARY_MARGIN_DEG:g} deg of a direction boundary at every level", n_near - n_clear
    )
    ctx.drop("the object's footprint crosses a direction boundary", n_clear - n_ok)
    candidates = np.argwhere(any_ok)

    used = {bins.name: 0 for bins in ALLOCENTRIC_LEVELS}
    chosen: list[tuple[int, int, int, DirectionBins]] = []
    for k in ctx.rng.permutation(len(candidates)):
        a, b, c = (int(v) for v in candidates[k])
        levels = [bins for bins in ALLOCENTRIC_LEVELS if passes[bins.name][a, b, c]]
        least = min(used[bins.name] for bins in levels)
        options = [bins for bins in levels if used[bins.name] == least]
        bins = options[int(ctx.rng.integers(len(options)))]
        used[bins.name] += 1
        chosen.append((a, b, c, bins))

    for a, b, c, bins in chosen:
        label = bins.labels[int(labels[bins.name][a, b, c])]
        oa, ob, oc = (facts.objects[objs[i]] for i in (a, b, c))
        yield Draft(
            question=_allocentric_question(ctx, bins.name, oa.label, ob.label, oc.label),
            frames=frames,
            objects=[objs[a], objs[b], objs[c]],
            choices=[label, *[x for x in bins.labels if x != label]],
            extra={
                "level": bins.name,
                "direction": label,
                "angle_deg": float(theta[a, b, c]),
                "boundary_margin_deg": float(bins.boundary_distance(theta[a, b, c])),
                "corners_out": int((bins.index(phi[a, b, c]) != labels[bins.name][a, b, c]).sum()),
                "distances_m": {"ab": dist[a, b], "ac": dist[a, c], "bc": dist[b, c]},
                "positions": "object centroids in the floor plane",
            },
            balance_key=f"{bins.name}:{label}",
        )


# ---------------------------------------------------------------- hypothetical_rotation

TURNS = {
    90: "turn 90 degrees to the left",
    -90: "turn 90 degrees to the right",
    180: "turn around (180 degrees)",
}
TURNS_PAST = {
    90: "turned 90 degrees to the left",
    -90: "turned 90 degrees to the right",
    180: "turned around (180 degrees)",
}
TURN_KEYS = {90: "left", -90: "right", 180: "around"}
HYPOTHETICAL_TEMPLATES = [
    "From the viewpoint of this image, if I {turn} without moving, which object would be straight in front of me?",
    "Imagine you are the camera that took this picture. If you {turn} while staying in place, which object "
    "would you be facing?",
    "Standing where this photo was taken, suppose you {turn}. Which of these objects would then be closest to "
    "the centre of your view?",
    "You are at the camera position of this image. After you {turn}, what would be directly ahead of you?",
    "If the camera stayed where it is and {turned}, which object would appear at the centre of the new view?",
]


@rule("hypothetical_rotation", cap_ratio=DIRECTION_CAP)
def hypothetical_rotation(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    """The object nearest the centre of a virtual view turned by the yaw. Filter: it is nameable, visible there
    with fraction >= 0.25 and its centre within 0.35 of the image centre; every visible object of another label
    is >= 0.1 farther from the centre; other visible instances of its label do not matter (the answer is the
    label). Distractors: nameable labels of the scene with no instance visible in that virtual view."""
    scene_labels = sorted({o.label for o in facts.objects if o.nameable})
    repeats: dict[tuple[int, str], int] = {}
    keyed: list[tuple[str, tuple[int, int, int, float, float, list[str]]]] = []
    for f in ctx.shuffled(sorted(facts.virtual_views)):
        views = facts.virtual_views[f]
        for yaw in ctx.shuffled([y for y in sorted(views) if y in TURNS]):
            seen = [(o, vis, d) for o, vis, d in views[yaw] if facts.objects[o].nameable]
            if not seen:
                ctx.drop("no nameable object in the turned view")
                continue
            seen.sort(key=lambda e: e[2])
            best, vis, d = seen[0]
            label = facts.objects[best].label
            rivals = [e[2] for e in seen if facts.objects[e[0]].label != label]
            if vis < VIRTUAL_MIN_VISIBLE or d > VIRTUAL_MAX_CENTER:
                ctx.drop(
                    f"nearest object visible < {VIRTUAL_MIN_VISIBLE:.0%} or off-centre > {VIRTUAL_MAX_CENTER:g}"
                )
                continue
            if rivals and rivals[0] - d < VIRTUAL_MARGIN:
                ctx.drop(f"another label within {VIRTUAL_MARGIN:g} of the view centre")
                continue
            visible_labels = {facts.objects[o].label for o, _, _ in views[yaw]}
            pool = [lb for lb in scene_labels if lb not in visible_labels]
            if len(pool) < 3:
                ctx.drop("fewer than 3 labels unseen in the turned view")
                continue
            if repeats.get((yaw, label), 0) >= VIRTUAL_MAX_REPEAT:
                ctx.drop(f"same (turn, answer) already asked {VIRTUAL_MAX_REPEAT} times")
                continue
            repeats[(yaw, label)] = repeats.get((yaw, label), 0) + 1
            margin = (rivals[0] - d) if rivals else float("inf")
            keyed.append((TURN_KEYS[yaw], (int(f), int(yaw), int(best), float(vis), float(margin), pool)))
    for _, (f, yaw, best, vis, margin, pool) in keyed:
        distractors = [pool[i] for i in ctx.rng.choice(len(pool), size=3, replace=False)]
        yield Draft(
            question=ctx.template(HYPOTHETICAL_TEMPLATES, turn=TURNS[yaw], turned=TURNS_PAST[yaw]),
            frames=[f],
            objects=[best],
            choices=[facts.objects[best].label, *distractors],
            extra={
                "turn_yaw_deg": yaw,
                "turn": TURN_KEYS[yaw],
                "visible_fraction": vis,
                "center_margin": None if math.isinf(margin) else margin,
            },
            balance_key=TURN_KEYS[yaw],
        )


# ---------------------------------------------------------------- object_camera_position

OCP_TEXT = {"front": "in front", "left": "to the left", "right": "to the right", "behind": "behind"}
OCP_NOTE = " Each direction is the 90-degree sector centred on it, on the floor plan."
OCP_TEMPLATES = [
    "The {obj} is visible in image 2 but not in image 1. Relative to the camera of image 1, where is the {obj}?",
    "Consider the camera that took image 1. Seen from above, in which direction from that camera is the {obj} "
    "shown in image 2?",
    "Image 2 shows the {obj}. If you stood where the first image was taken, facing the same way, where would the "
    "{obj} be?",
    "From the first camera's point of view, is the {obj} (seen in the second image) in front of it, to its "
    "left, to its right, or behind it?",
    "From the camera's perspective in the first image, in which direction is the {obj} located?",
    "Take the position and heading of the camera of image 1. Where is the {obj} from image 2 relative to it?",
]


@rule("object_camera_position", cap_ratio=OCP_CAP)
def object_camera_position(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    """Single-instance object visible in image 2 and not in image 1 (no sliver either: fraction < 2 %); angle of
    its centroid in camera 1's floor-plane axes, 90-degree sectors centred on front/left/behind/right; skipped
    within 15 deg of a boundary or when more than one floor-projected OBB corner falls in another sector; the
    two images share content (overlap >= 5 %). The front sector is not asked: an object in front of camera 1
    yet unseen in image 1 is rare, so "in front" offered as a distractor would almost never be right (a
    text-only shortcut the audit caught); options are left / right / behind."""
    poses, valid = _valid_poses(facts)
    objs = facts.single_instance()
    if not objs or len(facts.frames) < 2:
        return
    vis = facts.visibility
    fwd = poses[:, :3, 2]
    cam = poses[:, :3, 3]
    cen = np.stack([facts.objects[o].centroid[:2] for o in objs]).astype(np.float64)
    corners = [_footprint_corners(facts.objects[o]) for o in objs]

    overlap = np.asarray(facts.overlap, dtype=np.float64)
    pair_ok = (overlap >= PAIR_MIN_OVERLAP) & ~np.eye(len(facts.frames), dtype=bool)
    pair_ok &= valid[:, None] & valid[None, :]
    shown2 = vis.visible[:, objs]  # (F, n)
    has_second = (pair_ok.astype(np.float64) @ shown2.astype(np.float64)) > 0  # (F1, n)
    hidden1 = ~vis.visible[:, objs] & (vis.visible_fraction[:, objs] < OCP_MAX_FRACTION_1)
    upright = valid & (horizontal_norm(np.where(valid[:, None], fwd, 0.0)) >= MIN_HORIZONTAL_AXIS)
    theta = floor_angle(fwd[:, None], cen[None] - cam[:, None, :2])  # (F, n)
    ok = hidden1 & has_second & upright[:, None]
    ctx.drop(f"object seen in image 1 (or a sliver >= {OCP_MAX_FRACTION_1:.0%})", int((~hidden1).sum()))
    ctx.drop(
        f"no image sharing >= {PAIR_MIN_OVERLAP:.0%} with image 1 shows the object",
        int((hidden1 & ~has_second).sum()),
    )
    ctx.drop("image 1 looks almost straight up or down", int((hidden1 & has_second).sum() - ok.sum()))
    clear = CAMERA_SECTORS.boundary_distance(theta) >= BOUNDARY_MARGIN_DEG
    ctx.drop(f"within {BOUNDARY_MARGIN_DEG:g} deg of a sector boundary", int((ok & ~clear).sum()))
    ok &= clear

    keyed: list[tuple[str, tuple[int, int, str, float, int]]] = []
    cells = np.argwhere(ok)
    for k in ctx.rng.permutation(len(cells)):
        f1, j = (int(v) for v in cells[k])
        label = CAMERA_SECTORS.label(theta[f1, j])
        if label == "front":
            ctx.drop("in front of camera 1 (not asked)")
            continue
        corner_angles = floor_angle(fwd[f1], corners[j] - cam[f1, :2])
        out = int((CAMERA_SECTORS.index(corner_angles) != CAMERA_SECTORS.index(theta[f1, j])).sum())
        if out > ALLOCENTRIC_MAX_CORNERS_OUT:
            ctx.drop("the object's footprint crosses a sector boundary")
            continue
        keyed.append((label, (f1, j, label, float(theta[f1, j]), out)))
    for _, (f1, j, label, angle, out) in keyed:
        seconds = np.nonzero(pair_ok[f1] & shown2[:, j])[0]
        f2 = int(seconds[int(ctx.rng.integers(len(seconds)))])
        name = facts.objects[objs[j]].label
        others = [OCP_TEXT[x] for x in CAMERA_SECTORS.labels if x not in (label, "front")]
        yield Draft(
            question=ctx.template(OCP_TEMPLATES, obj=name) + OCP_NOTE,
            frames=[f1, f2],
            objects=[objs[j]],
            choices=[OCP_TEXT[label], *others],
            extra={
                "direction": label,
                "angle_deg": angle,
                "boundary_margin_deg": float(CAMERA_SECTORS.boundary_distance(angle)),
                "corners_out": out,
                "visible_fraction_image1": float(vis.visible_fraction[f1, objs[j]]),
                "overlap": float(overlap[f1, f2]),
            },
            balance_key=label,
        )
