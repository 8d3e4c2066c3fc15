"""Comprehensive reasoning (docs/taxonomy.md): questions that need memory over the whole video and several
abilities at once: counting, first-appearance order, route planning and multi-hop relations."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import permutations

import numpy as np

from generators.base import Draft, GenContext
from generators.common import label_instances, plural
from generators.registry import rule
from generators.routes import RoutePlanner, route_gap, signed_angle_deg
from schemas.facts import SceneFacts

# object_count
MIN_COUNT = 2
# appearance_order
APPEARANCE_LABELS = 4
APPEARANCE_MIN_GAP_S = 1.0
APPEARANCE_WINDOWS = 400  # random stretches of the trajectory tried as videos
APPEARANCE_TRIES_PER_WINDOW = 6  # label-set draws per window (at most one question per window)
# route_plan
TURN_MIN_DEG = 30.0  # every turn at least this far off straight
BACK_DEG = 135.0  # |turn| >= 135 deg is "turn back" (as allocentric_direction's "back")
BACK_MARGIN_DEG = 10.0  # turns within this of 135 deg are neither clearly sideways nor back: skipped
MAX_TURNS = 4
STRAIGHT_AHEAD_DEG = 10.0  # the first leg within this of the facing direction needs no turn
ROUTE_MIN_LENGTH_M = 1.0
START_SNAP_M = 1.0  # an object's nearest free cell must be this close to its centre
FACING_MIN_M = 0.5  # the faced object is at least this far from the start, so "facing" has a direction
ALT_ROUTE_REL = 1.15  # a route around another side of an obstacle within 15 % of the shortest => ambiguous
ALT_ROUTE_GAP_M = 0.5  # routes farther apart than this somewhere pass an obstacle on different sides
LANDMARK_MAX_M = 0.8  # a leg ends "until the X" when X's nearest point is this close to the leg's end ...
LANDMARK_GAP_M = 0.4  # ... and every other named object's nearest point is this much farther
STRAIGHT_START_SHARE = 0.5  # share of routes that face the first leg when some object lies straight along it
# multi_hop_relation
PAIR_RANGE_M = (0.3, 5.0)
SIDE_MARGIN_DEG = 15.0
DISTANCE_GAP_M, DISTANCE_GAP_REL = 0.15, 0.10
ATTEMPTS = 400  # random candidate draws for the combinatorial rules

OBJECT_COUNT_TEMPLATES = (
    "How many {labels} are in this room?",
    "Count the {labels} in this room. How many are there?",
    "How many {labels} does this room contain in total?",
    "Watching the whole video, how many separate {labels} can you find in the room?",
    "What is the total number of {labels} in this scene?",
    "In this room, how many {label} instances are there?",
)
APPEARANCE_TEMPLATES = (
    "What will be the first-time appearance order of the following categories in the video: {a}, {b}, {c}, {d}?",
    "In which order do these categories first appear in the video: {a}, {b}, {c}, {d}?",
    "Sort the following by the moment each is first seen in the video, earliest first: {a}, {b}, {c}, {d}.",
    "Which sequence gives the order in which {a}, {b}, {c} and {d} first come into view?",
    "As the camera moves through the room, in what order are {a}, {b}, {c} and {d} seen for the first time?",
    "Order these object categories by their first appearance in the video, earliest first: {a}, {b}, {c}, {d}.",
)
ROUTE_TEMPLATES = (
    "You are a robot beginning at the {start} facing the {facing}. You want to navigate to the {goal}. You will perform "
    "the following actions (Note: for each [please fill in], choose either 'turn back,' 'turn left,' or 'turn right.'): "
    "{actions} You have reached the final destination.",
    "You stand by the {start}, facing the {facing}, and walk to the {goal} along the shortest free path. Fill in each "
    "[please fill in] with 'turn left', 'turn right' or 'turn back': {actions}",
    "Starting next to the {start} and looking toward the {facing}, you take the shortest way to the {goal}: {actions} "
    "Which turns complete the route? Each [please fill in] is 'turn left', 'turn right' or 'turn back'.",
    "Imagine you are at the {start}, facing the {facing}, and need to reach the {goal} by the shortest walkable route. "
    "Complete the plan (each [please fill in] is 'turn left', 'turn right' or 'turn back'): {actions}",
    "A robot at the {start} faces the {facing} and must go to the {goal}, avoiding furniture. Its plan is: {actions} "
    "Which turns ('turn left', 'turn right' or 'turn back') belong in the [please fill in] slots, in order?",
    "Beginning beside the {start} while facing the {facing}, walk the shortest path to the {goal}. Steps: {actions} "
    "Choose the turns for the [please fill in] slots ('turn left', 'turn right' or 'turn back').",
)
MULTI_HOP_TEMPLATES = (
    "Imagine standing by the {a} and facing the {b}. Of the {p} and the {q}, one is on your left and the other on your "
    "right. Which of these objects is closest to the one on your {side}?",
    "If I stand by the {a} facing the {b}, either the {p} or the {q} is to my {side}. Which of the following objects is "
    "nearest to that one?",
    "Stand at the {a} and face the {b}. Take whichever of the {p} and the {q} is on your {side}: which of these objects "
    "is closest to it?",
    "Facing the {b} from the {a}, one of the {p} and the {q} lies to your {side}. Which option is the closest object to "
    "it (measuring between closest points)?",
    "Picture yourself next to the {a}, looking toward the {b}. Find the object on your {side} among the {p} and the "
    "{q}. Which of the listed objects is closest to it?",
)


def seen_mask(facts: SceneFacts, frames: Sequence[int]) -> np.ndarray:
    """(O,) whether each object is visible in at least one of the frames."""
    if not frames:
        return np.zeros(len(facts.objects), dtype=bool)
    return facts.visibility.visible[list(frames)].any(axis=0)


def clear_gap(a: float, b: float) -> bool:
    gap = abs(a - b)
    return gap >= DISTANCE_GAP_M and gap >= DISTANCE_GAP_REL * max(abs(a), abs(b))


# --- object_count --------------------------------------------------------------------------------------------


@rule("object_count")
def object_count(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    video = ctx.video_frames(facts)
    seen = seen_mask(facts, video)
    for label, inst in ctx.shuffled(sorted(label_instances(facts).items())):
        if len(inst) < MIN_COUNT:  # filter: 1 is the trivial prior
            ctx.drop(f"fewer than {MIN_COUNT} instances")
            continue
        if not seen[inst].all():  # every counted instance appears in the video, or the count is unknowable
            ctx.drop("an instance never seen in the video")
            continue
        n = len(inst)
        yield Draft(
            question=ctx.template(OBJECT_COUNT_TEMPLATES, label=label, labels=plural(label)),
            frames=video,
            objects=list(inst),
            answer=str(n),
            value=float(n),
            unit="count",
            extra={"label": label},
            balance_key=str(n),
        )


# --- appearance_order ----------------------------------------------------------------------------------------


@rule("appearance_order")
def appearance_order(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    """Four labels whose first sightings in the video are >= 1 s apart, in shuffled mention order.

    Videos are stretches of the trajectory, not only the whole of it: the first frame of a room scan already
    shows most labels (all "first seen" at 0 s, so no four are 1 s apart), and only the few labels revealed
    later can be ordered. Starting the video elsewhere reveals other labels later. A label set is asked once
    per scene, whatever the window."""
    groups = label_instances(facts)
    if len(groups) < APPEARANCE_LABELS or not facts.frames:
        return
    names = sorted(groups)
    label_vis = np.stack([facts.visibility.visible[:, groups[lab]].any(axis=1) for lab in names], axis=1)
    times = np.array([f.timestamp for f in facts.frames], dtype=np.float64).tolist()
    asked: set[frozenset[str]] = set()
    for start, end in _video_windows(len(facts.frames), ctx):
        video = _window_frames(start, end, ctx.config.video_frames)
        first_video = _first_times_in(label_vis, times, video)
        first_all = _first_times_in(label_vis, times, range(start, end + 1))
        by_time: dict[float, list[int]] = {}
        for lab, t in first_video.items():
            by_time.setdefault(t, []).append(lab)
        slots = sorted(by_time)
        if len(slots) < APPEARANCE_LABELS:
            ctx.drop(f"fewer than {APPEARANCE_LABELS} first appearances in the window")
            continue
        for _ in range(APPEARANCE_TRIES_PER_WINDOW):
            picked = sorted(ctx.rng.choice(len(slots), size=APPEARANCE_LABELS, replace=False))
            slot_times = [slots[i] for i in picked]
            gaps = (b - a for a, b in zip(slot_times, slot_times[1:], strict=False))  # np.diff, no overhead
            if min(gaps) < APPEARANCE_MIN_GAP_S:  # filter: first appearances >= 1 s apart
                ctx.drop(f"first appearances < {APPEARANCE_MIN_GAP_S:g} s apart")
                continue
            order_idx = [by_time[t][int(ctx.rng.integers(len(by_time[t])))] for t in slot_times]
            order = [names[i] for i in order_idx]
            if frozenset(order) in asked:
                ctx.drop("label set already asked")
                continue
            # the video's frames must not reorder what the whole stretch of trajectory shows
            if sorted(order_idx, key=lambda i: first_all[i]) != order_idx:
                ctx.drop("the full trajectory orders the labels differently")
                continue
            asked.add(frozenset(order))
            first_s = [first_video[i] for i in order_idx]
            yield _appearance_draft(facts, ctx, video, order, [groups[lab] for lab in order], first_s)
            break


def _appearance_draft(
    facts: SceneFacts,
    ctx: GenContext,
    video: list[int],
    order: list[str],
    instances: list[list[int]],
    first_s: list[float],
) -> Draft:
    wrong = [p for p in permutations(order) if list(p) != order]
    distractors = [wrong[i] for i in ctx.rng.permutation(len(wrong))[:3]]
    a, b, c, d = ctx.shuffled(order)  # mention order independent of the answer (guard 4)
    return Draft(
        question=ctx.template(APPEARANCE_TEMPLATES, a=a, b=b, c=c, d=d),
        frames=video,
        objects=[_first_instance(facts, inst, video) for inst in instances],
        choices=[", ".join(p) for p in [order, *distractors]],
        extra={
            "first_seen_s": dict(zip(order, first_s, strict=True)),
            "window_frames": [facts.frames[video[0]].index, facts.frames[video[-1]].index],
        },
        balance_key=order[0],
    )


def _video_windows(n_frames: int, ctx: GenContext) -> Iterator[tuple[int, int]]:
    """(start, end) frame positions of the videos tried: the whole trajectory first, then random stretches of
    at least `video_frames` frames (or the whole trajectory when it is shorter)."""
    yield 0, n_frames - 1
    min_len = min(n_frames, ctx.config.video_frames)
    for _ in range(APPEARANCE_WINDOWS):
        length = int(ctx.rng.integers(min_len, n_frames + 1))
        start = int(ctx.rng.integers(0, n_frames - length + 1))
        yield start, start + length - 1


def _window_frames(start: int, end: int, k: int) -> list[int]:
    """Up to k positions uniform over [start, end] (as GenContext.video_frames does for the whole trajectory)."""
    return sorted({round(x) for x in np.linspace(start, end, min(k, end - start + 1)).tolist()})


def _first_times_in(label_vis: np.ndarray, times: list[float], frames: Sequence[int]) -> dict[int, float]:
    """Label column -> timestamp of the first of `frames` where the label is visible (labels never seen left out)."""
    sub = (
        label_vis[frames.start : frames.stop : frames.step]
        if isinstance(frames, range)
        else label_vis[list(frames)]
    )
    seen = sub.any(axis=0).tolist()
    first = np.argmax(sub, axis=0).tolist()
    return {i: times[frames[k]] for i, (s, k) in enumerate(zip(seen, first, strict=True)) if s}


def _first_instance(facts: SceneFacts, inst: list[int], frames: Sequence[int]) -> int:
    """The label's instance (`inst`) seen first in `frames` (the first listed when none is seen)."""
    for f in frames:
        for o in inst:
            if facts.visibility.visible[f, o]:
                return o
    return inst[0]


