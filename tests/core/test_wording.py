import pytest

from crm.core.wording import counted


@pytest.mark.parametrize(
    ("n", "word", "plural", "expected"),
    [
        (1, "touch", None, "1 touch"),
        (2, "touch", None, "2 touches"),
        (0, "prospect", None, "0 prospects"),
        (1, "reply", "replies", "1 reply"),
        (3, "reply", "replies", "3 replies"),
        (5, "box", None, "5 boxes"),
    ],
)
def test_count_is_followed_by_the_word_in_the_right_number(n, word, plural, expected):
    assert counted(n, word, plural) == expected
