"""Trainer formats of `sicorpus export` (docs/mix-export.md): one record builder and one side file per trainer."""
