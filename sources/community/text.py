"""Text normalisation of community QA: media tags, reasoning, options, answers (docs/ingest.md#normalisation)."""

from __future__ import annotations

import re

MC_INSTRUCTION = "Answer with the option's letter from the given choices directly."

_TAG = re.compile(r"<(image|video)>\s*", re.I)
_THINK = re.compile(r"<think>(.*?)</think>", re.S | re.I)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_LINE_OPTION = re.compile(r"^\s*\(?([A-H])[.):]\s*(\S.*?)\s*$")
_INLINE_MARK = re.compile(r"(?:(?<=\s)|^)\(?([A-H])[.)]\s+")
_LETTER_ANSWER = re.compile(r"^\s*\(?([A-H])\)?(?:[.):]\s*(.*?))?\s*\.?\s*$", re.S)
_ANSWER_IS = re.compile(r"\b(?:answer|option) is:?\s*\(?([A-H])\)?(?:[.):\s]|$)", re.I)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?!\.?\d)")
_OPTIONS_LABEL = re.compile(r"\s*(options|choices)\s*:?\s*$", re.I)


def strip_media_tags(text: str) -> str:
    """Drop <image>/<video> placeholders: exports put one per medium before the question again."""
    return _TAG.sub("", text).strip()


def split_reasoning(answer: str) -> tuple[str, str | None]:
    """(answer, reasoning): `<think>` text kept apart; `<answer>..</answer>` unwrapped."""
    reasoning = None
    think = _THINK.search(answer)
    if think:
        reasoning = think.group(1).strip() or None
        answer = _THINK.sub("", answer)
    wrapped = _ANSWER.search(answer)
    if wrapped:
        answer = wrapped.group(1)
    return answer.strip(), reasoning


def _consecutive(letters: list[str]) -> bool:
    return len(letters) >= 2 and letters == [chr(ord("A") + i) for i in range(len(letters))]


def parse_line_options(text: str) -> tuple[str, list[str], str] | None:
    """Options written one per line ("A. x" / "(A) x" / "A) x"): (stem, option texts, text after them)."""
    lines = text.split("\n")
    for start, line in enumerate(lines):
        m = _LINE_OPTION.match(line)
        if not m or m.group(1) != "A":
            continue
        texts, end = [], start
        while end < len(lines):
            m = _LINE_OPTION.match(lines[end])
            if not m or m.group(1) != chr(ord("A") + len(texts)):
                break
            texts.append(m.group(2))
            end += 1
        if len(texts) >= 2:
            stem = "\n".join(lines[:start])
            stem = _OPTIONS_LABEL.sub("", stem).strip()
            return stem, texts, "\n".join(lines[end:]).strip()
    return None


def parse_inline_options(text: str) -> tuple[str, list[str], str] | None:
    """Options inline at the end of the question ("... ? A. TV B. Wooden table C. Sofa"): the last run of
    markers A, B, C... in order; (stem, option texts, "")."""
    marks = list(_INLINE_MARK.finditer(text))
    for i in range(len(marks) - 1, -1, -1):
        if marks[i].group(1) != "A":
            continue
        run = [marks[i]]
        for m in marks[i + 1 :]:
            if m.group(1) == chr(ord("A") + len(run)):
                run.append(m)
        if len(run) < 2:
            continue
        texts = []
        for k, m in enumerate(run):
            end = run[k + 1].start() if k + 1 < len(run) else len(text)
            texts.append(text[m.end() : end].strip().rstrip(",;").strip())
        if all(texts):
            stem = _OPTIONS_LABEL.sub("", text[: run[0].start()]).strip()
            return stem, texts, ""
    return None


def parse_options(text: str) -> tuple[str, list[str], str] | None:
    return parse_line_options(text) or parse_inline_options(text)


def option_texts(raw: list[str] | str) -> list[str]:
    """Options from a separate field: a list or a newline-separated string, lettered or not."""
    items = raw.split("\n") if isinstance(raw, str) else [str(o) for o in raw]
    items = [i.strip() for i in items if i and i.strip()]
    texts = []
    for k, item in enumerate(items):
        m = _LINE_OPTION.match(item)
        texts.append(m.group(2) if m and m.group(1) == chr(ord("A") + k) else item)
    return texts


def lettered(texts: list[str]) -> list[str]:
    return [f"{chr(ord('A') + i)}. {t}" for i, t in enumerate(texts)]


def mc_letter(answer: str, texts: list[str]) -> str | None:
    """The correct letter from "B", "(B)", "B. text", "The answer is B", or the option's own text."""
    n = len(texts)
    m = _LETTER_ANSWER.match(answer)
    if m and ord(m.group(1)) - ord("A") < n:
        letter, rest = m.group(1), (m.group(2) or "").strip().rstrip(".").strip()
        if not rest or rest.lower() == texts[ord(letter) - ord("A")].rstrip(".").lower():
            return letter
        return None  # a letter whose text is another option's: inconsistent, never guessed
    norm = answer.strip().rstrip(".").strip().lower()
    hits = [i for i, t in enumerate(texts) if t.rstrip(".").strip().lower() == norm]
    if len(hits) == 1:
        return chr(ord("A") + hits[0])
    m = _ANSWER_IS.search(answer)
    if m and ord(m.group(1)) - ord("A") < n:
        return m.group(1)
    return None


_UNITS = {
    "m": ("m", 1.0),
    "meter": ("m", 1.0),
    "meters": ("m", 1.0),
    "metre": ("m", 1.0),
    "metres": ("m", 1.0),
    "cm": ("m", 0.01),
    "centimeter": ("m", 0.01),
    "centimeters": ("m", 0.01),
    "centimetre": ("m", 0.01),
    "centimetres": ("m", 0.01),
    "mm": ("m", 0.001),
    "millimeters": ("m", 0.001),
    "m2": ("m2", 1.0),
    "m²": ("m2", 1.0),
    "square meters": ("m2", 1.0),
    "square metres": ("m2", 1.0),
    "square meter": ("m2", 1.0),
    "m3": ("m3", 1.0),
    "m³": ("m3", 1.0),
    "cubic meters": ("m3", 1.0),
    "cubic metres": ("m3", 1.0),
}
_TARGET = {"m": ("m", 1.0), "cm": ("m", 0.01), "m2": ("m2", 1.0), "m3": ("m3", 1.0)}
_UNIT_AFTER = re.compile(
    r"\s*(square met(?:er|re)s?|cubic met(?:er|re)s?|centimet(?:er|re)s?|millimeters|met(?:er|re)s?|m²|m³|m2|m3|cm|mm|m)\b",
    re.I,
)


def parse_number(answer: str, unit: str | None) -> float | None:
    """A bare number, or the one number of a sentence ("... about 1.5 meters."), converted to `unit`
    (m, cm, m2, m3; None: counts, taken as written). Two numbers, or an incompatible unit: None."""
    text = answer.strip()
    numbers = list(_NUMBER.finditer(text))
    if len(numbers) != 1:
        return None
    m = numbers[0]
    value = float(m.group(0))
    if unit is None:
        return value
    after = _UNIT_AFTER.match(text, m.end())
    if after is None:
        return value  # no unit written: the question's own unit
    said = _UNITS.get(after.group(1).lower())
    want = _TARGET.get(unit)
    if said is None or want is None or said[0] != want[0]:
        return None
    return value * said[1] / want[1]


def format_number(value: float) -> str:
    """Bare answer text: integers without a decimal point, others with at most 2 decimals."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")
