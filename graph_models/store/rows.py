"""Read results built from rows the stores wrote themselves, without validation.

Every node or relationship a store returns was validated on its way in; validating it again
on the way out is pure cost, and so, at API rates, is pydantic's ``model_construct``: it walks
every field looking for aliases and defaults (about 5 µs a model), and a neighbourhood answer
builds several hundred models. :func:`trusted` sets the instance's state directly when the
caller supplies every field of a plain model (no aliases, no defaults to apply, no private
attributes or post-init hook); anything else goes through ``model_construct``, so a model
that gains a field or an alias stays correct, only slower.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from graph_models.merge import derive_sets
from graph_models.records import Node, Relationship, StoredProvenance
from graph_models.schema import PROVENANCE_PROPERTIES, Label, RelType

M = TypeVar("M", bound=BaseModel)

_LABELS = {label.value: label for label in Label}
_REL_TYPES = {rel_type.value: rel_type for rel_type in RelType}
# Per model class: its field names when the direct path is safe for it, else None.
_PLAIN: dict[type[BaseModel], frozenset[str] | None] = {}
_set = object.__setattr__
_SKIPPED = frozenset(PROVENANCE_PROPERTIES) | {"key"}


def _plain_fields(cls: type[BaseModel]) -> frozenset[str] | None:
    if cls not in _PLAIN:
        fields = cls.model_fields
        plain = (
            not cls.__pydantic_root_model__
            and cls.__pydantic_post_init__ is None
            and not cls.__private_attributes__
            and cls.model_config.get("extra") != "allow"
            and all(f.alias is None and f.validation_alias is None for f in fields.values())
        )
        _PLAIN[cls] = frozenset(fields) if plain else None
    return _PLAIN[cls]


def trusted(cls: type[M], values: dict[str, Any]) -> M:
    """An instance of ``cls`` holding ``values`` as they are (the caller vouches for them).

    Equal to ``cls.model_construct(**values)``; ``values`` becomes the instance's state, so
    the caller must not reuse the dict.
    """
    names = _plain_fields(cls)
    if names is None or values.keys() != names:
        return cls.model_construct(**values)
    obj = cls.__new__(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(names))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


def label_of(name: str) -> Label:
    return _LABELS.get(name) or Label(name)


def rel_type_of(name: str) -> RelType:
    return _REL_TYPES.get(name) or RelType(name)


def provenance(flat: dict[str, Any]) -> StoredProvenance:
    """The provenance part of a stored property map (see ``graph_models.merge``).

    A map without ``agencies`` (a relationship in Neo4j) has them and its compartments
    derived from its sources.
    """
    sources = list(flat.get("sources") or [])
    agencies = flat.get("agencies")
    if agencies is None:
        agencies, compartments = derive_sets(sources)
    else:
        agencies, compartments = list(agencies), list(flat.get("compartments") or [])
    return trusted(
        StoredProvenance,
        {
            "agencies": agencies,
            "compartments": compartments,
            "sources": sources,
            "record_ids": list(flat.get("record_ids") or []),
            "first_seen": flat.get("first_seen"),
            "last_seen": flat.get("last_seen"),
        },
    )


def properties(flat: dict[str, Any]) -> dict[str, Any]:
    """The domain properties of a stored property map."""
    return {k: v for k, v in flat.items() if k not in _SKIPPED}


def node(label: Label, key: str, flat: dict[str, Any]) -> Node:
    """A node from its stored property map (as ``merge.split_stored`` splits it)."""
    values: dict[str, Any] = {"label": label, "key": key, "properties": properties(flat)}
    values["provenance"] = provenance(flat)
    return trusted(Node, values)


def relationship(
    rel_type: RelType, start: str, end: str, key: str, flat: dict[str, Any]
) -> Relationship:
    """A relationship from its stored property map."""
    return trusted(
        Relationship,
        {
            "type": rel_type,
            "start": start,
            "end": end,
            "key": key,
            "properties": properties(flat),
            "provenance": provenance(flat),
        },
    )
