"""The shortcut audit (docs/taxonomy.md, "Guards against shortcuts"): can a model answer without looking?

Per subtask (and answer type) the audit measures, over the parquet index:
- letter balance: the share of each correct letter, per number of options, against 1/n (guard 1);
- position balance, in the space the model reads: the right option's rank by distance to the point the
  question names (when the question prints one "(x, y)" and every option is a point), and its mention
  position among the options the question names, each against 1/n (guards 2 and 5: "the nearest point is
  usually right", "the first-named object is usually right");
- label balance: the share of the most frequent correct option text (guard 3, reported; a failure only when
  `max_label_share` is set);
- blind baselines: text-only models trained and tested with k-fold cross-validation, folds split by scene so
  a scene's samples never sit on both sides. No pixels, only the question and the option texts:
    * `letter_prior`   the letter most often right in training (guard 1);
    * `option_prior`   the option whose exact text was most often right when offered (guard 3: "left" wins);
    * `naive_bayes`    log-count ratios of option tokens and of (question word x option token) pairs, so
                       "closest to the bed -> pillow" style world-knowledge priors show (guards 3, 4);
    * `option_features` a conditional logit (Newton's method, numpy) on the option's position, length
                       (longest/shortest), numeric rank among numeric options, alphabetical rank, word
                       overlap with the question, nearest-to-query rank and mention position (guards 1, 2, 5
                       and template leaks such as "the answer is the longest option").
  The blind accuracy is the best of these; it fails when above chance + `max_blind_excess`.
  Numeric subtasks: the baseline predicts the training median of the subtask's first named label (global
  median for unseen labels), scored with VSI-Bench's mean relative accuracy (MRA; within +-10 % reported as
  well); chance is the same score of the global training median.

Every failure also needs statistical significance (z >= `min_z` against chance: binomial for letters and
accuracies, a paired test of per-sample MRA for numeric subtasks), so a subtask of 30 samples does not fail
on noise; on large subtasks the point thresholds decide.

What it cannot catch: shortcuts in the pixels (a frame that always shows the answer in the centre), priors a
stronger language model has but these small models do not learn (paraphrase-level cues, knowledge not carried
by word identity), leaks through `facts` or ids (never shown to a model), and skew within subtasks smaller
than `min_samples`. A pass means "no simple text-only shortcut", not "no shortcut". Large subtasks are
systematically subsampled (every k-th sample in index order) to at most `max_samples` for the baselines;
letter and label shares use every sample.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
from threadpoolctl import threadpool_limits

from shards import audit_sentences
from shards.atomic import atomic_write
from shards.index import connect, create_count_tables, fetch_arrow
from taxonomy import SUBTASKS

if TYPE_CHECKING:
    import pyarrow as pa

MAX_SAMPLES = 4000  # per subtask for the blind baselines: accuracy noise under a point, a 10-point threshold
HASH_BINS = 1 << 20
DUCKDB_MEMORY_LIMIT = "256MB"  # the index queries' working memory (DuckDB spills past it); see _bound_memory
Z_CAP = 99.0  # z scores are clipped so audit.json stays plain JSON (no Infinity)
MRA_THRESHOLDS = np.arange(0.5, 0.96, 0.05)
_TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
_OPTION_LINE = re.compile(r"^[A-Z]\. ")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_POINT = re.compile(r"\((-?\d+(?:\.\d+)?),\s*(-?\d+(?:\.\d+)?)\)")


@dataclass
class AuditThresholds:
    max_letter_excess: float = 0.05  # a letter is right at most 1/n + 5 points
    max_blind_excess: float = 0.10  # the text-only baseline is at most chance + 10 points
    max_label_share: float | None = None  # most frequent correct option text, when set
    folds: int = 5
    min_samples: int = 20  # smaller subtasks are reported but never fail
    # A failure also needs the excess to be significant, (observed - chance) / standard error >= min_z, so a
    # small subtask does not fail by noise; on large subtasks the thresholds above decide alone.
    min_z: float = 3.0


@dataclass
class SubtaskAudit:
    subtask: str
    answer_type: str
    n: int
    scenes: int
    n_used: int = 0  # samples the blind baselines used (subsampled above max_samples)
    chance: float | None = None
    letter_shares: dict[str, dict[str, float]] = field(default_factory=dict)  # n_options -> letter -> share
    letter_excess: float | None = None
    letter_z: float | None = None  # significance of the largest letter excess
    # "nearest:4" / "mention:2" -> rank -> share of right answers at that rank (samples where it applies)
    position_shares: dict[str, dict[str, float]] = field(default_factory=dict)
    position_excess: float | None = None
    position_z: float | None = None
    blind: dict[str, float] = field(default_factory=dict)  # baseline -> k-fold accuracy (MRA for numeric)
    blind_accuracy: float | None = None
    blind_z: float | None = None  # significance of the best baseline's excess over chance
    blind_best: str | None = None
    label_shares: dict[str, float] = field(default_factory=dict)
    max_label_share: float | None = None
    note: str | None = None
    # fixed and answer-predicting sentences (shards/audit_sentences.py)
    sentences: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


@dataclass
class AuditResult:
    ok: bool
    failures: list[str]
    subtasks: list[SubtaskAudit]
    thresholds: AuditThresholds

    def summary(self) -> str:
        """A table for the terminal: one line per subtask, then the verdict."""
        lines = [
            f"{'subtask':<26} {'n':>6} {'chance':>7} {'blind':>7} {'best baseline':<16} {'letter+':>7} "
            f"{'rank+':>7}  note"
        ]
        for s in self.subtasks:
            pct = lambda v: "" if v is None else f"{100 * v:.1f}%"  # noqa: E731
            flag = "FAIL" if s.failures else (s.note or "")
            lines.append(
                f"{s.subtask:<26} {s.n:>6} {pct(s.chance):>7} {pct(s.blind_accuracy):>7} "
                f"{s.blind_best or '':<16} {pct(s.letter_excess):>7} {pct(s.position_excess):>7}  {flag}"
            )
        lines.append("audit: passed" if self.ok else f"audit: {len(self.failures)} threshold(s) broken")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "failures": self.failures,
            "thresholds": asdict(self.thresholds),
            "subtasks": [asdict(s) for s in self.subtasks],
        }


def audit(
    out: Path, thresholds: AuditThresholds | None = None, *, max_samples: int = MAX_SAMPLES
) -> AuditResult:
    """Audit the corpus under OUT, write OUT/audit.json and return the result."""
    out = Path(out)
    thresholds = thresholds or AuditThresholds()
    groups, letters, labels, rows = _read_index(out, max_samples)
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows.to_pylist():
        samples.setdefault((row["subtask"], row["answer_type"]), []).append(row)

    results = []
    order = list(SUBTASKS)
    # The baselines' matrices are small (thousands x 22): BLAS threads cost more in start-up and spinning
    # than they save (a conditional-logit fit took 0.64 s with two threads, 0.02 s with one, same result).
    with threadpool_limits(limits=1, user_api="blas"):
        for subtask, answer_type, n, scenes in sorted(
            groups, key=lambda g: (order.index(g[0]) if g[0] in SUBTASKS else len(order), g[0], g[1])
        ):
            result = SubtaskAudit(subtask=subtask, answer_type=answer_type, n=int(n), scenes=int(scenes))
            _letter_balance(result, [r for r in letters if r[0] == subtask], thresholds)
            _label_balance(result, [r for r in labels if r[0] == subtask], thresholds)
            if answer_type == "multiple_choice":
                _position_balance(result, samples.get((subtask, answer_type), []), thresholds)
            _blind(result, samples.get((subtask, answer_type), []), thresholds)
            audit_sentences.attach(result, samples.get((subtask, answer_type), []), thresholds)
            results.append(result)
    failures = [f for r in results for f in r.failures]
    result = AuditResult(ok=not failures, failures=failures, subtasks=results, thresholds=thresholds)
    atomic_write(out / "audit.json", json.dumps(result.to_dict(), sort_keys=True, indent=1).encode())
    return result


def _read_index(out: Path, max_samples: int) -> tuple[list[tuple], list[tuple], list[tuple], pa.Table]:
    """(samples and scenes per subtask, correct letters, correct option texts, the subsampled rows)."""
    with tempfile.TemporaryDirectory(prefix="sicorpus-audit-") as spill:
        con = connect(out)
        try:
            _bound_memory(con, Path(spill))
            return (*_count_rows(con), _subsample(con, max_samples))
        finally:
            con.close()


def _bound_memory(con: duckdb.DuckDBPyConnection, spill: Path) -> None:
    """The subsample's row numbers sort every row of the index (~2 GB at 8M rows when DuckDB may keep it all);
    capped, DuckDB keeps under the limit and spills to `spill` where needed. Results do not change: the
    final ORDER BY fixes the row order, so insertion order need not be kept either."""
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
    con.execute("SET preserve_insertion_order = false")


def _count_rows(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Per (subtask, answer type): samples and scenes; per MC subtask: counts by (options, letter) and by
    option text, from the small count tables (`create_count_tables`), not one pass over the index per count."""
    create_count_tables(con)
    groups = con.execute(
        "SELECT subtask, answer_type, sum(n), count(DISTINCT (source, scene_id)) FROM per_scene GROUP BY ALL"
    ).fetchall()
    letters = con.execute("SELECT subtask, n_options, answer, sum(n) FROM mc GROUP BY ALL").fetchall()
    labels = con.execute("SELECT subtask, answer_text, sum(n) FROM mc GROUP BY ALL").fetchall()
    return groups, letters, labels