# --- route_plan ----------------------------------------------------------------------------------------------


def turn_word(deg: float) -> str | None:
    """'turn left' / 'turn right' / 'turn back', or None when the turn is not clearly one of them."""
    a = abs(deg)
    if a < TURN_MIN_DEG or abs(a - BACK_DEG) < BACK_MARGIN_DEG:
        return None
    if a >= BACK_DEG:
        return "turn back"
    return "turn left" if deg > 0 else "turn right"


@rule("route_plan")
def route_plan(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    if facts.free_space is None or not np.asarray(facts.free_space.free).any():
        return
    video = ctx.video_frames(facts)
    seen = seen_mask(facts, video)
    named = [o for o in facts.single_instance() if seen[o]]
    if len(named) < 3:
        return
    planner = RoutePlanner(facts.free_space)
    centers = {o: facts.objects[o].centroid[:2].astype(np.float64) for o in named}
    snapped = {o: planner.nearest_free(centers[o], START_SNAP_M) for o in named}
    floor_points = {o: facts.objects[o].points[:, :2].astype(np.float64) for o in named}  # for _landmarks
    for a in ctx.shuffled(named):
        for c in ctx.shuffled(named):
            if c == a:
                continue
            if snapped[a] is None or snapped[c] is None:
                ctx.drop(f"start or goal > {START_SNAP_M:g} m from free floor")
                continue
            draft = _route_draft(facts, ctx, planner, a, c, named, centers, snapped, floor_points)
            if draft is not None:
                yield draft


def _route_draft(
    facts, ctx, planner: RoutePlanner, a: int, c: int, named, centers, snapped, floor_points
) -> Draft | None:
    start, goal = snapped[a], snapped[c]
    route = planner.route(start, goal)
    if route is None or route.length < ROUTE_MIN_LENGTH_M:  # filter: a path exists
        ctx.drop(f"no free-floor path of >= {ROUTE_MIN_LENGTH_M:g} m")
        return None
    origin = route.waypoints[0]
    facing = [b for b in named if b not in (a, c) and np.linalg.norm(centers[b] - origin) >= FACING_MIN_M]
    if not facing:
        ctx.drop(f"no object to face >= {FACING_MIN_M:g} m from the start")
        return None
    # VSI-Bench's routes often open "Go forward until ...": where an object lies straight along the first leg,
    # face it in about half of the routes, so the first action needs no turn
    seg0 = route.segments[0]
    straight = [b for b in facing if abs(signed_angle_deg(seg0, centers[b] - origin)) < STRAIGHT_AHEAD_DEG]
    pool = straight if straight and ctx.rng.random() < STRAIGHT_START_SHARE else facing
    b = pool[int(ctx.rng.integers(len(pool)))]
    turns = _turns(route, centers[b] - origin)
    if turns is None or not any(t for t in turns) or sum(1 for t in turns if t) > MAX_TURNS:
        ctx.drop(f"a bend between turn words, no turn, or > {MAX_TURNS} turns")
        return None
    alt = planner.alternative(start, goal, route)
    if (
        alt is not None
        and alt.length <= ALT_ROUTE_REL * route.length
        and route_gap(alt, route) >= ALT_ROUTE_GAP_M
        and _turns(alt, centers[b] - origin) != turns
    ):  # a near-shortest route round another side of an obstacle turns differently: not unique
        ctx.drop("a near-shortest route turns differently")
        return None
    words = [t for t in turns if t]
    names = [facts.objects[o].label for o in (a, b, c)]
    landmarks = _landmarks(floor_points, route, named, exclude=(a, c))
    actions = _actions(
        route, turns, names[2], [facts.objects[o].label if o is not None else None for o in landmarks]
    )
    distractors = _turn_distractors(ctx, words)
    return Draft(
        question=ctx.template(
            ROUTE_TEMPLATES, start=names[0], facing=names[1], goal=names[2], actions=actions
        ),
        frames=ctx.video_frames(facts),
        objects=[a, b, c, *dict.fromkeys(o for o in landmarks if o is not None)],
        choices=[", ".join(w.capitalize() for w in seq) for seq in [words, *distractors]],
        extra={
            "landmarks": [None if o is None else facts.objects[o].label for o in landmarks],
            "opens_with_turn": bool(turns[0]),
            "waypoints_xy": route.waypoints,
            "route_length_m": route.length,
            "turn_angles_deg": _angles(route, centers[b] - origin),
            "alternative_length_m": None if alt is None else alt.length,
        },
        balance_key=words[0],
    )


def _angles(route, heading: np.ndarray) -> list[float]:
    seg = route.segments
    return [signed_angle_deg(heading, seg[0]), *route.bends()]


def _turns(route, heading: np.ndarray) -> list[str | None] | None:
    """Turn words: first the turn from the facing direction onto the first leg ('' when it is straight ahead),
    then one per corner. None when any turn is ambiguous (between straight and 30 deg, or near 135 deg)."""
    angles = _angles(route, heading)
    out: list[str | None] = []
    for k, deg in enumerate(angles):
        if k == 0 and abs(deg) < STRAIGHT_AHEAD_DEG:
            out.append("")  # already facing the first leg
            continue
        word = turn_word(deg)
        if word is None:
            return None
        out.append(word)
    return out


def _landmarks(
    floor_points: dict[int, np.ndarray], route, named: Sequence[int], exclude: Sequence[int]
) -> list[int | None]:
    """Per inner leg (all but the last): the named object that marks its end, or None. "Go forward until the X"
    stops where X is reached, so the object's nearest floor-projected point is within LANDMARK_MAX_M of the
    corner the leg ends at, every other named object's at least LANDMARK_GAP_M farther, and that point lies
    past the middle of the leg. `floor_points`: object -> its points' x, y (float64)."""
    names = [o for o in named if o not in exclude]
    out: list[int | None] = []
    for k in range(len(route.segments) - 1):
        start, corner = route.waypoints[k], route.waypoints[k + 1]
        leg = corner - start
        if not names:
            out.append(None)
            continue
        nearest = [np.linalg.norm(floor_points[o] - corner, axis=1) for o in names]
        d = np.array([float(n.min()) for n in nearest])
        order = np.argsort(d, kind="stable")
        best = names[int(order[0])]
        runner_up = d[order[1]] if len(order) > 1 else np.inf
        reach = floor_points[best][int(np.argmin(nearest[int(order[0])]))]
        ahead = float((reach - start) @ leg) / max(float(leg @ leg), 1e-9)
        clear = d[order[0]] <= LANDMARK_MAX_M and runner_up - d[order[0]] >= LANDMARK_GAP_M and ahead >= 0.5
        out.append(best if clear else None)
    return out


def _actions(route, turns: list[str | None], goal: str, landmarks: Sequence[str | None]) -> str:
    """VSI-Bench's numbered plan: '[please fill in]' for each turn, 'Go forward until the X.' for a leg that
    ends at a landmark (and for the last leg, at the goal), else the leg's length."""
    steps: list[str] = []
    legs = np.linalg.norm(route.segments, axis=1)
    for k, leg in enumerate(legs):
        if turns[k]:
            steps.append("[please fill in]")
        if k == len(legs) - 1:
            steps.append(f"Go forward until the {goal}.")
        elif landmarks[k]:
            steps.append(f"Go forward until the {landmarks[k]}.")
        else:
            steps.append(f"Go forward about {leg:.1f} m.")
    return " ".join(f"{i + 1}. {s}" for i, s in enumerate(steps))


def _turn_distractors(ctx: GenContext, words: list[str]) -> list[list[str]]:
    """Wrong turn sequences of the same length: every turn mirrored, one turn changed, the turns reordered."""
    flip = {"turn left": "turn right", "turn right": "turn left", "turn back": "turn back"}
    pool: list[list[str]] = [[flip[w] for w in words]]
    singles = []
    for k, w in enumerate(words):
        for other in ("turn left", "turn right", "turn back"):
            if other != w:
                singles.append(words[:k] + [other] + words[k + 1 :])
    reorders = [list(p) for p in permutations(words)]
    pool += ctx.shuffled(singles) + ctx.shuffled(reorders)
    out: list[list[str]] = []
    for cand in pool:
        if cand != words and cand not in out:
            out.append(cand)
        if len(out) == 3:
            break
    return out


# --- multi_hop_relation --------------------------------------------------------------------------------------


def floor_angle(facts: SceneFacts, a: int, b: int, c: int) -> float:
    """Angle from A->B to A->C in the floor plane (degrees, + = left of the facing direction)."""
    pa, pb, pc = (facts.objects[o].centroid[:2].astype(np.float64) for o in (a, b, c))
    return signed_angle_deg(pb - pa, pc - pa)


def side_of(facts: SceneFacts, a: int, b: int, c: int) -> str | None:
    """'left' / 'right' of C standing at A facing B, None within SIDE_MARGIN_DEG of straight ahead or behind,
    or when more than one OBB corner of C falls on the other side."""
    return str(_sides(facts, [a, b, c])[0][0, 1, 2]) or None


def _sides(facts: SceneFacts, objs: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(n, n, n) arrays for C = objs[k] standing at objs[i] facing objs[j], all at once (the per-triple loop took
    most of a second per scene): 'left' / 'right' / '' and the signed angle (deg). '' = within SIDE_MARGIN_DEG
    of straight ahead or behind, or more than one floor-plane OBB corner of C on the other side."""
    cen = np.stack([facts.objects[o].centroid[:2] for o in objs]).astype(np.float64)
    corners = np.stack([facts.objects[o].obb_corners[::2, :2] for o in objs]).astype(np.float64)  # (n, 4, 2)
    facing = cen[None] - cen[:, None]  # (a, b, 2)
    theta = _angle(facing[:, :, None], cen[None, None] - cen[:, None, None])  # (a, b, c)
    to_corner = corners[None] - cen[:, None, None]  # (a, c, 4, 2)
    phi = _angle(facing[:, :, None, None], to_corner[:, None])  # (a, b, c, 4)
    other = (np.sign(phi) != np.sign(theta)[..., None]).sum(axis=-1)
    clear = (np.abs(theta) >= SIDE_MARGIN_DEG) & (np.abs(theta) <= 180.0 - SIDE_MARGIN_DEG) & (other <= 1)
    return np.where(clear, np.where(theta > 0, "left", "right"), ""), theta


def _angle(reference: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Signed floor-plane angle (deg) from reference to target, + = left; broadcasts (signed_angle_deg's array form)."""
    cross = reference[..., 0] * target[..., 1] - reference[..., 1] * target[..., 0]
    dot = reference[..., 0] * target[..., 0] + reference[..., 1] * target[..., 1]
    return np.degrees(np.arctan2(cross, dot))


@rule("multi_hop_relation")
def multi_hop_relation(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    """Hop 1 (allocentric): standing at A facing B, which of P, Q is on the asked side; A, B, P, Q single-instance,
    pairwise 0.3-5 m, P and Q clearly on opposite sides. Hop 2 (distance): which option label is closest to that
    object; its nearest label must be clearly nearer than every other label (runner-up gap), and the nearest
    label of the object on the other side is offered too (else the answer would be the only option that sits
    next to a named object: a text-only shortcut). Every (A, B, {P, Q}, side) is enumerated once."""
    video = ctx.video_frames(facts)
    seen = seen_mask(facts, video)
    named = [o for o in facts.single_instance() if seen[o]]
    if len(named) < 4:
        return
    groups = {lab: [o for o in inst if seen[o]] for lab, inst in label_instances(facts).items()}
    groups = {lab: inst for lab, inst in groups.items() if inst}
    n = len(named)
    cen = np.stack([facts.objects[o].centroid[:2] for o in named]).astype(np.float64)
    dist = np.linalg.norm(cen[:, None] - cen[None], axis=2)
    near = (dist >= PAIR_RANGE_M[0]) & (dist <= PAIR_RANGE_M[1])
    sides, theta = _sides(facts, named)
    quads = [
        (a, b, p, q)
        for a in range(n)
        for b in range(n)
        if a != b and near[a, b]
        for p in range(n)
        if sides[a, b, p] and near[a, p] and near[b, p]
        for q in range(n)
        if sides[a, b, q] and sides[a, b, q] != sides[a, b, p] and near[a, q] and near[b, q] and near[p, q]
    ]
    hop2 = {o: _nearest_labels(facts, o, groups) for o in named}
    # labels that are some object's nearest label: the plausible answers, offered as distractors first so a
    # label that is often right is also often offered wrong (the option-text prior stays near chance)
    plausible = {hop2[o][0][0] for o in named if hop2[o]}
    for k in ctx.rng.permutation(len(quads)):
        ia, ib, ip, iq = quads[k]
        hop1 = {
            "target": facts.objects[named[ip]].label,
            "target_angle_deg": float(theta[ia, ib, ip]),
            "other_angle_deg": float(theta[ia, ib, iq]),
            "other_side": str(sides[ia, ib, iq]),
        }
        quad = (named[ia], named[ib], named[ip], named[iq])
        draft = _multi_hop_draft(facts, ctx, video, hop2, plausible, quad, str(sides[ia, ib, ip]), hop1)
        if draft is not None:
            yield draft


def _nearest_labels(
    facts: SceneFacts, target: int, groups: dict[str, list[int]]
) -> list[tuple[str, float, int]]:
    """(label, min closest-point distance to target, nearest instance), nearest first; target's label left out."""
    own = facts.objects[target].label
    out = []
    for lab, inst in groups.items():
        if lab == own:
            continue
        d = facts.closest[target, inst]
        k = int(np.argmin(d))
        out.append((lab, float(d[k]), int(inst[k])))
    return sorted(out, key=lambda e: e[1])


def _multi_hop_draft(facts, ctx, video, hop2, plausible, quad, side, hop1) -> Draft | None:
    a, b, target, other = quad
    named_labels = {facts.objects[o].label for o in quad}
    ranked = [e for e in hop2[target] if e[0] not in named_labels]
    if len(ranked) < 4 or not clear_gap(ranked[0][1], ranked[1][1]):  # distance hop: a clear nearest label
        ctx.drop("no clear nearest label at the distance hop")
        return None
    answer, d_answer, answer_obj = ranked[0]
    wrong_hop = next((e[0] for e in hop2[other] if e[0] not in named_labels), None)
    pool = [lab for lab, d, _ in ranked[1:]]
    if wrong_hop is None or wrong_hop not in pool:  # the other side's neighbour must be a (wrong) option
        ctx.drop("the other side's neighbour is not a wrong option")
        return None
    rest = [lab for lab in ctx.shuffled(pool) if lab != wrong_hop]
    rest.sort(key=lambda lab: lab not in plausible)  # stable: plausible answers first, random within
    distractors = [wrong_hop, *rest[:2]]
    dists = {lab: d for lab, d, _ in ranked}
    p_name, q_name = ctx.shuffled([facts.objects[target].label, facts.objects[other].label])
    question = ctx.template(
        MULTI_HOP_TEMPLATES, a=facts.objects[a].label, b=facts.objects[b].label, p=p_name, q=q_name, side=side
    )
    return Draft(
        question=question,
        frames=video,
        objects=[a, b, target, other, answer_obj],
        choices=[answer, *distractors],
        extra={
            "hop1": hop1,
            "hop2_distances_m": {lab: dists[lab] for lab in [answer, *distractors]},
            "runner_up_gap_m": ranked[1][1] - d_answer,
        },
        balance_key=answer,
    )
