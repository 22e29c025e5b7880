"""The one bounded memo: least recently used out first, a use counts, and a bound is kept."""

from __future__ import annotations

import pytest

from ks_analysis._memo import Memo


def test_the_least_recently_used_entry_goes_first_and_a_read_counts_as_a_use() -> None:
    memo: Memo[str] = Memo(2)
    memo.put("a", "A")
    memo.put("b", "B")
    assert memo.get("a") == "A"  # "b" is now the least recently used
    memo.put("c", "C")
    assert "b" not in memo and memo.get("a") == "A" and memo.get("c") == "C"
    assert len(memo) == 2
    assert memo.get("b") is None


def test_putting_a_key_again_replaces_its_value_without_growing() -> None:
    memo: Memo[int] = Memo(3)
    for i in range(5):
        memo.put("k", i)
    assert len(memo) == 1 and memo.get("k") == 4
    memo.clear()
    assert len(memo) == 0 and memo.get("k") is None


def test_a_memo_keeps_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Memo(0)