def _subsample(con: duckdb.DuckDBPyConnection, max_samples: int) -> pa.Table:
    """Every k-th sample of each (subtask, answer type) in index order, at most ~max_samples of each."""
    return fetch_arrow(
        con,
        # Row numbers over the narrow key columns first; the wide text columns only for the kept ids. The
        # sort of all rows behind them runs on numbers: (subtask, answer type) as its group number `part`,
        # the shard as its rank `shard_no` (same order as the names), which halves its CPU time at 8M rows.
        "WITH c AS (SELECT subtask, answer_type, count(*) AS total, "
        "row_number() OVER (ORDER BY subtask, answer_type) AS part FROM qa GROUP BY subtask, answer_type), "
        "s AS (SELECT shard, row_number() OVER (ORDER BY shard) AS shard_no "
        "FROM (SELECT DISTINCT shard FROM qa WHERE shard IS NOT NULL)), "
        # LEFT JOIN: a row without a shard sorts last, as it did by name
        'k AS (SELECT id, c.total, row_number() OVER (PARTITION BY part ORDER BY shard_no, "offset", id) - 1 '
        "AS rn FROM qa JOIN c USING (subtask, answer_type) LEFT JOIN s USING (shard)), "
        "keep AS (SELECT id, rn FROM k "
        f"WHERE rn % greatest(1, ceil(total / {int(max_samples)})::BIGINT) = 0) "
        "SELECT q.subtask, q.answer_type, source, scene_id, answer, question, options, value, labels, "
        "labels[1] AS first_label, keep.rn FROM qa q JOIN keep USING (id) "
        "ORDER BY subtask, answer_type, rn",
    )


