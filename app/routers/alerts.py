"""(routes filled in by the alerts work)"""

from __future__ import annotations

from fastapi import APIRouter

from app.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["alerts"], responses=PROBLEM_RESPONSES)
