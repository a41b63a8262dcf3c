"""Words for counts, so a page never says "1 touches"."""


def counted(n: int, word: str, plural: str | None = None) -> str:
    """Return `n` followed by `word`, pluralised when `n` is not one."""
    if n == 1:
        return f"{n} {word}"
    if plural is None:
        plural = word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{n} {plural}"
