import pytest

from crm.core.wording import counted, thousands


@pytest.mark.parametrize(
    ("n", "word", "plural", "expected"),
    [
        (1, "touch", None, "1 touch"),
        (2, "touch", None, "2 touches"),
        (0, "prospect", None, "0 prospects"),
        (1, "reply", "replies", "1 reply"),
        (3, "reply", "replies", "3 replies"),
        (5, "box", None, "5 boxes"),
        (673_516, "prospect", None, "673,516 prospects"),
    ],
)
def test_count_is_followed_by_the_word_in_the_right_number(n, word, plural, expected):
    assert counted(n, word, plural) == expected


@pytest.mark.parametrize(
    ("n", "expected"), [(0, "0"), (999, "999"), (1000, "1,000"), (766_327, "766,327"), (None, "—")]
)
def test_a_count_groups_its_thousands_and_a_missing_one_is_a_dash(n, expected):
    assert thousands(n) == expected
