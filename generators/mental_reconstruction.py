"""Mental reconstruction (docs/taxonomy.md): rebuilding the room from limited views. Distinct instances
across overlapping images, a bird's-eye grid map, occlusion in one image and the capture order of frames."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from itertools import combinations, permutations

import numpy as np

from generators.base import Draft, GenContext
from generators.common import label_instances, plural
from generators.guards import draw_index
from generators.registry import rule
from schemas.facts import SceneFacts

# unique_object_count
UNIQUE_FRAMES = (2, 6)
MIN_FRAME_GAP_S = 1.0  # images of one question at least this far apart: near-duplicates add nothing
UNSEEN_MAX_FRACTION = 0.02  # an instance not counted in a frame shows at most this share of its points there
# cognitive_map
GRID_N = 3
BORDER_MARGIN_REL, BORDER_MARGIN_M = (
    0.1,
    0.15,
)  # centroid this far (share of a cell, and metres) from inner borders
MAP_OBJECTS = (3, 4)  # objects per map question
MAP_MAX_SUBSETS = 2000  # candidate subsets considered per scene (C(40, 4) would be 91 390)
AXIS_MAX_DEG = 30.0  # first frame's view direction within this of a room axis (15 deg clear of the diagonal)
MAP_MAX_STARTS = 8  # start frames tried per scene (each one a video whose first frame faces a room axis)
# occlusion: the answer has >= 30 % of its in-view points behind ANOTHER object (geometry's occluded_by_other,
# which excludes self-occlusion); distractor labels have <= 5 % hidden and >= 70 % inside the image (a
# deeper border cut could be read as "partly hidden"; 80 % left most real views with fewer than 2 distractors)
OCCLUDED_MIN_HIDDEN, OCCLUDED_MIN_IN_FRUSTUM = 0.3, 0.5
CLEAR_MAX_HIDDEN, CLEAR_MIN_IN_FRUSTUM = 0.05, 0.7
OCCLUSION_MIN_DISTRACTORS = 2  # options: the answer and 2-3 labels
OCCLUDER_MIN_OVERLAP, OCCLUDER_MIN_DEPTH_GAP_M = (
    0.1,
    0.1,
)  # an occluder's box covers >= 10 % of the answer's, nearer
# frame_order
ORDER_FRAMES = (3, 4)
ORDER_MIN_GAP_S = 1.0
ORDER_MIN_OVERLAP = 0.05
ATTEMPTS = 8  # random start frames per frame_order candidate round
MAX_PAIRS = 20  # frame pairs tried per repeated instance

UNIQUE_COUNT_TEMPLATES = (
    "How many distinct {labels} can be seen across these {n} images? The same {label} seen in several images counts once.",
    "These {n} images show parts of one room. How many different {labels} appear in them in total?",
    "Counting each physical {label} only once, how many {labels} are visible across the {n} views?",
    "Across all {n} images, how many unique {labels} are there? Do not count the same {label} twice.",
    "The {n} views overlap. How many separate {labels} do they show altogether?",
    "How many individual {labels} are there in these {n} pictures of the same room, counting repeated sightings once?",
)
COGNITIVE_MAP_TEMPLATES = (
    "Imagine a top-down map of this room divided into a {n}x{n} grid, turned so that the camera's viewing direction in "
    "the first frame points to the top of the map. Which option puts each object (by its centre) in the right cell?",
    "Picture the room from above as a {n}x{n} grid whose top is the direction the camera faces in the first frame. "
    "Where do {objects} fall on this grid (judging by each object's centre)?",
    "Split the room's floor into a {n}x{n} grid seen from above, with the top of the grid in the direction the camera "
    "looks at the start of the video. Which cells hold the centres of {objects}?",
    "On a bird's-eye {n}x{n} grid map of the room (top = the first frame's viewing direction), which placement of "
    "{objects} is correct? Use the centre of each object.",
    "Think of a {n}x{n} overhead grid covering the room, oriented so the camera initially looks toward its top edge. "
    "Which option gives the correct cell for the centre of each of {objects}?",
)
OCCLUSION_TEMPLATES = (
    "Which of these objects is partly hidden behind another object in this image?",
    "In this image, which object is partially occluded by something in front of it?",
    "One of the listed objects is partly blocked from view by a nearer object. Which one?",
    "Looking at this picture, which object can only be seen in part because something stands in front of it?",
    "Which object in this view is partially covered by another object closer to the camera?",
)
FRAME_ORDER_TEMPLATES = (
    "These {n} images were taken along one camera path but are shown in shuffled order. In which order were they "
    "captured? Each option lists image numbers, earliest first.",
    "The {n} images come from one walk through the room, shuffled. Give the order in which they were taken "
    "(image numbers, first to last).",
    "Put these {n} shuffled frames of one video back in capture order. Which sequence of image numbers is right, "
    "earliest first?",
    "A camera moved through the room and took these {n} images, shown here out of order. Which list of image numbers "
    "gives the true capture order, starting with the earliest?",
    "In what order were these {n} views recorded along the camera's trajectory? Answer with image numbers, earliest first.",
)


def seen_in(facts: SceneFacts, obj: int, frames: Sequence[int]) -> bool:
    return bool(len(frames)) and bool(facts.visibility.visible[list(frames), obj].any())


def english_list(names: Sequence[str]) -> str:
    names = [f"the {n}" for n in names]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


# --- unique_object_count -------------------------------------------------------------------------------------


@rule("unique_object_count")
def unique_object_count(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    vis = facts.visibility
    groups = label_instances(facts)
    # labels with an instance seen in two frames: the only ones that can pass the filter
    labels = [lab for lab, inst in groups.items() if vis.visible[:, inst].sum(axis=0).max(initial=0) >= 2]
    tables = {lab: _LabelFrames(facts, groups[lab]) for lab in labels}
    streams = [_unique_count_frames(facts, ctx, lab, groups[lab]) for lab in ctx.shuffled(sorted(labels))]
    seen: set[tuple[str, tuple[int, ...]]] = set()
    while streams:  # a random merge of the labels' streams: candidates in random order, none pre-balanced
        k = draw_index(ctx.rng, len(streams))
        item = next(streams[k], None)
        if item is None:
            streams.pop(k)
            continue
        if item in seen:
            ctx.drop("frame set already asked")
            continue
        seen.add(item)
        draft = _unique_count_draft(facts, ctx, item[0], tables[item[0]], list(item[1]))
        if draft is not None:
            yield draft


def _unique_count_frames(
    facts: SceneFacts, ctx: GenContext, label: str, inst: list[int]
) -> Iterator[tuple[str, tuple[int, ...]]]:
    """Frame sets for one label: two frames showing one instance (the repeat the filter asks for) plus
    frames showing the label, 2 to 6 frames in all."""
    vis = facts.visibility
    shown = [int(f) for f in np.flatnonzero(vis.visible[:, inst].any(axis=1))]
    for anchor in ctx.shuffled([o for o in inst if vis.visible[:, o].sum() >= 2]):
        frames_of = [int(f) for f in np.flatnonzero(vis.visible[:, anchor])]
        pairs = [(a, b) for i, a in enumerate(frames_of) for b in frames_of[i + 1 :]]
        for pair in ctx.shuffled(pairs)[:MAX_PAIRS]:
            for k in ctx.shuffled(range(UNIQUE_FRAMES[0], UNIQUE_FRAMES[1] + 1)):
                rest = [f for f in ctx.shuffled(shown) if f not in pair]
                yield label, tuple(sorted([*pair, *rest[: k - 2]]))


class _LabelFrames:
    """One label's visibility per frame, as plain lists: a label is asked about in up to a thousand frame
    sets of 2-6 frames, where numpy's per-call overhead (np.ix_ and reductions over a few cells) was most of
    the rule's time."""

    def __init__(self, facts: SceneFacts, inst: list[int]):
        vis = facts.visibility
        self.inst = inst
        self.seen = vis.visible[:, inst].tolist()  # frame -> [seen? per instance]
        fractions = vis.visible_fraction[:, inst].tolist()
        # frame -> whether an instance not counted there still shows a sliver (the same test as the
        # element-wise ~visible & (fraction > UNSEEN_MAX_FRACTION), per frame)
        self.sliver = [
            any(not s and f > UNSEEN_MAX_FRACTION for s, f in zip(row, frow, strict=True))
            for row, frow in zip(self.seen, fractions, strict=True)
        ]
        self.times = [fr.timestamp for fr in facts.frames]


