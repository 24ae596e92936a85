"""Operator semantics: `needed_regions` gives exactly the operand regions one output tile reads, per operator family."""

from __future__ import annotations

import pytest

from deeploy_tiler.validator import needed_regions

from .cases import CASES


@pytest.mark.parametrize("case", sorted(CASES))
def test_needed_regions_are_exactly_the_hand_written_ones(case: str) -> None:
    graph, tiles = CASES[case]()
    node = graph.nodes[0]
    for tile in tiles:
        expected = {t: r for t, r in tile.items() if t != "y"}
        assert needed_regions(node, graph, tile["y"]) == expected