def _name(result: SubtaskAudit) -> str:
    return (
        result.subtask
        if result.answer_type in ("multiple_choice", "numeric")
        else f"{result.subtask}[{result.answer_type}]"
    )


def _letter_balance(result: SubtaskAudit, counts: list[tuple], t: AuditThresholds) -> None:
    if result.answer_type != "multiple_choice":
        return
    by_n: dict[int, dict[str, int]] = {}
    for _, n_options, answer, n in counts:
        by_n.setdefault(int(n_options), {})[answer] = int(n)
    excesses = []
    for n_options, letters in sorted(by_n.items()):
        total = sum(letters.values())
        shares = {chr(65 + i): letters.get(chr(65 + i), 0) / total for i in range(n_options)}
        result.letter_shares[str(n_options)] = shares
        letter, share = max(shares.items(), key=lambda kv: (kv[1], -ord(kv[0])))
        if total < t.min_samples:
            continue
        excess, z = _excess_over_uniform(share, n_options, total)
        excesses.append((excess, float(z)))
        if excess > t.max_letter_excess and z >= t.min_z:
            result.failures.append(
                f"{_name(result)}: letter {letter} is right in {share:.1%} of {total} samples with {n_options} "
                f"options (chance {1 / n_options:.1%}, allowed +{t.max_letter_excess:.0%}; z {z:.1f})"
            )
    if excesses:
        result.letter_excess, result.letter_z = max(excesses)


def question_stem(question: str) -> str:
    """The question without its option lines (what names the objects or the query point)."""
    return "\n".join(line for line in question.splitlines() if not _OPTION_LINE.match(line))


def option_texts(sample: dict[str, Any]) -> list[str]:
    return [o[3:].strip() for o in (sample["options"] or [])]


