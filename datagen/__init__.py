"""A deterministic multi-agency data generator with planted schemes and their ground truth.

``generate(out, scale=1.0, seed=0)`` writes customs declarations, FIU reports (goAML STRs and
a CTR CSV), cash declarations, the company register, tax returns and trade statistics in the
formats of docs/formats.md, plus ``truth.json``: the real-world entities behind the records
(with the graph node keys their records load under) and every planted scheme with its records.
"""

from datagen.generate import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
