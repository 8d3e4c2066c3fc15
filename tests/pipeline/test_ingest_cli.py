"""`sicorpus ingest` as users run it: mistakes end in one `error:` line and exit 2, before Ray starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "ingest", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_user_mistakes_are_one_line(tmp_path: Path):
    data = tmp_path / "a.jsonl"
    data.write_text("{}\n")
    cases = [
        (["nosuch", str(data), "--out", str(tmp_path / "o")], "unknown format 'nosuch'"),
        (
            [
                "internvl",
                str(tmp_path / "absent.jsonl"),
                "--out",
                str(tmp_path / "o"),
                "--media-root",
                str(tmp_path),
            ],
            "does not exist",
        ),
        (["internvl", str(data), "--out", str(tmp_path / "o")], "give --media-root"),
        (
            ["internvl", str(data), "--out", str(tmp_path / "o"), "--media-root", str(tmp_path / "no")],
            "not a folder",
        ),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr
