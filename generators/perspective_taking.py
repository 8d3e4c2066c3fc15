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
from generators.guards import draw_index
from generators.registry import rule
from generators.viewpoint import (
    ALLOCENTRIC_LEVELS,
    CAMERA_SECTORS,
    DirectionBins,
    floor_angle,
    horizontal_norm,
    motion_directions,
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

# How the printed coordinates read, worded several ways (no one note in most view_correspondence samples).
COORD_NOTES = (
    "coordinates are (x, y) normalised to 0-1000, x to the right and y down from the top-left corner",
    "(x, y) are scaled to 0-1000 across the image width and height, from the top-left corner",
    "points are given as (x, y) on a 0-1000 scale, with (0, 0) at the top-left and y growing downward",
    "x runs left to right and y top to bottom, both from 0 to 1000",
)


def _pick(ctx: GenContext, forms: tuple | list) -> Any:
    """One of several wordings, at random (guard 6)."""
    return forms[int(ctx.rng.integers(len(forms)))]


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
    "seen in image 2. Which of the following positions in image 2 shows the same 3D point? ({note})",
    "Look at the spot ({x}, {y}) in image 1. Which point of image 2 corresponds to the same place in the scene? "
    "({note})",
    "Find the correspondence: a surface point appears at ({x}, {y}) in the first image. Where does it appear in "
    "the second image? ({note})",
    "Image coordinates are normalised to 0-1000 with (0, 0) at the top-left corner. The scene point at ({x}, {y}) "
    "in image 1 is visible in image 2 as well. Which candidate location in image 2 is it?",
    "Which of the candidate points in image 2 is the same physical point as the one at ({x}, {y}) in image 1? "
    "({note})",
]


def _coord_text(u: float, v: float) -> str:
    return f"({int(round(u * 1000))}, {int(round(v * 1000))})"


def _gap(a: list[float], b: list[float]) -> float:
    """np.linalg.norm(a - b) for two 2-vectors: the same products and sum in the same order, so the same float,
    without numpy's call overhead (_spaced_pick asks it thousands of times per scene)."""
    dx, dy = a[0] - b[0], a[1] - b[1]
    return math.sqrt(dx * dx + dy * dy)


def _spaced_pick(
    candidates: np.ndarray,
    px: dict[int, list[float]],
    chosen: list[int],
    k: int,
    min_px: float,
    rng: np.random.Generator,
) -> list[int] | None:
    """k of `candidates` (random order), each >= min_px from every point already chosen; None if impossible.
    `px`: track point -> its pixel position."""
    picked: list[int] = []
    for c in rng.permutation(candidates).tolist():
        if len(picked) == k:
            break
        at = px[c]
        if all(_gap(px[o], at) >= min_px for o in chosen + picked):
            picked.append(c)
    return picked if len(picked) == k else None


