import pytest

from haliax._src.base.pytypes import index_where


def test_index_where_finds_the_first_match_from_start():
    assert index_where(lambda n: n % 2 == 0, [1, 4, 6]) == 1
    assert index_where(lambda n: n % 2 == 0, [1, 4, 6], start=2) == 2


def test_index_where_raises_a_value_error_when_nothing_matches():
    with pytest.raises(ValueError, match=r"^index_where: no element of the 2 from index 0 on"):
        index_where(lambda n: n > 5, [1, 2])


def test_index_where_resolves_at_haliaxs_import_path():
    from haliax._src.util import index_where as via_haliax_path

    assert via_haliax_path is index_where
