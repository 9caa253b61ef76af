"""Clustering: components of positive links that never bridge a negative judgement."""

from __future__ import annotations

from resolution.cluster import JUDGEMENT, KEPT, MODEL, RULE, Link, cluster, entity_key


def test_components_of_positive_links() -> None:
    result = cluster(5, [Link(0, 1, 0.99, MODEL), Link(1, 2, 0.995, RULE)])
    assert result.groups == [[0, 1, 2], [3], [4]]
    assert result.refused == []


def test_a_negative_pair_is_never_bridged_and_the_weakest_link_is_cut() -> None:
    # 0 - 1 - 2 - 3 with a negative judgement between 0 and 3: the weakest link goes.
    links = [
        Link(0, 1, 0.999, MODEL),
        Link(1, 2, 0.991, MODEL),  # the weakest
        Link(2, 3, 0.998, MODEL),
    ]
    result = cluster(4, links, negatives=[(0, 3)])
    assert result.groups == [[0, 1], [2, 3]]
    assert result.refused == [Link(1, 2, 0.991, MODEL)]


def test_method_outranks_score_judgements_first() -> None:
    # 0 and 2 must stay apart; 1 can join 0 (by judgement) or 2 (by a stronger model score).
    links = [Link(1, 2, 0.9999, MODEL), Link(0, 1, 0.5, JUDGEMENT)]
    result = cluster(3, links, negatives=[(0, 2)])
    assert result.groups == [[0, 1], [2]]
    kept = cluster(3, [Link(1, 2, 0.9999, MODEL), Link(0, 1, 1.0, KEPT)], negatives=[(0, 2)])
    assert kept.groups == [[0, 1], [2]]


def test_result_does_not_depend_on_link_order() -> None:
    links = [Link(0, 1, 0.99, MODEL), Link(2, 1, 0.99, MODEL), Link(3, 2, 0.995, MODEL)]
    forward = cluster(4, links, negatives=[(0, 3)])
    backward = cluster(4, list(reversed(links)), negatives=[(3, 0)])
    assert forward.groups == backward.groups


def test_entity_keys_are_deterministic_and_follow_the_smallest_member() -> None:
    key = entity_key(["company:b", "company:a"])
    assert key.startswith("entity:")
    assert key == entity_key(["company:a", "company:c", "company:b"])
    assert key != entity_key(["company:b", "company:c"])
