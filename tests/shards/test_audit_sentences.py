"""The sentence audit: fixed sentences and sentences that predict the answer, on rows built by hand."""

from __future__ import annotations

import numpy as np

from shards.audit_sentences import sentence_audit, sentences


def mc(question: str, texts: list[str], right: int, labels=()) -> dict:
    options = [f"{chr(65 + i)}. {t}" for i, t in enumerate(texts)]
    return {"question": question, "options": options, "answer": chr(65 + right), "labels": list(labels)}


def test_sentences_mask_labels_digits_and_options():
    q = "These are frames of a video.\nHow many lamps are there? The room is 3.5 m wide.\nA. 2\nB. 3\nOptions:"
    assert sentences(q, ["lamp"]) == [
        "These are frames of a video.",
        "How many <obj> are there?",
        "The room is # m wide.",
        "Options:",
    ]


def test_a_wording_that_gives_the_answer_away_is_flagged():
    rng = np.random.default_rng(0)
    rows = []
    for k in range(200):
        back = k % 2 == 0
        note = "Remember that turning around counts." if back else "Look carefully."  # the leak
        order = rng.permutation(3)
        texts = [["back", "left", "right"][i] for i in order]
        right = texts.index("back") if back else texts.index(["left", "right"][k % 4 // 2])
        rows.append(mc(f"Where is the lamp? {note}", texts, right, ["lamp"]))
    found = sentence_audit(rows)
    leaks = {p["sentence"]: p for p in found.predictive}
    assert leaks["Remember that turning around counts."]["label"] == "back"
    assert leaks["Remember that turning around counts."]["accuracy"] == 1.0
    assert found.fixed == {"Where is the <obj>?": 1.0}


def test_a_sentence_that_only_narrows_the_options_is_not_a_leak():
    # a level definition tells the label set, which the options show anyway: chance is measured per sample
    rng = np.random.default_rng(1)
    rows = []
    for k in range(300):
        if k % 2:
            texts, note = ["left", "right"], "Left or right only."
        else:
            texts, note = ["front", "left", "back", "right"], "Each direction is a quarter of the circle."
        rows.append(mc(f"Where is it? {note}", texts, int(rng.integers(len(texts)))))
    assert sentence_audit(rows).predictive == []


def test_numeric_sentences_are_judged_against_the_subtask_s_own_high_low_rate():
    # counts 1, 2, 3 equally often: two thirds are at or below the median ("low") whatever the wording says
    rows = [
        {"question": f"How many lamps are there? {['Count once.', 'Count each.'][k % 2]}", "options": None,
         "answer": str(1 + k % 3), "value": float(1 + k % 3), "labels": ["lamp"]}
        for k in range(300)
    ]  # fmt: skip
    assert not sentence_audit(rows).predictive  # "low" 67 % everywhere is the prior, not the sentence
    leak = [dict(r, question="How many lamps are there? Only a few.") if r["value"] == 1 else r for r in rows]
    assert {p["sentence"] for p in sentence_audit(leak).predictive} == {"Only a few."}