def _norms(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """np.linalg.norm of the rows of [dx, dy] (axis=1), bit for bit (its sqrt of the sum of squares, in the
    same dtype), without its ~10 us of overhead per call."""
    return np.sqrt(dx * dx + dy * dy)


class _SecondImage:
    """What the options of one second image need, computed once: an image is the second of many pairs."""

    def __init__(self, tracks: Any, f2: int, printed: np.ndarray, size: np.ndarray):
        self.seen = np.nonzero(tracks.visible[f2])[0]
        px = (tracks.uv[f2] * size)[self.seen]  # pixels of the seen points
        self.px_x, self.px_y = px[:, 0].copy(), px[:, 1].copy()
        shown = printed[self.seen]  # what the options print (0-1000)
        self.printed_x, self.printed_y = shown[:, 0].copy(), shown[:, 1].copy()
        self.px_of = dict(zip(self.seen.tolist(), px.tolist(), strict=True))

    def spaced_from(self, p: int, min_px: float) -> np.ndarray:
        """Mask over `seen`: the points >= min_px from p in pixels (never p itself, at distance 0)."""
        x, y = self.px_of[p]
        return _norms(self.px_x - x, self.px_y - y) >= min_px


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
    printed = np.round(tracks.uv * 1000)  # what the question and the options print (0-1000)
    image2: dict[int, _SecondImage] = {}  # per second image, asked in many pairs
    for k in ctx.rng.permutation(len(first)).tolist():
        f1, f2 = int(first[k]), int(second[k])
        common = np.nonzero(tracks.visible[f1] & tracks.visible[f2])[0]
        if f2 not in image2:
            image2[f2] = _SecondImage(tracks, f2, printed[f2], size)
        img = image2[f2]
        if len(common) == 0:
            ctx.drop("no track point seen in both images")
            continue
        if len(img.seen) < 4:
            ctx.drop("fewer than 4 track points in image 2")
            continue
        for p in ctx.rng.permutation(common)[:CORRESPONDENCE_TRIES_PER_PAIR].tolist():
            query = printed[f1, p]
            spaced = img.spaced_from(p, CORRESPONDENCE_MIN_PX)
            others = img.seen[spaced]
            to_query = _norms(img.printed_x[spaced] - query[0], img.printed_y[spaced] - query[1])
            true_to_query = float(np.linalg.norm(printed[f2, p] - query))
            rank = int(ctx.rng.integers(4))
            closer = _spaced_pick(
                others[to_query < true_to_query], img.px_of, [p], rank, CORRESPONDENCE_MIN_PX, ctx.rng
            )
            farther = (
                None
                if closer is None
                else _spaced_pick(
                    others[to_query > true_to_query],
                    img.px_of,
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
            uv1 = tracks.uv[f1, p]
            x, y = (int(round(v * 1000)) for v in uv1.tolist())
            yield Draft(
                question=ctx.template(CORRESPONDENCE_TEMPLATES, x=x, y=y, note=_pick(ctx, COORD_NOTES)),
                frames=[f1, f2],
                objects=[],
                choices=[_coord_text(*uv) for uv in tracks.uv[f2, options].tolist()],
                extra={
                    "track_point": p,
                    "point_world": tracks.points[p],
                    "uv_image1": uv1,
                    "uv_image2": tracks.uv[f2, p],
                    "option_track_points": options,
                    "option_px": [img.px_of[o] for o in options],
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
    forward_label = motion_directions(forward_t, MOTION_DOMINANCE, MOTION_MIN_M)
    reverse_label = motion_directions(reverse_t, MOTION_DOMINANCE, MOTION_MIN_M)
    first_l, second_l = first.tolist(), second.tolist()
    used = dict.fromkeys(MOTION_OPTIONS, 0)
    keyed: list[tuple[str, tuple[int, int, np.ndarray, str]]] = []
    for k in ctx.rng.permutation(len(first)).tolist():
        orders = [
            (label, (a, b, t, label))
            for a, b, t, label in (
                (first_l[k], second_l[k], forward_t[k], forward_label[k]),
                (second_l[k], first_l[k], reverse_t[k], reverse_label[k]),
            )
            if label in MOTION_OPTIONS
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


ROTATION_GRID = np.array(
    [s * m for m in range(ROTATION_STEP_DEG, int(ROTATION_MAX_DEG) + 1, ROTATION_STEP_DEG) for s in (1, -1)]
)


def rotation_options(true_deg: int, pool: Sequence[int], rng: np.random.Generator) -> list[int]:
    """The true signed, rounded yaw first, then 3 distractors pairwise >= ROTATION_SPACING_DEG apart (signed, so
    they differ in direction or in size). Distractors are drawn from the scene's own answers (mirrored) so the
    typical magnitude gives nothing away; the grid fills in when the pool runs short. `pool` may be an array:
    the draws are the same, without converting a list of a thousand answers per question."""
    chosen = [true_deg]
    for source in (
        rng.choice(pool, size=min(len(pool), 64)).tolist() if len(pool) else [],
        rng.permutation(ROTATION_GRID).tolist(),
    ):
        for v in source:
            if len(chosen) == 4:
                return chosen
            if all(abs(v - c) >= ROTATION_SPACING_DEG for c in chosen):
                chosen.append(v)
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
    pool = np.array([int(v) for v in rounded[ok]] + [-int(v) for v in rounded[ok]], dtype=np.int64)
    ok_l, yaw_l = ok.tolist(), yaw.tolist()
    keyed = [
        ("left" if yaw_l[k] > 0 else "right", k) for k in ctx.rng.permutation(len(first)).tolist() if ok_l[k]
    ]
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

# Positions are centroids seen from above; saying so is optional and worded several ways ("" = not said), so
# no corpus-only sentence ends every direction question.
CENTRE_NOTES = (
    "Treat each object as its centre seen from above.",
    "Use the centre of each object, viewed from above.",
    "Judge by where each object's centre lies on the floor plan.",
    "",
)

# Per level: ways to ask, as (question for "you", question for "I"). {b} is the faced object.
ALLOCENTRIC_ASKS: dict[str, tuple[tuple[str, str], ...]] = {
    "easy": (
        ("is the {c} on your left or on your right?", "is the {c} to my left or to my right?"),
        (
            "is the {c} to the left or the right of the {b}?",
            "is the {c} to the left or the right of the {b}?",
        ),
        ("is the {c} to your left or to your right?", "would the {c} be on my left or on my right?"),
    ),
    "medium": (
        ("is the {c} on your left, on your right, or behind you?", "is the {c} to my left, right, or back?"),
        (
            "is the {c} to your left, to your right, or at your back?",
            "is the {c} on my left, on my right, or behind me?",
        ),
        (
            "would the {c} be to your left, right, or back?",
            "would the {c} be on my left, my right, or at my back?",
        ),
    ),
    "hard": (
        (
            "is the {c} in front of you, to your left, behind you, or to your right?",
            "is the {c} in front of me, to my left, behind me, or to my right?",
        ),
        ("is the {c} to your front, left, back, or right?", "is the {c} to my front, left, back, or right?"),
        (
            "which way is the {c} from you: front, left, back or right?",
            "which way is the {c} from me: front, left, back or right?",
        ),
    ),
    "quadrant": (
        (
            "is the {c} to your front-left, front-right, back-left, or back-right?",
            "is the {c} to my front-left, front-right, back-left, or back-right?",
        ),
        (
            "in which quadrant around you is the {c}: front-left, front-right, back-left or back-right?",
            "in which quadrant around me is the {c}: front-left, front-right, back-left or back-right?",
        ),
        (
            "is the {c} ahead of you on the left, ahead on the right, behind on the left, or behind on the right "
            "(front-left, front-right, back-left, back-right)?",
            "is the {c} ahead of me on the left, ahead on the right, behind on the left, or behind on the right "
            "(front-left, front-right, back-left, back-right)?",
        ),
    ),
    "fine": (
        ("in which direction is the {c}?", "in which direction is the {c} from me?"),
        (
            "which of the eight directions around you points to the {c}?",
            "which of the eight directions around me points to the {c}?",
        ),
        ("where is the {c} relative to you?", "where is the {c} relative to me?"),
    ),
}
# Per level: the sentences that define its bins, as ("you" form, "I" form); the first is the benchmark's own
# where one exists (VSI-Bench's 135-degree rule and quadrant sentence), the others paraphrase it. "" = the
# definition is left out (only where the labels are self-explanatory: left or right).
ALLOCENTRIC_DEFINITIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "easy": (("", ""),),
    "medium": (
        (
            "An object is behind you if you would have to turn at least 135 degrees in order to face it.",
            "An object is to my back if I would have to turn at least 135 degrees in order to face it.",
        ),
        (
            "Count an object as behind you when facing it would take a turn of 135 degrees or more.",
            "Count an object as at my back when facing it would take me a turn of 135 degrees or more.",
        ),
        (
            "'Behind' means you would need to turn by 135 degrees or more to look at it.",
            "'Back' means I would need to turn by 135 degrees or more to look at it.",
        ),
        (
            "Anything you could only face after turning 135 degrees or further is behind you.",
            "Anything I could only face after turning 135 degrees or further is at my back.",
        ),
    ),
    "hard": (
        (
            "Each direction is the 90-degree sector centred on it.",
            "Each direction is the 90-degree sector centred on it.",
        ),
        (
            "Each direction covers 90 degrees, with front being the range from 45 degrees left to 45 degrees right.",
            "Each direction covers 90 degrees, with front being the range from 45 degrees left to 45 degrees right.",
        ),
        (
            "The four directions split the circle around you into equal quarters centred on ahead, left, behind "
            "and right.",
            "The four directions split the circle around me into equal quarters centred on ahead, left, behind "
            "and right.",
        ),
    ),
    "quadrant": (
        (
            "The directions refer to the quadrants of a Cartesian plane (if you are standing at the origin and "
            "facing along the positive y-axis).",
            "The directions refer to the quadrants of a Cartesian plane (if I am standing at the origin and facing "
            "along the positive y-axis).",
        ),
        (
            "Think of a Cartesian plane with you at the origin looking along the positive y-axis: the directions "
            "are its four quadrants.",
            "Think of a Cartesian plane with me at the origin looking along the positive y-axis: the directions "
            "are its four quadrants.",
        ),
        (
            "The lines straight ahead and straight sideways divide the floor around you into these four quadrants.",
            "The lines straight ahead and straight sideways divide the floor around me into these four quadrants.",
        ),
        (
            "Front-left, for example, is everything between straight ahead and directly to your left.",
            "Front-left, for example, is everything between straight ahead and directly to my left.",
        ),
    ),
    "fine": (
        (
            "The eight directions are 45-degree sectors centred on front, front-left, left, back-left, back, "
            "back-right, right and front-right.",
            "The eight directions are 45-degree sectors centred on front, front-left, left, back-left, back, "
            "back-right, right and front-right.",
        ),
        (
            "Each of the eight directions covers 45 degrees around its own heading.",
            "Each of the eight directions covers 45 degrees around its own heading.",
        ),
        (
            "Front-left, for example, is centred halfway between straight ahead and your left, 22.5 degrees to "
            "either side.",
            "Front-left, for example, is centred halfway between straight ahead and my left, 22.5 degrees to "
            "either side.",
        ),
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
    ("If I stand at the {a} and face the {b}, {ask}", 1),
]


def _allocentric_question(ctx: GenContext, level: str, a: str, b: str, c: str) -> str:
    situation, person = _pick(ctx, ALLOCENTRIC_SITUATIONS)
    ask = _pick(ctx, ALLOCENTRIC_ASKS[level])[person].format(c=c, b=b)
    parts = [
        situation.format(a=a, b=b, ask=ask, Ask=ask[0].upper() + ask[1:]),
        _pick(ctx, ALLOCENTRIC_DEFINITIONS[level])[person],
        _pick(ctx, CENTRE_NOTES),
    ]
    return " ".join(p for p in parts if p)


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
    triples = candidates.tolist()
    # per candidate, whether it passes each level: one gather, not five numpy look-ups per candidate
    passed = np.stack(
        [passes[bins.name][tuple(candidates.T)] for bins in ALLOCENTRIC_LEVELS], axis=1
    ).tolist()
    for k in ctx.rng.permutation(len(candidates)).tolist():
        a, b, c = triples[k]
        levels = [bins for bins, ok in zip(ALLOCENTRIC_LEVELS, passed[k], strict=True) if ok]
        least = min(used[bins.name] for bins in levels)
        options = [bins for bins in levels if used[bins.name] == least]
        bins = options[draw_index(ctx.rng, len(options))]
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
# How the sectors are meant, worded several ways or left out ("" = not said).
OCP_NOTES = (
    "Each direction is the 90-degree sector centred on it, on the floor plan.",
    "Seen from above, each direction covers 90 degrees around its own heading.",
    "Directions are quarters of the floor plan around that camera, centred on left, right and behind.",
    "",
)
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
    cells = np.argwhere(ok).tolist()
    sector = CAMERA_SECTORS.index(theta)  # every (frame, object) at once: the same bins as one by one
    for k in ctx.rng.permutation(len(cells)).tolist():
        f1, j = cells[k]
        label = CAMERA_SECTORS.labels[int(sector[f1, j])]
        if label == "front":
            ctx.drop("in front of camera 1 (not asked)")
            continue
        corner_angles = floor_angle(fwd[f1], corners[j] - cam[f1, :2])
        out = int((CAMERA_SECTORS.index(corner_angles) != sector[f1, j]).sum())
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
            question=" ".join(p for p in (ctx.template(OCP_TEMPLATES, obj=name), _pick(ctx, OCP_NOTES)) if p),
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


# ---------------------------------------------------------------- camera_relative_direction

# ViewSpatial-Bench's camera-perspective relative direction: in one image, where is A relative to B as the
# camera sees it. Axes: right (the camera's x, horizontal), depth (the camera's heading on the floor plan;
# "front" = nearer the camera than B, "back" = farther) and world up ("above" alone, "up" after front/back).
CRD_MIN_M = 0.3  # a named axis: |component| >= 0.3 m ...
CRD_ON_RATIO = 0.6  # ... and >= 0.6 x the largest component
CRD_OFF_RATIO = 0.3  # an unnamed axis is <= 0.3 x the largest; anything between is ambiguous: skipped
CRD_MIN_VISIBLE = 0.3  # both objects clearly visible in the image
CRD_TEMPLATES = (
    "Where is the {a} in relation to the {b}?",
    "How is the {a} positioned with respect to the {b}?",
    "Could you tell me the location of the {a} in comparison to the {b}?",
    "If you're looking at the {b}, where would you find the {a}?",
    "Where is the {a} located compared to the {b} from the camera's perspective?",
    "Can you describe the position of the {a} relative to the {b}?",
)
CRD_NOTES = (
    "",
    "Directions are as the camera sees them; front means nearer the camera.",
    "Use the camera's point of view: front is closer to the camera, back is farther away.",
    "Judge from this camera: left and right as in the image, front toward the camera, back away from it.",
)
# (axis, sign) -> word; a label names one or two axes, depth first, then vertical, then horizontal
_CRD_WORDS = {("depth", -1): "front", ("depth", 1): "back", ("up", 1): "above", ("up", -1): "down"}
_CRD_WORDS |= {("right", 1): "right", ("right", -1): "left"}


def crd_label(parts: Sequence[tuple[str, int]]) -> str:
    """ViewSpatial's label for one or two named axes: 'left', 'above', 'front-left', 'back-up', 'down-right'."""
    order = {"depth": 0, "up": 1, "right": 2}
    parts = sorted(parts, key=lambda p: order[p[0]])
    words = [_CRD_WORDS[p] for p in parts]
    if len(parts) == 2 and parts[0][0] == "depth" and parts[1][0] == "up":
        words[1] = "up" if parts[1][1] > 0 else "down"
    return "-".join(words)


CRD_LABELS: dict[str, frozenset[tuple[str, int]]] = {}
for _axes in (("depth",), ("up",), ("right",), ("depth", "up"), ("depth", "right"), ("up", "right")):
    for _signs in np.ndindex(*(2,) * len(_axes)):
        _parts = tuple((ax, 1 if s else -1) for ax, s in zip(_axes, _signs, strict=True))
        CRD_LABELS[crd_label(_parts)] = frozenset(_parts)


def camera_relative_parts(delta_cam: np.ndarray) -> tuple[tuple[str, int], ...] | None:
    """Named axes of A - B given as (right, depth, up) metres, or None when the relation is not clear."""
    names = ("right", "depth", "up")
    mag = np.abs(delta_cam)
    top = float(mag.max())
    if top < CRD_MIN_M:
        return None
    named = []
    for name, value, m in zip(names, delta_cam, mag, strict=True):
        if m >= max(CRD_MIN_M, CRD_ON_RATIO * top):
            named.append((name, 1 if value > 0 else -1))
        elif m > CRD_OFF_RATIO * top:
            return None
    return tuple(named) if len(named) <= 2 else None


def crd_distractors(label: str, rng: np.random.Generator) -> list[str]:
    """The other three labels of a symmetric option set, so no option text stands out: for a two-axis answer
    the four sign combinations of its two axes (front-left, front-right, back-left, back-right); for a one-axis
    answer its axis both ways plus another axis both ways (left, right, above, down). Every distractor is wrong
    (an opposite sign, or an axis the answer says is negligible), all options have the same number of words,
    and each one relates to the others as the answer does. Distractors that merely avoid the answer's words
    (ViewSpatial's rule) single the answer out as the one option sharing no word with the rest."""
    axes = sorted({axis for axis, _ in CRD_LABELS[label]})
    if len(axes) == 1:
        others = [a for a in ("depth", "up", "right") if a != axes[0]]
        axes = [axes[0], others[int(rng.integers(len(others)))]]
        sets = [[(ax, sign)] for ax in axes for sign in (1, -1)]
    else:
        sets = [[(axes[0], s0), (axes[1], s1)] for s0 in (1, -1) for s1 in (1, -1)]
    return [t for t in (crd_label(p) for p in sets) if t != label]


@rule("camera_relative_direction", cap_ratio=DIRECTION_CAP)
def camera_relative_direction(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    """A and B single-instance and both visible (fraction >= 0.3) in one upright image; A - B (centroids) in
    the camera's floor-plane axes and world up; each named axis >= 0.3 m and >= 0.6 x the largest, every other
    <= 0.3 x the largest. Options form a symmetric set (`crd_distractors`)."""
    poses, valid = _valid_poses(facts)
    vis = facts.visibility
    singles = facts.single_instance()
    centre = {o: facts.objects[o].centroid.astype(np.float64) for o in singles}  # a mean over all points
    keyed: list[tuple[str, tuple[int, int, int, np.ndarray, tuple]]] = []
    for f in ctx.shuffled(range(len(facts.frames))):
        if not valid[f] or horizontal_norm(poses[f, :3, 2]) < MIN_HORIZONTAL_AXIS:
            continue
        fwd = poses[f, :3, 2].copy()
        fwd[2] = 0.0
        fwd /= np.linalg.norm(fwd)
        right = np.array([fwd[1], -fwd[0], 0.0])  # forward turned 90 deg clockwise seen from above
        shown = [o for o in singles if vis.visible[f, o] and vis.visible_fraction[f, o] >= CRD_MIN_VISIBLE]
        for a in shown:
            for b in shown:
                if a == b:
                    continue
                d = centre[a] - centre[b]
                delta = np.array([d @ right, d @ fwd, d[2]])
                parts = camera_relative_parts(delta)
                if parts is None:
                    ctx.drop("direction not clear: an axis between 0.3x and 0.6x the largest, or < 0.3 m")
                    continue
                keyed.append((crd_label(parts), (f, a, b, delta, parts)))
    # each (image, pair) at most once either way round: the mirrored question repeats the same geometry
    seen: set[tuple[int, frozenset[int]]] = set()
    for _, (f, a, b, delta, parts) in ctx.shuffled(keyed):
        if (f, frozenset((a, b))) in seen:
            ctx.drop("the same image and pair asked the other way round")
            continue
        seen.add((f, frozenset((a, b))))
        label = crd_label(parts)
        distractors = crd_distractors(label, ctx.rng)
        names = {"a": facts.objects[a].label, "b": facts.objects[b].label}
        question = " ".join(p for p in (ctx.template(CRD_TEMPLATES, **names), _pick(ctx, CRD_NOTES)) if p)
        yield Draft(
            question=question,
            frames=[f],
            objects=[a, b],
            choices=[label, *distractors],
            extra={"direction": label, "delta_right_depth_up_m": delta},
            balance_key=label,
        )