def _unique_count_draft(
    facts: SceneFacts, ctx: GenContext, label: str, table: _LabelFrames, frames: list[int]
) -> Draft | None:
    times = [table.times[f] for f in frames]
    if min((b - a for a, b in zip(times, times[1:], strict=False)), default=math.inf) < MIN_FRAME_GAP_S:
        ctx.drop(f"frames < {MIN_FRAME_GAP_S:g} s apart")
        return None
    rows = [table.seen[f] for f in frames]  # (frames, instances)
    per_instance = [sum(col) for col in zip(*rows, strict=True)]
    if max(per_instance) < 2:  # filter: an instance seen twice, so per-frame summing is wrong
        ctx.drop("no instance seen in two of the frames")
        return None
    if any(table.sliver[f] for f in frames):  # clear margin: a sliver is neither seen nor unseen
        ctx.drop("an instance only partly visible (neither seen nor unseen)")
        return None
    counted = [o for o, c in zip(table.inst, per_instance, strict=True) if c]
    per_frame = [sum(row) for row in rows]
    n = len(counted)
    question = ctx.template(UNIQUE_COUNT_TEMPLATES, label=label, labels=plural(label), n=len(frames))
    return Draft(
        question=question,
        frames=frames,
        objects=counted,
        answer=str(n),
        value=float(n),
        unit="count",
        extra={"label": label, "per_frame_counts": per_frame, "per_frame_sum": sum(per_frame)},
        # counts flattened ("1" was a third of the answers), and within a count the labels taken in turn: keyed
        # by the count alone, the few high counts all came from the one label with many instances
        balance_key=f"{n}:{label}",
    )