def nearest_ranks(stem: str, texts: list[str]) -> list[int] | None:
    """Each option's rank by distance to the one point the stem prints, when every option is a point."""
    query = _POINT.findall(stem)
    points = [_POINT.fullmatch(t) for t in texts]
    if len(query) != 1 or len(texts) < 2 or not all(points):
        return None
    q = np.array([float(v) for v in query[0]])
    d = [float(np.linalg.norm(np.array([float(m.group(1)), float(m.group(2))]) - q)) for m in points]
    order = sorted(range(len(d)), key=lambda i: (d[i], i))
    return [order.index(i) for i in range(len(d))]


@functools.lru_cache(maxsize=1 << 16)
def _whole_word(text: str) -> re.Pattern[str]:
    """`text` as a whole word, compiled once: re's own cache keeps 512 patterns, far fewer than the option
    texts of a large audit, so it recompiled most of them for every sample."""
    return re.compile(r"(?<![a-z])" + re.escape(text) + r"(?![a-z])")


def mention_ranks(stem: str, texts: list[str]) -> list[int] | None:
    """Each option's rank by where the stem first names it (-1: not named), when it names at least two."""
    low = stem.lower()
    at = []
    for t in texts:
        m = _whole_word(t.lower()).search(low) if t else None
        at.append(m.start() if m else -1)
    named = sorted(i for i in range(len(at)) if at[i] >= 0)
    if len(named) < 2:
        return None
    order = sorted(named, key=lambda i: (at[i], i))
    return [order.index(i) if at[i] >= 0 else -1 for i in range(len(at))]


def _excess_over_uniform(share: float, n: int, total: int) -> tuple[float, float]:
    """How far a share of `total` answers lies above 1/n, and its z under the uniform null."""
    excess = share - 1.0 / n
    return excess, excess / float(np.sqrt((1 / n) * (1 - 1 / n) / total))


def _position_balance(result: SubtaskAudit, samples: list[dict[str, Any]], t: AuditThresholds) -> None:
    """Share of right answers at each nearest-to-query rank and mention position, against 1/n."""
    counts: dict[str, dict[int, int]] = {}
    for s in samples:
        texts, right = option_texts(s), ord(s["answer"]) - 65
        stem = question_stem(s["question"])
        for kind, ranks in (("nearest", nearest_ranks(stem, texts)), ("mention", mention_ranks(stem, texts))):
            if ranks is None or ranks[right] < 0:
                continue
            n = sum(r >= 0 for r in ranks)
            counts.setdefault(f"{kind}:{n}", {}).setdefault(ranks[right], 0)
            counts[f"{kind}:{n}"][ranks[right]] += 1
    excesses = []
    for key, by_rank in sorted(counts.items()):
        n = int(key.split(":")[1])
        total = sum(by_rank.values())
        shares = {str(r): by_rank.get(r, 0) / total for r in range(n)}
        result.position_shares[key] = shares
        rank, share = max(shares.items(), key=lambda kv: (kv[1], -int(kv[0])))
        if total < t.min_samples:
            continue
        excess, z = _excess_over_uniform(share, n, total)
        excesses.append((excess, float(z)))
        kind = "nearest to the query point" if key.startswith("nearest") else "mentioned"
        place = f"{int(rank) + 1}{['st', 'nd', 'rd'][int(rank)] if int(rank) < 3 else 'th'}"
        if excess > t.max_letter_excess and z >= t.min_z:
            result.failures.append(
                f"{_name(result)}: the option {kind} {place} is right in {share:.1%} of {total} samples "
                f"(chance {1 / n:.1%}, allowed +{t.max_letter_excess:.0%}; z {z:.1f})"
            )
    if excesses:
        result.position_excess, result.position_z = max(excesses)


def _label_balance(result: SubtaskAudit, counts: list[tuple], t: AuditThresholds) -> None:
    if result.answer_type != "multiple_choice" or not counts:
        return
    total = sum(int(c[2]) for c in counts)
    ranked = sorted(counts, key=lambda c: (-int(c[2]), str(c[1])))
    result.label_shares = {str(text): int(n) / total for _, text, n in ranked[:10]}
    top_text, top_share = str(ranked[0][1]), int(ranked[0][2]) / total
    result.max_label_share = top_share
    if t.max_label_share is not None and total >= t.min_samples and top_share > t.max_label_share:
        result.failures.append(
            f"{_name(result)}: answer {top_text!r} is right in {top_share:.1%} of {total} samples "
            f"(allowed {t.max_label_share:.0%})"
        )


