"""Answers serialised where the route runs.

A plain ``def`` route that returns a model costs FastAPI a second trip to the thread pool (to
check the model against the response model) and a serialisation on the event loop; under
load those hand-offs between threads were a tenth of a request's time. A route that returns
:class:`ModelJSON` serialises its model in its own thread, once, and FastAPI passes the
response through. The route keeps ``response_model=`` so the OpenAPI schema is unchanged.
"""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


class ModelJSON(Response):
    media_type = "application/json"

    def __init__(self, model: BaseModel, status_code: int = 200) -> None:
        # The model's own serializer: the JSON FastAPI would write for it (no aliases here).
        super().__init__(model.__pydantic_serializer__.to_json(model), status_code=status_code)
