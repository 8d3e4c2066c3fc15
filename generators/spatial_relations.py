"""Spatial relations (docs/taxonomy.md): relative distance, height, size and camera-frame position of
several objects seen from one viewpoint, all multiple choice."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from generators.base import Draft, GenContext
from generators.common import (
    clear_gap,
    join_names,
    label_distances,
    label_instances,
    label_of,
    pairs,
    seen_objects,
    single_instance_objects,
    valid_frame,
    visible_objects,
)
from generators.guards import mention_pair, mention_variants
from generators.registry import rule
from schemas.facts import SceneFacts

DISTANCE_GAP_M, DISTANCE_GAP_REL = 0.15, 0.10  # relative_distance(_far), closer_of_two
HEIGHT_GAP_M = 0.1  # higher_lower
SIZE_RATIO = 1.2  # size_comparison
LEFT_RIGHT_GAP = 0.05  # camera_left_right: share of the image width
DEPTH_GAP_M, DEPTH_GAP_REL = 0.2, 0.10  # camera_near_far
N_OPTIONS = 4
OPTION_SETS_PER_ANSWER = 3  # relative_distance(_far): distractor sets tried per (reference, answer)

RELATIVE_DISTANCE_TEMPLATES = (
    "Measuring from the closest point of each object, which of these objects ({choices}) is the closest to the {ref}?",
    "Which of these objects ({choices}) is nearest to the {ref}, measuring between their closest points?",
    "Of the following objects ({choices}), which one lies closest to the {ref}? Use the distance between nearest points.",
    "Taking the distance between the nearest points of the objects, which of {choices} is the closest to the {ref}?",
    "Which object among {choices} is the shortest distance from the {ref}, measured from the closest point of each object?",
    "Considering closest points, which of the following is nearest to the {ref}: {choices}?",
)
RELATIVE_DISTANCE_FAR_TEMPLATES = (
    "Measuring from the closest point of each object, which of these objects ({choices}) is the farthest from the {ref}?",
    "Which of these objects ({choices}) is farthest from the {ref}, measuring between their closest points?",
    "Of the following objects ({choices}), which one lies farthest from the {ref}? Use the distance between nearest points.",
    "Taking the distance between the nearest points of the objects, which of {choices} is the farthest from the {ref}?",
    "Which object among {choices} is the greatest distance from the {ref}, measured from the closest point of each object?",
    "Considering closest points, which of the following is most distant from the {ref}: {choices}?",
)
CLOSER_OF_TWO_TEMPLATES = (
    "Measuring from the closest point of each object, which is closer to the {x}, the {a} or the {b}?",
    "Which is closer to the {x}: the {a} or the {b}?",
    "Is the {a} or the {b} nearer to the {x}?",
    "Between the {a} and the {b}, which one is at a shorter distance from the {x} (closest points)?",
    "Which of the two, the {a} or the {b}, lies nearer to the {x}?",
)
HIGHER_TEMPLATES = (
    "Which object's top is higher, the {a} or the {b}?",
    "Comparing the tops of the {a} and the {b}, which one reaches higher?",
    "Which has its top at a greater height: the {a} or the {b}?",
    "Whose top is higher above the floor, the {a}'s or the {b}'s?",
    "Considering the top of each object, which is higher: the {a} or the {b}?",
)
LOWER_TEMPLATES = (
    "Which object's top is lower, the {a} or the {b}?",
    "Comparing the tops of the {a} and the {b}, which one is lower?",
    "Which has its top at a smaller height: the {a} or the {b}?",
)
SIZE_TEMPLATES = {
    "volume": (
        "Which object is {comp} by volume, the {a} or the {b}?",
        "Comparing the volumes of their bounding boxes, which is {comp}: the {a} or the {b}?",
        "Judging by volume, is the {a} or the {b} {comp}?",
    ),
    "longest_edge": (
        "Comparing their longest dimensions, which is {comp}: the {a} or the {b}?",
        "Which object is {comp} when measured along its longest dimension, the {a} or the {b}?",
        "Judging by the longest edge (length, width or height), is the {a} or the {b} {comp}?",
    ),
}
LEFT_RIGHT_TEMPLATES = (
    "In this image, is the {a} to the left or to the right of the {b}?",
    "From the camera's viewpoint, is the {a} left or right of the {b}?",
    "Looking at this picture, on which side of the {b} does the {a} appear, left or right?",
    "As seen by the camera, is the {a} positioned to the left or to the right of the {b}?",
    "In the image, does the {a} appear left or right of the {b}?",
)
NEAR_TEMPLATES = (
    "Which is closer to the camera in this image, the {a} or the {b}?",
    "From the viewpoint of this photo, which object is nearer: the {a} or the {b}?",
    "In this image, which one is at a smaller depth from the camera, the {a} or the {b}?",
    "Which appears closer to the viewer, the {a} or the {b}?",
    "Is the {a} or the {b} nearer to the camera that took this picture?",
)
FAR_TEMPLATES = (
    "Which is farther from the camera in this image, the {a} or the {b}?",
    "From the viewpoint of this photo, which object is more distant: the {a} or the {b}?",
    "In this image, which one is at a greater depth from the camera, the {a} or the {b}?",
)


def _relative_distance(facts: SceneFacts, ctx: GenContext, farthest: bool) -> Iterator[Draft]:
    """Four candidate labels vs a single-instance reference. The answer label is drawn first and the three
    distractors among the labels that clear the gap from it, so every draft passes the filter by
    construction (no wasted 4-subsets) and enumeration stays O(refs x labels)."""
    frames = ctx.video_frames(facts)
    templates = RELATIVE_DISTANCE_FAR_TEMPLATES if farthest else RELATIVE_DISTANCE_TEMPLATES
    groups = {lab: inst for lab, inst in label_instances(facts).items() if seen_objects(facts, inst, frames)}
    refs = seen_objects(facts, single_instance_objects(facts), frames)
    table = {ref: label_distances(facts, ref, groups) for ref in refs}
    candidates = [(ref, lab) for ref in refs for lab in table[ref]]
    beaten: dict[tuple[int, str], list[str]] = {}
    for ref, answer in candidates:
        dist = table[ref]
        d_answer = dist[answer][0]
        beaten[(ref, answer)] = [
            lab
            for lab, (d, _) in dist.items()
            if lab != answer
            and (d < d_answer if farthest else d > d_answer)
            and clear_gap(d_answer, d, DISTANCE_GAP_M, DISTANCE_GAP_REL)
        ]
    usable = [c for c in ctx.shuffled(candidates) if len(beaten[c]) >= N_OPTIONS - 1]
    ctx.drop(
        f"fewer than {N_OPTIONS - 1} labels clear the gap (>= {DISTANCE_GAP_M:g} m, >= {DISTANCE_GAP_REL:.0%})",
        len(candidates) - len(usable),
    )
    # A (reference, answer) may be asked with several distractor sets (other labels named: another question);
    # passes go round all of them before any is asked again, so the drafts pulled first stay varied.
    asked: set[tuple[int, frozenset[str]]] = set()
    for _ in range(OPTION_SETS_PER_ANSWER):
        for ref, answer in usable:
            pool = beaten[(ref, answer)]
            distractors = [pool[i] for i in ctx.rng.choice(len(pool), N_OPTIONS - 1, replace=False)]
            key = (ref, frozenset([answer, *distractors]))
            if key in asked:
                ctx.drop("option set already asked")
                continue
            asked.add(key)
            dist = table[ref]
            template = ctx.pick(templates)

            def make(
                named: list[str],
                ref: int = ref,
                dist: dict = dist,
                template: str = template,
                answer: str = answer,
                distractors: list[str] = distractors,
            ) -> Draft:
                return Draft(
                    question=template.format(choices=join_names(named), ref=label_of(facts, ref)),
                    frames=frames,
                    objects=[ref, *(dist[lab][1] for lab in named)],
                    choices=[answer, *distractors],
                    extra={"distances": {lab: dist[lab][0] for lab in named}},
                    balance_key=answer,
                )

            yield mention_variants(make, answer, ctx.shuffled(distractors))


@rule("relative_distance")
def relative_distance(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    yield from _relative_distance(facts, ctx, farthest=False)


@rule("relative_distance_far")
def relative_distance_far(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    yield from _relative_distance(facts, ctx, farthest=True)


@rule("closer_of_two")
def closer_of_two(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    """X, A, B single-instance: every reference X with every unordered pair {A, B} whose distances to X differ
    by the clear gap (each such triple is its own question; one pair per (X, answer) left most unasked)."""
    frames = ctx.video_frames(facts)
    objs = seen_objects(facts, single_instance_objects(facts), frames)
    candidates = [(x, pair) for x in objs for pair in pairs([o for o in objs if o != x])]
    for x, pair in ctx.shuffled(candidates):
        d = facts.closest[x]
        if not clear_gap(d[pair[0]], d[pair[1]], DISTANCE_GAP_M, DISTANCE_GAP_REL):
            ctx.drop(f"distance gap < {DISTANCE_GAP_M:g} m or < {DISTANCE_GAP_REL:.0%}")
            continue
        answer, other = sorted(pair, key=lambda o: d[o])
        template = ctx.pick(CLOSER_OF_TWO_TEMPLATES)

        def make(
            a: int,
            b: int,
            x: int = x,
            d: np.ndarray = d,
            template: str = template,
            answer: int = answer,
            other: int = other,
        ) -> Draft:
            return Draft(
                question=template.format(x=label_of(facts, x), a=label_of(facts, a), b=label_of(facts, b)),
                frames=frames,
                objects=[x, a, b],
                choices=[label_of(facts, answer), label_of(facts, other)],
                extra={"distances": {label_of(facts, o): float(d[o]) for o in (a, b)}},
                balance_key=label_of(facts, answer),
            )

        yield mention_pair(make, answer, other)


@rule("higher_lower")
def higher_lower(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    frames = ctx.video_frames(facts)
    objs = seen_objects(facts, single_instance_objects(facts), frames)
    tops = {o: float(facts.objects[o].aabb_max[2]) for o in objs}
    for pair in ctx.shuffled(pairs(objs)):
        if abs(tops[pair[0]] - tops[pair[1]]) < HEIGHT_GAP_M:
            ctx.drop(f"tops < {HEIGHT_GAP_M:g} m apart")
            continue
        high, low = sorted(pair, key=lambda o: -tops[o])
        ask_higher = bool(ctx.rng.integers(2))
        answer, other = (high, low) if ask_higher else (low, high)
        template = ctx.pick(HIGHER_TEMPLATES if ask_higher else LOWER_TEMPLATES)

        def make(a: int, b: int, answer: int = answer, other: int = other, template: str = template) -> Draft:
            return Draft(
                question=template.format(a=label_of(facts, a), b=label_of(facts, b)),
                frames=frames,
                objects=[a, b],
                choices=[label_of(facts, answer), label_of(facts, other)],
                extra={
                    "tops": {label_of(facts, o): tops[o] for o in (a, b)},
                    "asked": "higher" if template in HIGHER_TEMPLATES else "lower",
                },
                balance_key=label_of(facts, answer),
            )

        yield mention_pair(make, answer, other)


def _size(facts: SceneFacts, obj: int, measure: str) -> float:
    o = facts.objects[obj]
    return o.volume if measure == "volume" else o.longest_edge


@rule("size_comparison")
def size_comparison(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    frames = ctx.video_frames(facts)
    objs = seen_objects(facts, single_instance_objects(facts), frames)
    for pair in ctx.shuffled(pairs(objs)):
        # The measure is drawn per pair; the other one is tried only when the drawn one is too close to call.
        for measure in ctx.shuffled(list(SIZE_TEMPLATES)):
            small, big = sorted(pair, key=lambda o, m=measure: _size(facts, o, m))
            s_small, s_big = _size(facts, small, measure), _size(facts, big, measure)
            if s_small > 0 and s_big / s_small >= SIZE_RATIO:
                break
        else:
            ctx.drop(f"size ratio < {SIZE_RATIO:g} by every measure")
            continue
        ask_larger = bool(ctx.rng.integers(2))
        answer, other = (big, small) if ask_larger else (small, big)
        template = ctx.pick(SIZE_TEMPLATES[measure])
        comp = "larger" if ask_larger else "smaller"

        def make(
            a: int,
            b: int,
            answer: int = answer,
            other: int = other,
            template: str = template,
            comp: str = comp,
            measure: str = measure,
            ratio: float = s_big / s_small,
        ) -> Draft:
            return Draft(
                question=template.format(comp=comp, a=label_of(facts, a), b=label_of(facts, b)),
                frames=frames,
                objects=[a, b],
                choices=[label_of(facts, answer), label_of(facts, other)],
                extra={
                    "measure": measure,
                    "sizes": {label_of(facts, o): _size(facts, o, measure) for o in (a, b)},
                    "ratio": ratio,
                    "asked": comp,
                },
                balance_key=label_of(facts, answer),
            )

        yield mention_pair(make, answer, other)


def _frame_pairs(facts: SceneFacts, values: np.ndarray) -> list[tuple[int, int, int]]:
    """(frame, a, b) for every pair of single-instance objects visible in a valid frame with finite values."""
    out = []
    for f in range(len(facts.frames)):
        if not valid_frame(facts, f):
            continue
        objs = [o for o in visible_objects(facts, f) if np.isfinite(values[f, o])]
        out.extend((f, a, b) for a, b in pairs(objs))
    return out


@rule("camera_left_right")
def camera_left_right(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    cx = facts.visibility.center_x
    for f, *pair in ctx.shuffled(_frame_pairs(facts, cx)):
        if abs(cx[f, pair[0]] - cx[f, pair[1]]) < LEFT_RIGHT_GAP:
            ctx.drop(f"centres < {LEFT_RIGHT_GAP:.0%} of the image width apart")
            continue
        a, b = ctx.shuffled(pair)
        side = "left" if cx[f, a] < cx[f, b] else "right"
        yield Draft(
            question=ctx.template(LEFT_RIGHT_TEMPLATES, a=label_of(facts, a), b=label_of(facts, b)),
            frames=[f],
            objects=[a, b],
            choices=[side, "right" if side == "left" else "left"],
            extra={"center_x": {label_of(facts, o): float(cx[f, o]) for o in (a, b)}},
            balance_key=side,
        )


@rule("camera_near_far")
def camera_near_far(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    depth = facts.visibility.depth
    for f, *pair in ctx.shuffled(_frame_pairs(facts, depth)):
        if not clear_gap(depth[f, pair[0]], depth[f, pair[1]], DEPTH_GAP_M, DEPTH_GAP_REL):
            ctx.drop(f"depth gap < {DEPTH_GAP_M:g} m or < {DEPTH_GAP_REL:.0%}")
            continue
        near, far = sorted(pair, key=lambda o: depth[f, o])
        ask_near = bool(ctx.rng.integers(2))
        answer, other = (near, far) if ask_near else (far, near)
        template = ctx.pick(NEAR_TEMPLATES if ask_near else FAR_TEMPLATES)

        def make(
            a: int,
            b: int,
            f: int = f,
            answer: int = answer,
            other: int = other,
            template: str = template,
            asked: str = "near" if ask_near else "far",
        ) -> Draft:
            return Draft(
                question=template.format(a=label_of(facts, a), b=label_of(facts, b)),
                frames=[f],
                objects=[a, b],
                choices=[label_of(facts, answer), label_of(facts, other)],
                extra={"depth": {label_of(facts, o): float(depth[f, o]) for o in (a, b)}, "asked": asked},
                balance_key=label_of(facts, answer),
            )

        yield mention_pair(make, answer, other)