def _blind(result: SubtaskAudit, samples: list[dict[str, Any]], t: AuditThresholds) -> None:
    result.n_used = len(samples)
    if result.n < t.min_samples:
        result.note = f"not audited: {result.n} samples < min_samples {t.min_samples}"
        return
    if result.answer_type not in ("multiple_choice", "numeric"):
        result.note = f"no blind baseline for {result.answer_type} answers"
        return
    folds = scene_folds([(s["source"], s["scene_id"]) for s in samples], t.folds)
    if folds is None:
        result.note = "one scene only: no scene-disjoint folds for the blind baseline"
        return
    rng = np.random.default_rng(zlib.crc32(f"{result.subtask}/{result.answer_type}".encode()))
    if result.answer_type == "multiple_choice":
        result.chance, result.blind, z = mc_baselines(samples, folds, rng)
    else:
        result.chance, result.blind, z = numeric_baselines(samples, folds)
    scored = {k: v for k, v in result.blind.items() if not k.endswith("acc10")}
    if not scored:
        result.note = "no numeric values to audit"
        return
    result.blind_best, result.blind_accuracy = max(scored.items(), key=lambda kv: (kv[1], kv[0]))
    result.blind_z = z[result.blind_best]
    if result.blind_accuracy > result.chance + t.max_blind_excess and result.blind_z >= t.min_z:
        metric = "MRA" if result.answer_type == "numeric" else "accuracy"
        result.failures.append(
            f"{_name(result)}: text-only baseline {result.blind_best} reaches {metric} {result.blind_accuracy:.1%} "
            f"(chance {result.chance:.1%}, allowed +{t.max_blind_excess:.0%}; z {result.blind_z:.1f}, "
            f"{result.n_used} samples, {result.scenes} scenes)"
        )


def scene_folds(scenes: list[tuple[str, str]], folds: int) -> np.ndarray | None:
    """Fold number per sample; whole scenes go to one fold (deterministic). None when there is one scene."""
    keys = sorted(set(scenes))
    if len(keys) < 2:
        return None
    k = max(2, min(folds, len(keys)))
    perm = np.random.default_rng(0).permutation(len(keys))
    fold_of = {keys[p]: i % k for i, p in enumerate(perm)}
    return np.array([fold_of[s] for s in scenes], dtype=np.int64)


# ------------------------------------------------------------------------------------------ multiple choice


@dataclass
class _MCData:
    correct: np.ndarray  # (N,) index of the right option
    n_options: np.ndarray  # (N,)
    mask: np.ndarray  # (N, J) option exists
    text_ids: np.ndarray  # (N, J) id of the option's normalised text (-1 where absent)
    bow_sample: np.ndarray  # flat (sample, option, feature hash) triples for naive Bayes
    bow_option: np.ndarray
    bow_feature: np.ndarray
    dense: np.ndarray  # (N, J, D) features of the conditional logit


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _hash(feature: str) -> int:
    return zlib.crc32(feature.encode()) % HASH_BINS


