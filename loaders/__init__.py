"""Loaders: one module per source format, declarative mappings, the batched writer."""
