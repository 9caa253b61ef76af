"""Link analysis: one module per family, graph algorithms on networkx projections."""
