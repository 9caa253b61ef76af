"""What a load tells its operator: the per-file report and the quarantine file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from pydantic import BaseModel, ConfigDict, Field


class QuarantineEntry(BaseModel):
    """One input record that did not reach the graph, and why."""

    model_config = ConfigDict(extra="forbid")

    file: str
    record: str = Field(description="row number (CSV/XLSX) or element path (XML)")
    field: str | None = Field(description="the offending field, when one is to blame")
    reason: str
    value: str | None = Field(default=None, description="the offending value, truncated")
    load_id: str


class LoadReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str
    kind: str
    load_id: str
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicates: int = Field(default=0, description="records whose id appeared earlier in the file")
    nodes_written: int = 0
    relationships_written: int = 0
    ignored_columns: list[str] = Field(default_factory=list)
    quarantine_file: str | None = None
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0

    @property
    def balanced(self) -> bool:
        """Nothing lost: every record read was loaded or quarantined."""
        return self.read == self.loaded + self.quarantined

    @property
    def records_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


class QuarantineWriter:
    """Appends entries to ``path`` (JSON lines), creating the file only when needed, so a
    clean load leaves no empty quarantine file behind. A re-load rewrites it from scratch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._fh: IO[str] | None = None
        path.unlink(missing_ok=True)

    def add(self, entry: QuarantineEntry) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("w", encoding="utf-8")
        self._fh.write(json.dumps(entry.model_dump(), ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_quarantine(path: Path) -> list[QuarantineEntry]:
    with path.open(encoding="utf-8") as fh:
        return [QuarantineEntry.model_validate_json(line) for line in fh if line.strip()]
