"""The spatial-intelligence taxonomy, declared once as data (see docs/taxonomy.md).

Generators register against these ids; the CLI, stats, audit and docs read the same declaration.
"""

from __future__ import annotations

from taxonomy.declaration import (
    CATEGORIES,
    SUBTASKS,
    TAXONOMY_VERSION,
    Category,
    Subtask,
    category_of,
    subtasks_of,
)

__all__ = [
    "CATEGORIES",
    "SUBTASKS",
    "TAXONOMY_VERSION",
    "Category",
    "Subtask",
    "category_of",
    "subtasks_of",
]