def _prepare_mc(samples: list[dict[str, Any]]) -> _MCData:
    n = len(samples)
    texts = [[o[3:].strip() for o in (s["options"] or [])] for s in samples]
    j_max = max(len(t) for t in texts)
    questions = [
        [tok for line in s["question"].splitlines() if not _OPTION_LINE.match(line) for tok in _tokens(line)]
        for s in samples
    ]
    # Words in more than half of the questions are template words; the rest (object names, numbers) are content.
    df: dict[str, int] = {}
    for q in questions:
        for tok in set(q):
            df[tok] = df.get(tok, 0) + 1
    content = [sorted({tok for tok in q if df[tok] <= n / 2}) for q in questions]

    correct = np.array([ord(s["answer"]) - 65 for s in samples], dtype=np.int64)
    n_options = np.array([len(t) for t in texts], dtype=np.int64)
    mask = np.arange(j_max)[None, :] < n_options[:, None]
    vocab = {
        t: i for i, t in enumerate(sorted({t.lower() for opts in texts for t in opts}))
    }  # id = alphabetical rank
    text_ids = np.full((n, j_max), -1, dtype=np.int64)
    lengths = np.zeros((n, j_max))
    words = np.zeros((n, j_max))
    numbers = np.full((n, j_max), np.nan)
    overlap = np.zeros((n, j_max))
    near_rank = np.full((n, j_max), np.nan)  # nan: the feature does not apply to the sample
    mention = np.full((n, j_max), np.nan)
    for i, s in enumerate(samples):
        stem = question_stem(s["question"])
        for target, ranks in (
            (near_rank, nearest_ranks(stem, texts[i])),
            (mention, mention_ranks(stem, texts[i])),
        ):
            if ranks is not None:
                target[i, : len(ranks)] = [r if r >= 0 else np.nan for r in ranks]
    bow_s: list[int] = []
    bow_o: list[int] = []
    bow_f: list[int] = []
    hashes: dict[str, int] = {}
    for i, opts in enumerate(texts):
        q_set = set(content[i])
        for j, text in enumerate(opts):
            text_ids[i, j] = vocab[text.lower()]
            lengths[i, j], words[i, j] = len(text), len(text.split())
            number = _NUMBER.search(text)
            if number:
                numbers[i, j] = float(number.group())
            toks = sorted(set(_tokens(text)))
            names = [f"o:{tok}" for tok in toks] + [f"q:{q}|o:{tok}" for q in content[i] for tok in toks]
            feats = sorted({hashes[f] if f in hashes else hashes.setdefault(f, _hash(f)) for f in names})
            bow_s.extend([i] * len(feats))
            bow_o.extend([j] * len(feats))
            bow_f.extend(feats)
            overlap[i, j] = sum(tok in q_set for tok in toks) / len(toks) if toks else 0.0
    return _MCData(
        correct=correct,
        n_options=n_options,
        mask=mask,
        text_ids=text_ids,
        bow_sample=np.array(bow_s, dtype=np.int64),
        bow_option=np.array(bow_o, dtype=np.int64),
        bow_feature=np.array(bow_f, dtype=np.int64),
        dense=_shape_features(
            mask, lengths, words, numbers, text_ids.astype(np.float64), overlap, near_rank, mention
        ),
    )


_POSITIONS = 8  # one-hot letter positions A..H (later letters share the last slot)
(
    _LEN_Z,
    _LONGEST,
    _SHORTEST,
    _WORDS_Z,
    _NUM_Z,
    _NUM_MAX,
    _NUM_MIN,
    _NUM_RANK,
    _ALPHA_RANK,
    _OVERLAP,
    _NEAREST,
    _NEAR_RANK,
    _MENTION_FIRST,
    _MENTION_RANK,
) = range(_POSITIONS, _POSITIONS + 14)
_N_DENSE = _POSITIONS + 14


