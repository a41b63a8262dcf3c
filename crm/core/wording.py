"""Words for counts, so a page never says "1 touches" or "766327 domains"."""


def thousands(n: int | None) -> str:
    """Return a count with its thousands grouped (766,327); "—" when there is none."""
    return "—" if n is None else f"{n:,}"


def counted(n: int, word: str, plural: str | None = None) -> str:
    """Return `n` (thousands grouped) followed by `word`, pluralised when `n` is not one."""
    if n == 1:
        return f"{n} {word}"
    if plural is None:
        plural = word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{thousands(n)} {plural}"
