"""The iffgraph graph schema as data, the pydantic node/edge models, and the store seam."""
