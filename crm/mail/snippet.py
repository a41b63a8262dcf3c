"""Plain text of an inbound snippet: HTML to text, tidy whitespace, the new part of a reply."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"script", "style", "head", "title", "template"}
_BLOCK = {
    "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "pre", "section", "article", "header", "footer", "dd", "dt",
}  # fmt: skip
_QUOTE_OPEN, _QUOTE_CLOSE = "\x01", "\x02"


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "blockquote":
            self.out.append(f"\n{_QUOTE_OPEN}\n")
        elif tag in _BLOCK:
            self.out.append("\n")
        elif tag == "td":
            self.out.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.out.append(f"\n{_QUOTE_CLOSE}\n")
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Return the readable text of an HTML body; blockquotes become "> " lines."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # the stdlib parser on truly broken markup
        pass
    depth = 0
    lines: list[str] = []
    for line in "".join(parser.out).split("\n"):
        depth += line.count(_QUOTE_OPEN) - line.count(_QUOTE_CLOSE)
        depth = max(depth, 0)
        line = line.replace(_QUOTE_OPEN, "").replace(_QUOTE_CLOSE, "").strip()
        if line:
            lines.append("> " * depth + line if depth else line)
        elif lines and lines[-1]:
            lines.append("")
    return "\n".join(lines)


def normalise_text(text: str) -> str:
    """Unify line ends and spaces, drop invisible characters, collapse blank runs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\xa0", " ").replace("\u200b", "").replace("\ufeff", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# Where the quoted history starts: attribution lines and separators of common clients.
_QUOTE_START = re.compile(
    r"""
    ^[ \t]*(?:On|Am|Le|El|Il|Em|Op|W\ dniu|Dnia|Den|På)\b[^\n]{0,200}(?:\n[^\n]{0,200})?
        \b(?:wrote|schrieb|a\ écrit|escribió|ha\ scritto|escreveu|schreef|napisał\(a\)
        |napisała|napisał|pisze|skrev)[^\n]{0,160}?:
    | ^[ \t]*-{2,}[ \t]*(?:Original\ Message|Ursprüngliche\ Nachricht|Message\ d'origine
        |Mensaje\ original|Forwarded\ message|Original\ message|Messaggio\ originale
        |Mensagem\ original|Oorspronkelijk\ bericht|Oryginalna\ wiadomość
        |Wiadomość\ oryginalna|Ursprungligt\ meddelande|Originalmeddelande)[ \t]*-{2,}[ \t]*$
    | ^[ \t]*_{10,}[ \t]*$
    | ^[ \t]*\*?(?:From|Von|De|Da|Van|Od|Från)[ \t]?:\*?[ \t][^\n]+\n
        [ \t]*\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Enviada|Fecha|Inviato|Verzonden|Wysłano
        |Skickat|Data)[ \t]?:
    """,
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)


def reply_part(text: str) -> str:
    """Return what the sender wrote, without the quoted history below or beside it."""
    match = _QUOTE_START.search(text)
    head = text[: match.start()] if match else text
    kept = "\n".join(line for line in head.split("\n") if not line.lstrip().startswith(">"))
    kept = normalise_text(kept)
    if kept:
        return kept
    # Bottom-posted: the answer follows the quote. Keep the unquoted lines.
    tail = _QUOTE_START.sub("", text)
    kept = "\n".join(line for line in tail.split("\n") if not line.lstrip().startswith(">"))
    return normalise_text(kept)
