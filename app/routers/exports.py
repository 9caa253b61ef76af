"""(routes filled in by the exports work)"""

from __future__ import annotations

from fastapi import APIRouter

from app.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["exports"], responses=PROBLEM_RESPONSES)