def _row_zscore(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    count = np.maximum(mask.sum(axis=1, keepdims=True), 1)
    mean = np.where(mask, x, 0).sum(axis=1, keepdims=True) / count
    std = np.sqrt(np.where(mask, (x - mean) ** 2, 0).sum(axis=1, keepdims=True) / count)
    return np.where(mask & (std > 0), (x - mean) / np.where(std > 0, std, 1), 0.0)


def _row_extreme(x: np.ndarray, mask: np.ndarray, largest: bool) -> np.ndarray:
    """1 for the option that is its sample's unique maximum (minimum), else 0."""
    filled = np.where(mask, x if largest else -x, -np.inf)
    hits = mask & (filled == filled.max(axis=1, keepdims=True))
    return (hits & (hits.sum(axis=1, keepdims=True) == 1)).astype(np.float64)


def _row_rank(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rank of each option within its sample, scaled to [0, 1]."""
    filled = np.where(mask, x, np.inf)
    rank = np.argsort(np.argsort(filled, axis=1, kind="stable"), axis=1, kind="stable")
    return np.where(mask, rank / np.maximum(mask.sum(axis=1, keepdims=True) - 1, 1), 0.0)


def _shape_features(
    mask: np.ndarray,
    lengths: np.ndarray,
    words: np.ndarray,
    numbers: np.ndarray,
    alpha: np.ndarray,
    overlap: np.ndarray,
    near_rank: np.ndarray,
    mention: np.ndarray,
) -> np.ndarray:
    """Per option: position, length, numeric and alphabetical rank, nearest-to-query rank, mention position:
    what a model sees without understanding."""
    n, j_max = mask.shape
    f = np.zeros((n, j_max, _N_DENSE))
    f[:, np.arange(j_max), np.minimum(np.arange(j_max), _POSITIONS - 1)] = 1.0
    f[..., _LEN_Z] = _row_zscore(lengths, mask)
    f[..., _LONGEST] = _row_extreme(lengths, mask, True)
    f[..., _SHORTEST] = _row_extreme(lengths, mask, False)
    f[..., _WORDS_Z] = _row_zscore(words, mask)
    numeric = (mask & ~np.isnan(numbers)).sum(axis=1) == mask.sum(axis=1)  # every option is a number
    num_mask = mask & numeric[:, None]
    values = np.nan_to_num(numbers)
    f[..., _NUM_Z] = _row_zscore(values, num_mask)
    f[..., _NUM_MAX] = _row_extreme(values, num_mask, True)
    f[..., _NUM_MIN] = _row_extreme(values, num_mask, False)
    f[..., _NUM_RANK] = np.where(num_mask, _row_rank(values, mask), 0.0)
    f[..., _ALPHA_RANK] = _row_rank(alpha, mask)
    f[..., _OVERLAP] = overlap
    for rank, first, scaled in ((near_rank, _NEAREST, _NEAR_RANK), (mention, _MENTION_FIRST, _MENTION_RANK)):
        known = mask & ~np.isnan(rank)
        top = np.nanmax(np.where(known, rank, np.nan), axis=1, initial=0.0, where=known)
        f[..., first] = np.where(known & (rank == 0), 1.0, 0.0)
        f[..., scaled] = np.where(known, np.nan_to_num(rank) / np.maximum(top, 1)[:, None], 0.0)
    f[~mask] = 0.0
    return f


def _pick(scores: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax over existing options, ties broken at random."""
    scores = np.where(mask, scores, -np.inf)
    top = scores >= scores.max(axis=1, keepdims=True) - 1e-12
    noise = rng.random(scores.shape)
    return np.argmax(np.where(top & mask, noise, -1.0), axis=1)


def mc_baselines(
    samples: list[dict[str, Any]], folds: np.ndarray, rng: np.random.Generator
) -> tuple[float, dict[str, float], dict[str, float]]:
    """k-fold accuracy of each text-only baseline: (chance, {baseline: accuracy}, {baseline: z over chance})."""
    d = _prepare_mc(samples)
    n, j_max = d.mask.shape
    chance = float(np.mean(1.0 / d.n_options))
    right = {name: 0 for name in ("letter_prior", "option_prior", "naive_bayes", "option_features")}
    positions = np.arange(j_max)
    for k in np.unique(folds):
        train, test = folds != k, folds == k
        y = d.correct
        # letter prior
        letter_counts = np.bincount(y[train], minlength=j_max).astype(np.float64)
        pred = _pick(np.broadcast_to(letter_counts, (int(test.sum()), j_max)), d.mask[test], rng)
        right["letter_prior"] += int((pred == y[test]).sum())
        # option prior: smoothed rate at which an option text is right when offered
        is_right = positions[None, :] == y[:, None]
        ids_tr = d.text_ids[train][d.mask[train]]
        right_tr = is_right[train][d.mask[train]].astype(np.float64)
        offered = np.bincount(ids_tr, minlength=d.text_ids.max() + 1).astype(np.float64)
        won = np.bincount(ids_tr, weights=right_tr, minlength=d.text_ids.max() + 1)
        base = won.sum() / max(offered.sum(), 1.0)
        rate = (won + base) / (offered + 1.0)
        scores = np.where(d.mask[test], rate[np.maximum(d.text_ids[test], 0)], 0.0)
        pred = _pick(scores, d.mask[test], rng)
        right["option_prior"] += int((pred == y[test]).sum())
        # naive Bayes log-count ratios over option tokens and question x option pairs
        right["naive_bayes"] += int((_naive_bayes(d, train, test, rng) == y[test]).sum())
        # conditional logit on option shape features
        w = _fit_conditional_logit(d.dense[train], d.mask[train], y[train])
        pred = _pick(d.dense[test] @ w, d.mask[test], rng)
        right["option_features"] += int((pred == y[test]).sum())
    per_chance = 1.0 / d.n_options
    spread = float(np.sqrt(np.sum(per_chance * (1 - per_chance))))  # binomial standard error of the hits, x n
    z = {
        name: float(np.clip((hits - per_chance.sum()) / spread, -Z_CAP, Z_CAP))
        for name, hits in right.items()
    }
    return chance, {name: hits / n for name, hits in right.items()}, z


def _naive_bayes(d: _MCData, train: np.ndarray, test: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    in_train = train[d.bow_sample]
    hit = d.bow_option == d.correct[d.bow_sample]
    offered = np.bincount(d.bow_feature[in_train], minlength=HASH_BINS).astype(np.float64)
    won = np.bincount(d.bow_feature[in_train & hit], minlength=HASH_BINS).astype(np.float64)
    p = won.sum() / max(offered.sum(), 1.0)
    p = min(max(p, 1e-6), 1 - 1e-6)
    rate = (won + p) / (offered + 1.0)  # unseen features fall back to the base rate: no evidence, no score
    weight = np.log(rate / (1 - rate)) - np.log(p / (1 - p))
    in_test = test[d.bow_sample]
    test_rows = np.cumsum(test) - 1  # position of each test sample among the test samples
    _, j_max = d.mask.shape
    n_test = int(test.sum())
    flat = test_rows[d.bow_sample[in_test]] * j_max + d.bow_option[in_test]
    scores = np.bincount(flat, weights=weight[d.bow_feature[in_test]], minlength=n_test * j_max)
    return _pick(scores.reshape(n_test, j_max), d.mask[test], rng)


def _fit_conditional_logit(
    x: np.ndarray, mask: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 25
) -> np.ndarray:
    """Softmax over each sample's options, linear in the option features; Newton steps with an L2 penalty."""
    n, _, dim = x.shape
    w = np.zeros(dim)
    if n == 0:
        return w
    target = np.zeros(mask.shape)
    target[np.arange(n), y] = 1.0
    for _ in range(iterations):
        logits = np.where(mask, x @ w, -np.inf)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        mean_x = np.einsum("nj,njd->nd", p, x)
        flat_x = x.reshape(-1, dim)
        grad = flat_x.T @ (p - target).ravel() + l2 * w
        hess = (flat_x * p.reshape(-1, 1)).T @ flat_x - mean_x.T @ mean_x + l2 * np.eye(dim)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


# -------------------------------------------------------------------------------------------------- numeric


def mean_relative_accuracy(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """VSI-Bench MRA per sample: share of thresholds 0.50..0.95 with relative error below 1 - threshold."""
    rel = np.abs(pred - truth) / np.maximum(np.abs(truth), 1e-9)
    return (rel[:, None] < (1 - MRA_THRESHOLDS)[None, :]).mean(axis=1)


def numeric_baselines(
    samples: list[dict[str, Any]], folds: np.ndarray
) -> tuple[float, dict[str, float], dict[str, float]]:
    """Median per first label vs the global median (chance), k-fold; scores are MRA and within-10 % rates.
    The z of the label median is a paired test of its per-sample MRA against the global median's."""
    keep = np.array([s["value"] is not None for s in samples], dtype=bool)
    samples, folds = [s for s in samples if s["value"] is not None], folds[keep]
    if len(np.unique(folds)) < 2:
        return 0.0, {}, {}
    values = np.array([float(s["value"]) for s in samples])
    labels = np.array([s["first_label"] or "" for s in samples], dtype=object)
    label_pred = np.zeros(len(values))
    global_pred = np.zeros(len(values))
    for k in np.unique(folds):
        train, test = folds != k, folds == k
        median = float(np.median(values[train]))
        per_label = {lab: float(np.median(values[train & (labels == lab)])) for lab in set(labels[train])}
        global_pred[test] = median
        label_pred[test] = [per_label.get(lab, median) for lab in labels[test]]

    def within10(pred: np.ndarray) -> float:
        return float(np.mean(np.abs(pred - values) <= 0.1 * np.abs(values)))

    label_mra = mean_relative_accuracy(label_pred, values)
    global_mra = mean_relative_accuracy(global_pred, values)
    gain = label_mra - global_mra
    spread = gain.std(ddof=1) / np.sqrt(len(gain)) if len(gain) > 1 else 0.0
    z = (
        float(np.clip(gain.mean() / spread, -Z_CAP, Z_CAP))
        if spread > 0
        else (Z_CAP if gain.mean() > 0 else 0.0)
    )
    chance = float(global_mra.mean())
    return (
        chance,
        {
            "label_median": float(label_mra.mean()),
            "label_median_acc10": within10(label_pred),
            "global_median_acc10": within10(global_pred),
        },
        {"label_median": z},
    )