# --- cognitive_map -------------------------------------------------------------------------------------------


def cell_name(row: int, col: int, n: int = GRID_N) -> str:
    rows = ["top", "middle", "bottom"] if n == 3 else [f"row {r + 1}" for r in range(n)]
    cols = ["left", "center", "right"] if n == 3 else [f"column {c + 1}" for c in range(n)]
    if n == 3 and row == 1 and col == 1:
        return "center"
    return f"{rows[row]}-{cols[col]}" if n == 3 else f"{rows[row]}, {cols[col]}"


def map_axes(forward: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(up, right) world floor axes of the map: up is the room axis nearest the first view's direction."""
    f = np.asarray(forward[:2], dtype=np.float64)
    if np.linalg.norm(f) < 0.3:  # camera looks almost straight down: no heading
        return None
    axes = [np.array(a, dtype=np.float64) for a in ((1, 0), (0, 1), (-1, 0), (0, -1))]
    angles = [abs(math.degrees(math.atan2(f[0] * a[1] - f[1] * a[0], f @ a))) for a in axes]
    k = int(np.argmin(angles))
    if angles[k] > AXIS_MAX_DEG:
        return None
    up = axes[k]
    return up, np.array([up[1], -up[0]])  # right of "up" seen from above (z up)


def room_extent_xy(facts: SceneFacts) -> np.ndarray:
    """(K, 2) points whose bounds are the room's floor extent: its outline, else every object's points."""
    if facts.room_polygon is not None and len(facts.room_polygon) >= 3:
        return np.asarray(facts.room_polygon, dtype=np.float64)[:, :2]
    return np.concatenate([o.points[:, :2] for o in facts.objects]).astype(np.float64)


@rule("cognitive_map")
def cognitive_map(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    """Objects placed on a 3x3 grid over the room's floor extent, its top the view direction of the video's
    first frame (snapped to the nearest room axis when within 30 degrees). Videos may start at any frame that
    leaves `video_frames` frames to the end: a real scan whose first frame looks 38 degrees off every room
    axis still has later frames that face a wall. When no frame faces a room axis, the grid is turned to the
    first frame's exact heading, which is what every template says."""
    if not facts.objects:
        return
    asked: set[frozenset[int]] = set()
    for video, up, right, alignment in _map_starts(facts, ctx):
        for draft in _map_drafts(facts, ctx, video, up, right, asked):
            draft.extra["map_alignment"] = alignment
            yield draft


def _map_starts(
    facts: SceneFacts, ctx: GenContext
) -> Iterator[tuple[list[int], np.ndarray, np.ndarray, str]]:
    """(video frames, up axis, right axis, alignment) per start frame tried: the trajectory's first frame
    first, then up to MAP_MAX_STARTS others in random order whose heading is near a room axis."""
    n = len(facts.frames)
    k = min(n, ctx.config.video_frames)
    if k == 0:
        return
    ok = [s for s in range(n - k + 1) if np.isfinite(facts.frames[s].pose).all()]
    order = [s for s in ok if s == 0] + ctx.shuffled([s for s in ok if s != 0])
    tried = 0
    for s in order:
        axes = map_axes(facts.frames[s].forward)
        if axes is None:
            continue
        tried += 1
        yield _window(s, n - 1, k), axes[0], axes[1], "room_axis"
        if tried == MAP_MAX_STARTS:
            return
    if tried == 0 and ok:
        heading = _heading_axes(facts.frames[ok[0]].forward)
        if heading is not None:
            yield _window(ok[0], n - 1, k), heading[0], heading[1], "first_frame_heading"


def _window(start: int, end: int, k: int) -> list[int]:
    """k frame positions uniform over [start, end] (GenContext.video_frames over a stretch of trajectory)."""
    return sorted({int(round(x)) for x in np.linspace(start, end, min(k, end - start + 1))})


def _heading_axes(forward: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    f = np.asarray(forward[:2], dtype=np.float64)
    norm = float(np.linalg.norm(f))
    if norm < 0.3:
        return None
    up = f / norm
    return up, np.array([up[1], -up[0]])


def _map_drafts(
    facts: SceneFacts,
    ctx: GenContext,
    video: list[int],
    up: np.ndarray,
    right: np.ndarray,
    asked: set[frozenset[int]],
) -> Iterator[Draft]:
    extent = room_extent_xy(facts)
    u_rng = (float((extent @ up).min()), float((extent @ up).max()))
    r_rng = (float((extent @ right).min()), float((extent @ right).max()))
    size_u, size_r = (u_rng[1] - u_rng[0]) / GRID_N, (r_rng[1] - r_rng[0]) / GRID_N
    if min(size_u, size_r) <= 0:
        return
    cells: dict[int, tuple[int, int]] = {}
    for o in facts.single_instance():
        if not seen_in(facts, o, video):
            continue
        c = facts.objects[o].centroid[:2].astype(np.float64)
        placed = [
            _grid_coord(c @ right, r_rng, size_r),
            _grid_coord(u_rng[1] - c @ up, (0.0, u_rng[1] - u_rng[0]), size_u),
        ]
        if None in placed:  # filter: centroid within the margin of an inner cell border
            continue
        col, row = placed
        cells[o] = (row, col)
    eligible = sorted(cells)
    if len(eligible) < 3:
        return
    for subset in _map_subsets(eligible, ctx):
        if frozenset(subset) in asked:
            continue
        chosen = ctx.shuffled(subset)  # mention order is random (guard 4)
        k = len(chosen)
        if len({cells[o] for o in chosen}) < k:  # filter: objects in distinct cells
            continue
        names = [facts.objects[o].label for o in chosen]
        truth = [cells[o] for o in chosen]
        distractors = _map_distractors(ctx, truth)
        if len(distractors) < 3:
            continue
        asked.add(frozenset(subset))
        options = [_map_text(names, a) for a in [truth, *distractors]]
        question = ctx.template(COGNITIVE_MAP_TEMPLATES, n=GRID_N, objects=english_list(names))
        yield Draft(
            question=question,
            frames=video,
            objects=chosen,
            choices=options,
            extra={
                "grid": GRID_N,
                "map_up_axis": up,
                "extent_up": u_rng,
                "extent_right": r_rng,
                "cells": {names[i]: list(truth[i]) for i in range(k)},
            },
            balance_key=cell_name(*truth[0]),
        )


def _map_subsets(eligible: list[int], ctx: GenContext) -> list[tuple[int, ...]]:
    """Every 3- and 4-object subset of the eligible objects, in random order, at most MAP_MAX_SUBSETS of them
    (drawn without replacement): distinct subsets make distinct questions, and a scene with few eligible objects
    still gets all of its candidates (64 random draws left most of them untried)."""
    subsets = [c for k in MAP_OBJECTS for c in combinations(eligible, k)]
    order = ctx.rng.permutation(len(subsets))[:MAP_MAX_SUBSETS]
    return [subsets[i] for i in order]


def _grid_coord(value: float, rng: tuple[float, float], size: float) -> int | None:
    """Cell index along one axis, None when the value lies within the margin of an inner border."""
    rel = (value - rng[0]) / size
    idx = min(max(int(math.floor(rel)), 0), GRID_N - 1)
    margin = max(BORDER_MARGIN_REL, BORDER_MARGIN_M / size)
    for border in range(1, GRID_N):
        if abs(rel - border) < margin:
            return None
    return idx


def _map_text(names: list[str], cells: list[tuple[int, int]]) -> str:
    return "; ".join(f"{n}: {cell_name(*c)}" for n, c in zip(names, cells, strict=True))


def _map_distractors(ctx: GenContext, truth: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Wrong placements with distinct cells: a left-right mirror, swaps of two objects, one object moved."""
    k = len(truth)
    all_cells = [(r, c) for r in range(GRID_N) for c in range(GRID_N)]
    pool: list[list[tuple[int, int]]] = [
        [(r, GRID_N - 1 - c) for r, c in truth],
        [(GRID_N - 1 - r, c) for r, c in truth],
    ]
    for a in range(k):
        for b in range(a + 1, k):
            swapped = list(truth)
            swapped[a], swapped[b] = truth[b], truth[a]
            pool.append(swapped)
        for cell in all_cells:
            if cell not in truth:
                moved = list(truth)
                moved[a] = cell
                pool.append(moved)
    out: list[list[tuple[int, int]]] = []
    for cand in ctx.shuffled(pool[:2]) + ctx.shuffled(pool[2:]):
        if cand != truth and cand not in out and len(set(cand)) == k:
            out.append(cand)
        if len(out) == 3:
            break
    return out


# --- occlusion -----------------------------------------------------------------------------------------------


@rule("occlusion")
def occlusion(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    """The answer is a label with an instance >= 30 % of whose in-view points are behind ANOTHER object (and an
    occluder whose box overlaps it, nearer to the camera); the most hidden such instance is the one grounded.
    Distractors are labels that are plainly NOT partly hidden in that image: at least one instance visible, and
    every instance the image shows any part of is visible, <= 5 % hidden and not cut off by the border. Both
    roles are decided per label, whatever its instance count: "which of these is partly hidden" has one right
    label either way, and a label that usually has several instances (pictures, boxes, chairs) can be the
    answer as often as the distractor (single-instance answers only made such labels distractor-only: a
    text-only prior the audit measured at 88 % on 6 demo rooms against 30 % chance)."""
    vis = facts.visibility
    if vis.occluded_by_other is None:
        return
    hidden = vis.occluded_by_other
    nameable = [i for i, o in enumerate(facts.objects) if o.nameable]
    groups = label_instances(facts)
    for f in ctx.shuffled(range(len(facts.frames))):
        if not np.isfinite(facts.frames[f].pose).all():
            continue
        clear = _clear_labels(facts, f, groups)
        for label in ctx.shuffled(sorted(groups)):
            partly = [
                o
                for o in groups[label]
                if vis.visible[f, o]
                and vis.in_frustum_fraction[f, o] >= OCCLUDED_MIN_IN_FRUSTUM
                and hidden[f, o] >= OCCLUDED_MIN_HIDDEN
            ]
            if not partly:
                ctx.drop(
                    f"no instance visible, inside the image and >= {OCCLUDED_MIN_HIDDEN:.0%} hidden by another object"
                )
                continue
            # the most hidden instance that something nearer covers (the hidden part must be hidden behind
            # something, not just off the depth map)
            covered = (
                (o, _occluder(facts, f, o, nameable))
                for o in sorted(partly, key=lambda o: (-hidden[f, o], o))
            )
            found = next(((o, by) for o, by in covered if by is not None), None)
            if found is None:
                ctx.drop("no nearer object covers it")
                continue
            a, occluder = found
            others = [lab for lab in clear if lab != label]
            if len(others) < OCCLUSION_MIN_DISTRACTORS:
                ctx.drop(f"fewer than {OCCLUSION_MIN_DISTRACTORS} labels plainly unoccluded in the image")
                continue
            distractors = ctx.shuffled(others)[:3]
            shown = [o for lab in distractors for o in groups[lab] if vis.visible[f, o]]
            yield Draft(
                question=ctx.template(OCCLUSION_TEMPLATES),
                frames=[f],
                objects=[a, *shown],
                choices=[facts.objects[a].label, *distractors],
                extra={
                    "visible_fraction": float(vis.visible_fraction[f, a]),
                    "in_frustum_fraction": float(vis.in_frustum_fraction[f, a]),
                    "hidden_by_other": float(hidden[f, a]),
                    "occluder": {
                        "instance_id": facts.objects[occluder].instance_id,
                        "label": facts.objects[occluder].label,
                    },
                    # per distractor label, the most hidden of its instances in the image
                    "distractor_hidden": [float(clear[lab]) for lab in distractors],
                    "margins": {
                        "answer_min_hidden": OCCLUDED_MIN_HIDDEN,
                        "answer_min_in_frustum": OCCLUDED_MIN_IN_FRUSTUM,
                        "distractor_max_hidden": CLEAR_MAX_HIDDEN,
                        "distractor_min_in_frustum": CLEAR_MIN_IN_FRUSTUM,
                    },
                },
                balance_key=facts.objects[a].label,
            )


def _clear_labels(facts: SceneFacts, f: int, groups: dict[str, list[int]]) -> dict[str, float]:
    """Labels plainly not partly hidden in frame f -> the largest hidden share among their instances. A label
    qualifies when an instance is visible and EVERY instance with any point in the image is visible, at most 5 %
    hidden behind another object and at least CLEAR_MIN_IN_FRUSTUM inside the image (an instance cut off by
    the border, or hidden entirely, could be read as "partly hidden")."""
    vis = facts.visibility
    hidden = vis.occluded_by_other
    assert hidden is not None
    out: dict[str, float] = {}
    for label, inst in groups.items():
        in_image = [o for o in inst if vis.in_frustum_fraction[f, o] > 0 or vis.visible[f, o]]
        if in_image and all(
            vis.visible[f, o]
            and hidden[f, o] <= CLEAR_MAX_HIDDEN
            and vis.in_frustum_fraction[f, o] >= CLEAR_MIN_IN_FRUSTUM
            for o in in_image
        ):
            out[label] = max(float(hidden[f, o]) for o in in_image)
    return out


def _occluder(facts: SceneFacts, f: int, a: int, candidates: list[int]) -> int | None:
    """A visible object nearer to the camera whose 2D box covers a share of the answer's box."""
    vis = facts.visibility
    box = vis.bbox[f, a]
    area = float((box[2] - box[0]) * (box[3] - box[1]))
    if not np.isfinite(area) or area <= 0:
        return None
    best, best_cover = None, OCCLUDER_MIN_OVERLAP
    for o in candidates:
        if (
            o == a
            or not vis.visible[f, o]
            or not vis.depth[f, o] < vis.depth[f, a] - OCCLUDER_MIN_DEPTH_GAP_M
        ):
            continue
        b = vis.bbox[f, o]
        w = min(box[2], b[2]) - max(box[0], b[0])
        h = min(box[3], b[3]) - max(box[1], b[1])
        cover = max(w, 0.0) * max(h, 0.0) / area
        if cover >= best_cover:
            best, best_cover = o, cover
    return best


# --- frame_order ---------------------------------------------------------------------------------------------


@rule("frame_order")
def frame_order(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    times = np.array([f.timestamp for f in facts.frames], dtype=np.float64)
    valid_mask = np.array([np.isfinite(f.pose).all() for f in facts.frames], dtype=bool)
    valid = [int(f) for f in np.flatnonzero(valid_mask)]
    steps = [  # the frames a chain may step to from each frame: found once per scene, not once per step
        np.flatnonzero(valid_mask & (times >= t + ORDER_MIN_GAP_S) & (row >= ORDER_MIN_OVERLAP)).tolist()
        for t, row in zip(times, np.asarray(facts.overlap), strict=True)
    ]
    times, overlap = times.tolist(), np.asarray(facts.overlap).tolist()
    tried: set[tuple[int, ...]] = set()
    for _ in range(ATTEMPTS):
        for start in ctx.shuffled(valid):
            k = int(ctx.rng.integers(ORDER_FRAMES[0], ORDER_FRAMES[1] + 1))
            chain = [start]
            while len(chain) < k:
                nxt = steps[chain[-1]]
                if len(nxt) == 0:
                    break
                chain.append(nxt[draw_index(ctx.rng, len(nxt))])
            if len(chain) < k:
                ctx.drop(f"no chain of {k} frames >= {ORDER_MIN_GAP_S:g} s apart sharing content")
                continue
            if tuple(chain) in tried:
                ctx.drop("frame set already asked")
                continue
            tried.add(tuple(chain))
            draft = _frame_order_draft(facts, ctx, chain, times, overlap)
            if draft is not None:
                yield draft


def _frame_order_draft(
    facts: SceneFacts, ctx: GenContext, chain: list[int], times: list[float], overlap: list[list[float]]
) -> Draft | None:
    """`times` and `overlap` are the scene's timestamps and overlap matrix as plain lists."""
    k = len(chain)
    ordered = sorted(chain, key=lambda f: times[f])
    if min(times[b] - times[a] for a, b in zip(ordered, ordered[1:], strict=False)) < ORDER_MIN_GAP_S:
        ctx.drop(f"frames < {ORDER_MIN_GAP_S:g} s apart")  # filter: frames >= 1 s apart
        return None
    consecutive = [overlap[ordered[i]][ordered[i + 1]] for i in range(k - 1)]
    if min(consecutive) < ORDER_MIN_OVERLAP:  # filter: consecutive frames share scene content
        ctx.drop(f"consecutive frames overlap < {ORDER_MIN_OVERLAP:.0%}")
        return None
    # the chain of shared content must single out the order: no skipping pair overlaps as much as a step does
    skipping = [overlap[ordered[i]][ordered[j]] for i in range(k) for j in range(i + 2, k)]
    if skipping and max(skipping) >= min(consecutive):
        ctx.drop("a skipping pair overlaps as much as a step (order ambiguous)")
        return None
    shown = ctx.shuffled(ordered)
    number = {f: shown.index(f) + 1 for f in shown}
    truth = tuple(number[f] for f in ordered)
    # the reverse order has the same chain of shared content; only its direction differs, so it is not offered
    wrong = [p for p in permutations(range(1, k + 1)) if p != truth and p != truth[::-1]]
    distractors = [wrong[i] for i in ctx.rng.permutation(len(wrong))[:3]]
    text = [", ".join(str(x) for x in p) for p in [truth, *distractors]]
    return Draft(
        question=ctx.template(FRAME_ORDER_TEMPLATES, n=k),
        frames=shown,
        objects=[],
        choices=text,
        extra={
            "true_order_frames": [facts.frames[f].index for f in ordered],
            "timestamps": [times[f] for f in ordered],
            "consecutive_overlap": consecutive,
        },
        balance_key=text[0],
    )
