"""NUL characters in variables are found (and flat lists checked in one pass)."""

from core.api.extensions import _value_nul_paths


def test_a_nul_in_a_flat_list_is_named_by_its_index():
    assert list(_value_nul_paths({"blocks": [{"values": ["0.1", "0.2\x00", 3]}]}, "$input")) == [
        "$input.blocks[0].values[1]"
    ]


def test_a_flat_list_without_nul_yields_nothing():
    assert list(_value_nul_paths(["0.1"] * 10_000 + [1.5, None], "$v")) == []
