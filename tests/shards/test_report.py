"""The HTML report parses, every image it shows exists and every plot is a valid PNG."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import cv2
import pytest

from shards.audit import audit
from shards.report import report
from tests.shards.corpus_factory import Plan, build_corpus

PLAN = Plan(
    scenes=4,
    frames=4,
    per_scene={
        "relative_distance": 25,
        "camera_left_right": 25,
        "object_height": 25,
        "view_correspondence": 5,
    },
    failed_scenes=1,
    rejects_per_scene=1,
)


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.headings: list[str] = []
        self.open_tags: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs)["src"] or "")
        elif tag in ("h2", "h3"):
            self._in_heading = True
            self.headings.append("")
        if tag not in ("img", "meta", "br"):
            self.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open_tags and self.open_tags[-1] == tag, f"</{tag}> closes {self.open_tags[-1:]}"
        self.open_tags.pop()
        if tag in ("h2", "h3"):
            self._in_heading = False

    def handle_data(self, data: str) -> None:
        if self._in_heading:
            self.headings[-1] += data


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    build_corpus(out, PLAN)
    audit(out)
    return out


def parse(page: Path) -> Page:
    parser = Page()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    assert parser.open_tags == [], "unclosed tags"
    return parser


def test_report_is_self_contained(corpus: Path) -> None:
    page = report(corpus)
    assert page == corpus / "report" / "index.html"
    parsed = parse(page)
    pngs = [src for src in parsed.images if src.endswith(".png")]
    frames = [src for src in parsed.images if src.startswith("frames/")]
    assert {
        "categories.png",
        "subtasks.png",
        "letters.png",
        "values.png",
        "answer_texts.png",
        "rejects.png",
        "blind.png",
    } <= set(pngs)
    for src in parsed.images:
        assert not src.startswith(("/", "http")) and (page.parent / src).is_file(), src
    for src in pngs:
        assert (page.parent / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = cv2.imread(str(page.parent / src))
        assert image is not None and image.shape[0] > 50 and image.shape[1] > 50
    # one rendered sample per subtask (four here), each with its frames as thumbnails
    samples = [h for h in parsed.headings if h.split()[0] in PLAN.per_scene]
    assert sorted(h.split()[0] for h in samples) == sorted(PLAN.per_scene)
    assert frames and all(cv2.imread(str(page.parent / f)) is not None for f in frames)
    text = page.read_text(encoding="utf-8")
    assert "Shortcut audit" in text and "Failed scenes" in text and "corrupt mesh in scene0004_00" in text


def test_report_into_another_folder_with_few_samples(corpus: Path, tmp_path: Path) -> None:
    page = report(corpus, tmp_path / "r", samples=2)
    parsed = parse(page)
    assert page.parent == tmp_path / "r"
    rendered = [h for h in parsed.headings if h.split()[0] in PLAN.per_scene]
    # round-robin over categories: metric_measurement first, then spatial_relations
    assert [h.split()[0] for h in rendered] == ["object_height", "relative_distance"]
    assert all((page.parent / src).is_file() for src in parsed.images)


def test_missing_frame_is_reported_not_linked(tmp_path: Path) -> None:
    out = tmp_path / "c"
    build_corpus(out, Plan(scenes=1, frames=1, per_scene={"object_height": 3}))
    (out / "media" / "synth" / "scene0000_00" / "000000.jpg").unlink()
    page = report(out)
    parsed = parse(page)
    assert not [src for src in parsed.images if src.startswith("frames/")]
    assert "missing frame synth/scene0000_00/000000.jpg" in page.read_text(encoding="utf-8")
    assert "blind.png" not in parsed.images  # no audit run


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium here (apt-get install chromium)")
def test_report_renders_in_a_real_headless_browser(corpus: Path, tmp_path: Path) -> None:
    page = report(corpus)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-500:]
    assert dom.stdout.count("<img") >= 3 and "Shortcut audit" in dom.stdout  # the browser parsed the page
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[:2] == (1600, 1200)
    assert image.std() > 10  # something was drawn, not a blank page
