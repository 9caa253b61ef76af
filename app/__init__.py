"""The iffgraph service: settings, HTTP API, CLI."""
