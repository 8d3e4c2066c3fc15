"""Normalisation of community QA text: media tags, reasoning, options, answers, numbers."""

from __future__ import annotations

import pytest

from sources.community.text import (
    mc_letter,
    option_texts,
    parse_number,
    parse_options,
    split_reasoning,
    strip_media_tags,
)


def test_media_tags_and_reasoning_are_kept_apart():
    assert strip_media_tags("<image>\n<image>\nWhere is the bed?") == "Where is the bed?"
    answer, reasoning = split_reasoning("<think>The bed is by the wall.</think><answer>B. left</answer>")
    assert (answer, reasoning) == ("B. left", "The bed is by the wall.")
    assert split_reasoning("C") == ("C", None)


def test_inline_options_take_the_last_run_not_an_instruction_example():
    text = "For example 'A. Above B. Under'. What is right of the sofa? A. TV B. Wooden dining table C. Lamp"
    stem, texts, tail = parse_options(text)
    assert texts == ["TV", "Wooden dining table", "Lamp"]
    assert stem.endswith("What is right of the sofa?") and tail == ""


def test_line_options_keep_the_text_after_them():
    text = "Which is closer to the door?\nOptions:\n(A) chair\n(B) table\nAnswer with the letter."
    stem, texts, tail = parse_options(text)
    assert (stem, texts, tail) == (
        "Which is closer to the door?",
        ["chair", "table"],
        "Answer with the letter.",
    )
    assert parse_options("How many chairs are in this room?") is None


def test_option_field_lettered_or_not():
    assert option_texts("A. right\nB. front-up\nC. back-left") == ["right", "front-up", "back-left"]
    assert option_texts(["left", "right"]) == ["left", "right"]


@pytest.mark.parametrize(
    "answer,letter",
    [("B", "B"), ("(B)", "B"), ("B.", "B"), ("B. table", "B"), ("table", "B"), ("The answer is B.", "B"),
     ("A. table", None), ("E", None), ("sofa", None)],
)  # fmt: skip
def test_mc_letter(answer, letter):
    assert mc_letter(answer, ["chair", "table", "lamp"]) == letter


def test_numbers_from_sentences_in_the_question_unit():
    assert parse_number("towel's central depth is estimated to be about 1.5 meters.", "m") == 1.5
    assert parse_number("3", None) == 3.0
    assert parse_number("It is 150 cm long.", "m") == pytest.approx(1.5)
    assert parse_number("about 1.2 meters", "cm") == pytest.approx(120)
    assert parse_number("12.5 square meters", "m2") == 12.5
    assert parse_number("between 1.5 and 2 meters", "m") is None  # two numbers: never guessed
    assert parse_number("about 3 meters", "m2") is None  # a length where an area is asked
