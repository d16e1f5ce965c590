"""Seeded, versioned generators of synthetic tapes, written to the tick store like real captures.

The pipeline: a preset (`presets`) draws price paths (`paths`) and turns each into an L2 book and
trades (`book`), then `store` writes every row through the ingest path with an `ingests` record
naming the generator, its version and its parameters.
"""
