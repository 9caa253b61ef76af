"""Entity resolution across agencies: source records -> ResolvedEntity via SAME_AS.

See :mod:`resolution.pipeline` for the stages and :mod:`resolution.commands` for what users
(and the CLI) call.
"""
