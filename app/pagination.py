"""Page pagination for every list: ``offset`` / ``limit`` in, ``total`` and ``next_offset`` out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field

MAX_LIMIT = 500

T = TypeVar("T")


class PageParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    offset: int = 0
    limit: int = 50


async def _page(
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="items to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = 50,
) -> PageParams:
    return PageParams(offset=offset, limit=limit)


PageDep = Annotated[PageParams, Depends(_page)]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    model_config = ConfigDict(extra="forbid")

    items: list[T]
    total: int = Field(ge=0, description="items in the whole list")
    offset: int = Field(ge=0)
    limit: int = Field(ge=1)
    next_offset: int | None = Field(description="offset of the next page; null on the last")

    @classmethod
    def of(cls, items: Sequence[T], total: int, page: PageParams) -> Page[T]:
        end = page.offset + len(items)
        return cls(
            items=list(items),
            total=total,
            offset=page.offset,
            limit=page.limit,
            next_offset=end if end < total else None,
        )

    @classmethod
    def slice(cls, everything: Sequence[T], page: PageParams) -> Page[T]:
        """A page cut from a list already held in memory."""
        return cls.of(everything[page.offset : page.offset + page.limit], len(everything), page)
