"""What an inbound message is: bounce, auto-reply, out-of-office, unsubscribe, reply, unrelated.

Rules run in order and the first that matches wins (DESIGN §6). Each verdict
carries the evidence a specialist sees in the inbox, written for people:
`Auto-Submitted: auto-replied`, `Status: 5.1.1`. Whether the message answers
one of our messages, or comes from someone we wrote to, is decided by the
caller (matching needs the database) and passed in, so this stays pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from crm.mail.ooo import extract_return_date
from crm.mail.parse import InboundFacts

Kind = Literal[
    "human_reply", "auto_reply", "ooo", "bounce_hard", "bounce_soft",
    "unsubscribe_request", "unrelated",
]  # fmt: skip
KINDS: tuple[Kind, ...] = (
    "human_reply", "auto_reply", "ooo", "bounce_hard", "bounce_soft",
    "unsubscribe_request", "unrelated",
)  # fmt: skip


@dataclass(frozen=True)
class BounceInfo:
    """Who could not be reached, the enhanced status code, and whether it is final."""

    recipient: str | None
    status: str | None
    hard: bool


@dataclass(frozen=True)
class Classification:
    """The kind of a message, why, and what a bounce or out-of-office said."""

    kind: Kind
    evidence: list[str] = field(default_factory=list)
    bounce: BounceInfo | None = None
    return_date: date | None = None


_I = re.IGNORECASE
_ADDRESS = re.compile(r"[A-Za-z0-9._%+'=-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
# On-premises Exchange sends its reports as MicrosoftExchange<hex>@ the organisation.
_EXCHANGE_LOCALPART = re.compile(r"^microsoftexchange[0-9a-f]{16,}$")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver(?:ed|able)|mail delivery (?:failed|failure)|delivery status notification"
    r"|delivery (?:has )?failed|failure notice|returned mail|delivery failure"
    r"|message not delivered|could not be delivered|delivery (?:delayed|delay)|delayed mail"
    r"|warning: message \S+ delayed"
    r"|unzustellbar|nicht zustellbar|non remis|non distribuable|no se puede entregar"
    r"|no entregado", _I)  # fmt: skip
_BOUNCE_BODY = re.compile(
    r"could not be delivered|delivery has failed|failed permanently|wasn't delivered"
    r"|address(?:\(es\))? failed|couldn't be found|user unknown|recipient address rejected"
    r"|permanent error|temporary error|undeliverable|delivery to the following recipient"
    r"|mailbox (?:unavailable|full)|no such user|not yet been delivered|cannot be reached",
    _I,
)  # fmt: skip
_RECIPIENT_CUE = re.compile(
    r"address(?:\(es\)|es)? failed|recipients? failed|delivery to the following recipients?"
    r"|failed to these recipients|wasn't delivered to|could not be delivered to"
    r"|rcpt to:|recipient:|your message to|not yet been delivered|cannot be reached",
    _I,
)  # fmt: skip
# What phishing dressed as a mail-system notice says: quota warnings, "release your messages".
_NOTICE = re.compile(
    r"mailbox (?:is )?(?:almost |nearly )?full|(?:storage|mailbox|e-?mail) quota"
    r"|quota (?:exceeded|reached|limit)|over (?:your )?quota|storage (?:is )?(?:almost )?full"
    r"|release (?:your |the )?(?:pending |held |blocked |quarantined |incoming )?"
    r"(?:messages|e-?mails)"
    r"|(?:messages|e-?mails) (?:are |were )?(?:on hold|held|pending delivery|quarantined)"
    r"|verify your (?:mailbox|e-?mail account)|(?:mailbox|account) will be (?:suspended|closed"
    r"|deactivated)|delivery (?:has )?failed|undelivered messages", _I)  # fmt: skip
_TEXT_STATUS = (
    re.compile(r"(?<![\d.])[245]\d\d[ -]#?([245]\.\d{1,3}\.\d{1,3})(?![\d.])"),
    re.compile(r"#([45]\.\d{1,3}\.\d{1,3})(?![\d.])"),
    re.compile(r"\bstatus:\s*([245]\.\d{1,3}\.\d{1,3})\b", _I),
)
_TEXT_SMTP_CODE = re.compile(r"(?:said|returned|error|response)\W{1,4}([45])\d\d\b", _I)
_SOFT_TEXT = re.compile(
    r"temporar|mailbox (?:is )?full|over quota|quota exceeded|insufficient storage|delayed"
    r"|will (?:retry|try again)|still trying|try again later", _I)  # fmt: skip

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|autoreply"
    r"|automatische antwort|réponse automatique|respuesta automática|risposta automatica)\b"
    r"|\[auto[- ]?reply\]|\bauto[- ]?(?:reply|response)\b|we (?:have )?received your"
    r"|thank(?:s| you) for (?:contacting|reaching out|your (?:e-?mail|message|enquiry|inquiry))"
    r"|request received|\[ticket\b|ticket #\d", _I)  # fmt: skip
_OOO_SUBJECT = re.compile(
    r"\b(?:out of (?:the )?office|ooo|away from (?:the )?office|on (?:vacation|holiday|leave)"
    r"|abwesenheit(?:snotiz)?|abwesend|nicht im büro|im urlaub|absence|absente?"
    r"|en congés?|fuera de (?:la )?oficina|ausente|de vacaciones|ausencia)\b", _I)  # fmt: skip
_OOO_BODY = re.compile(
    r"\bI(?:'m|\u2019m| am) (?:currently |now )?(?:out of (?:the )?office|away|out"
    r"|on (?:vacation|holiday|leave|annual leave|parental leave|maternity leave"
    r"|paternity leave|sick leave|a business trip)|travell?ing)\b"
    r"|\bout of (?:the )?office\b|\b(?:limited|no) access to (?:my )?e-?mails?\b"
    r"|\bback in the office\b"
    r"|\bnicht im büro\b|\babwesend\b|\bim urlaub\b|\bnicht erreichbar\b"
    r"|\bje suis (?:actuellement )?(?:absente?|en congés?|en vacances)\b"
    r"|\babsente? du bureau\b|\bde retour le\b"
    r"|\bfuera de (?:la )?oficina\b|\bestoy (?:de vacaciones|ausente|fuera)\b"
    r"|\bde vacaciones\b", _I)  # fmt: skip
# Asking not to be written to again, politely or curtly, per language (issue 15). Read only in
# what the sender wrote (the quoted thread and the signature are cut off first).
_A = "['\u2019]"  # the apostrophe, typed or typographic
UNSUBSCRIBE_PHRASES: dict[str, str] = {
    "en": r"\bremove (?:me|us|my (?:e-?mail|address|name)|this (?:e-?mail|address))\b"
          r"|\bunsubscribe\b|\btake (?:me|us) off\b|\bopt (?:me |us )?out\b"
          r"|\bstop (?:e-?mailing|contacting|writing to|messaging|spamming|sending (?:me|us))\b"
          rf"|\b(?:do not|don{_A}t|dont|never) (?:e-?mail|contact|write to|message) (?:me|us)\b"
          r"|\bno more e-?mails\b"
          rf"|\b(?:do not|don{_A}t) (?:want|wish) to (?:receive|get) (?:any )?(?:more |further )?"
          r"(?:e-?mails|messages)\b",
    "de": r"\babmelden\b|\baustragen\b|\btragen sie (?:mich|uns) (?:\w+ ){0,4}aus\b"
          r"|\bnehmen sie (?:mich|uns) (?:\w+ ){0,4}(?:aus|von)\b|\bstreichen sie (?:mich|uns)\b"
          r"|\bentfernen sie (?:mich|uns|meine)\b"
          r"|\bkeine (?:weiteren )?(?:e-?mails|mails|nachrichten|anfragen)(?: mehr)?\b"
          r"|\b(?:kontaktieren|schreiben|mailen|anschreiben) sie (?:mich|uns|mir) nicht\b"
          r"|\bnicht mehr (?:kontaktieren|anschreiben|schreiben|anmailen|mailen)\b"
          r"|\bhören sie auf,? (?:mir|uns|mich) zu (?:schreiben|mailen|kontaktieren)\b",
    "fr": r"\bdésinscri|\bdésabonn|\bretirez[- ](?:moi|nous)\b"
          r"|\bsupprimez[- ](?:moi|nous|mon adresse)\b"
          rf"|\bne (?:me |nous |m{_A})(?:contactez|écrivez|envoyez|sollicitez)(?: \w+)? plus\b"
          rf"|\bne plus (?:me |nous |m{_A})(?:contacter|écrire|envoyer|solliciter)\b"
          rf"|\barrêtez de (?:me |nous |m{_A})(?:contacter|écrire|envoyer|solliciter|spammer)\b"
          r"|\b(?:me|nous) retirer de (?:votre|vos|la|ta)\b",
    "es": r"\b(?:dar(?:me|nos)|denme|dame|dadme|deme) de baja\b"
          r"|\b(?:solicito|pido) (?:la|mi) baja\b"
          r"|\bdej(?:e|en|a|ad) de (?:escribir|contactar|enviar)(?:me|nos)\b"
          r"|\bno (?:me|nos) (?:contacte|contacten|escriba|escriban|escribas|envíe|envíen"
          r"|vuelva|vuelvan)\b|\beliminen?(?:me)? de (?:su|la|vuestra|tu) lista\b"
          r"|\b(?:bórren|bórre|borrad|quíten|quíte|sáquen|sáque)me\b"
          r"|\bno quiero recibir más (?:correos|e-?mails|mensajes)\b",
    "it": r"\bnon (?:mi|ci) (?:scriv|contatt|mand|invi)\w*"
          r"|\bnon (?:scriver|contattar|mandar|inviar|scrivete|contattate|mandate|inviate)"
          r"(?:mi|ci)\b"
          r"|\b(?:cancella|rimuov[ei]|togli)(?:te)?(?:mi|ci)\b|\b(?:cancellar|rimuover|toglier)mi\b"
          r"|\bdisiscriv\w*|\bnon voglio (?:più )?ricevere\b|\bbasta (?:e-?mail|mail|messaggi)\b",
    "pt": r"\b(?:remova|removam|retire|retirem)[- ](?:me|nos)\b|\b(?:me|nos) (?:remova|removam)\b"
          r"|\bdescadastr\w*|\b(?:cancelar|anular) (?:a )?(?:minha )?(?:inscrição|subscrição)\b"
          r"|\bnão (?:me|nos) (?:envie|enviem|mande|mandem|contacte|contactem|contate|contatem"
          r"|escreva|escrevam)\b|\bpare(?:m)? de (?:me |nos )?(?:enviar|mandar|contactar|contatar"
          r"|escrever)\b|\bnão quero (?:mais )?receber\b",
    "nl": r"\buitschrijven\b|\bschrijf (?:mij|me|ons) uit\b"
          r"|\bhaal (?:mij|me|ons) (?:\w+ ){0,4}(?:van|uit)\b"
          r"|\bverwijder (?:mij|me|ons|mijn (?:e-?mail)?adres)\b"
          r"|\b(?:mail|e-?mail|contacteer|benader) (?:mij|me|ons) niet\b"
          r"|\bniet meer (?:mailen|e-?mailen|benaderen|contacteren|schrijven)\b"
          r"|\bstop met (?:(?:mij|me|ons) )?(?:te )?(?:mailen|e-?mailen|benaderen|contacteren)\b"
          r"|\bgeen (?:e-?mails|mails|berichten) meer\b",
    "pl": r"\bwypis(?:z|zcie|ać|anie) (?:mnie|nas)\b|\b(?:mnie|nas) wypisać\b"
          r"|\busu(?:ń|ńcie|nąć|nięcie) (?:mnie|nas|mój adres|mojego adresu)\b"
          r"|\bnie (?:piszcie|pisz|pisać|kontaktujcie|kontaktuj|kontaktować|wysyłajcie|wysyłaj"
          r"|wysyłać)(?: więcej)? (?:do mnie|ze mną|mi|do nas|z nami|nam)\b"
          r"|\b(?:do mnie|ze mną|mi|do nas|z nami|nam) (?:więcej )?nie (?:pisać|piszcie|pisz"
          r"|kontaktować|kontaktujcie|wysyłać|wysyłajcie)\b"
          r"|\bnie chcę (?:więcej )?otrzymywać\b|\brezygnuj\w* z (?:subskrypcji|newslettera)\b",
    "sv": r"\bavregistrera\b|\bavsluta (?:min )?prenumeration\b|\bavprenumerera\b"
          r"|\bta bort (?:mig|oss|min (?:e-?post)?adress)\b"
          r"|\bsluta (?:mejla|maila|skicka|kontakta|skriva)\b"
          r"|\b(?:mejla|maila|kontakta|skriv till) (?:mig|oss) inte\b"
          r"|\bjag vill inte (?:ha|få) (?:fler|mer|några fler) (?:mejl|mail|e-?post|meddelanden)\b"
          r"|\binga fler (?:mejl|mail|e-?post)\b",
}  # fmt: skip
_UNSUBSCRIBE = re.compile("|".join(f"(?:{p})" for p in UNSUBSCRIBE_PHRASES.values()), _I)
_REPLY_SUBJECT = re.compile(
    r"^\s*(?:re|aw|antw|réf|ref|rép|r|sv|odp|res|rif|vs)\s?(?:\[\d+\])?\s?:", _I)  # fmt: skip
_SIGNATURE = re.compile(r"^-- ?$", re.MULTILINE)


def classify(
    facts: InboundFacts,
    *,
    references_us: bool = False,
    from_correspondent: bool = False,
    from_colleague: bool = False,
    now: datetime | None = None,
) -> Classification:
    """Classify a message; `references_us`: its In-Reply-To/References hold one of our IDs.

    `from_correspondent`: the sender is an address we wrote to; `from_colleague`: the
    sender is someone else at the domain of an address we wrote to.
    """
    found = _bounce(facts, now)
    if found is None and not (references_us or from_correspondent):
        found = _look_alike(facts)  # someone we wrote to may well say their mailbox is full
    for rule in (_report, _automatic):
        if found is not None:
            return found
        found = rule(facts, now)
    if found is not None:
        return found
    if (facts.list_id or facts.list_unsubscribe) and not references_us:
        evidence = [f"List-Id: {facts.list_id}" if facts.list_id else "List-Unsubscribe header"]
        return Classification("unrelated", [*evidence, "not in reply to any of our messages"])
    spam = facts.headers.get("x-spam-flag", "")
    if spam.strip().lower() == "yes":
        return Classification("unrelated", [f"X-Spam-Flag: {spam}"])
    precedence = (facts.precedence or "").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return Classification("auto_reply", [f"Precedence: {facts.precedence}"])
    said = _unsubscribe_phrase(facts)
    if said:
        return Classification("unsubscribe_request", [f'says "{said}"'])
    if references_us:
        return Classification("human_reply", ["In-Reply-To/References name one of our messages"])
    if from_correspondent:
        return Classification("human_reply", ["from an address we wrote to"])
    if from_colleague:
        return Classification("human_reply", ["from the domain of an address we wrote to"])
    reply_prefix = _REPLY_SUBJECT.match(facts.subject)
    if reply_prefix:
        return Classification(
            "human_reply", [f'subject starts with "{reply_prefix.group(0).strip()}"']
        )
    return Classification("unrelated", ["not a reply to any of our messages"])


# --- bounces ---------------------------------------------------------------------------


def _from_daemon(facts: InboundFacts) -> str | None:
    """Say which header shows the message comes from a mail system (a display name never does)."""
    local = facts.from_address.partition("@")[0]
    if local in _DAEMON_LOCALPARTS or _EXCHANGE_LOCALPART.match(local):
        return f"From: {facts.from_address}"
    if facts.headers.get("return-path", "").strip() == "<>":  # the null sender of reports
        return "Return-Path: <>"
    return None


def _is_dsn(facts: InboundFacts) -> bool:
    return (
        facts.content_type == "multipart/report"
        and facts.report_type == "delivery-status"
        and facts.dsn is not None
    )


def _bounce(facts: InboundFacts, now: datetime | None) -> Classification | None:
    """A delivery report, or a known bounce template from a mail system naming who failed."""
    if _is_dsn(facts):
        return _dsn_bounce(facts)
    daemon = _from_daemon(facts)
    if daemon is None:  # X-Failed-Recipients or bounce words from anyone else prove nothing
        return None
    cue = _BOUNCE_SUBJECT.search(facts.subject) or _BOUNCE_BODY.search(facts.snippet)
    if cue is None:
        return None
    failed = facts.headers.get("x-failed-recipients", "").strip()
    recipient = _recipient_from_text(facts, failed)
    if recipient is None:  # a notice about our own mailbox ("quota exceeded"): no bounce
        return None
    evidence = [daemon, f'says "{cue.group(0)}"']
    if failed:
        evidence.append(f"X-Failed-Recipients: {failed}")
    status = _status_from_text(facts.snippet)
    return _bounce_verdict(recipient, status, facts.snippet, evidence)


def _dsn_bounce(facts: InboundFacts) -> Classification | None:
    dsn = facts.dsn
    assert dsn is not None
    evidence = ["Content-Type: multipart/report; report-type=delivery-status"]
    action = (dsn.action or "").split()[0] if dsn.action else ""
    if action in ("delivered", "relayed", "expanded"):
        return Classification("auto_reply", [f"delivery report: Action: {action}"])
    if action:
        evidence.append(f"Action: {action}")
    if dsn.final_recipient:
        evidence.append(f"Final-Recipient: {dsn.final_recipient}")
    if dsn.diagnostic_code:
        evidence.append(f"Diagnostic-Code: {dsn.diagnostic_code[:120]}")
    status = dsn.status or _status_from_text(dsn.diagnostic_code or "")
    status = status or _status_from_text(facts.snippet)
    if status is None and action == "delayed":
        status = "4.0.0"
    named = [r for r in (dsn.final_recipient, dsn.original_recipient) if r]
    recipient = next((r for r in named if _ADDRESS.fullmatch(r)), None)
    if named and recipient is None:  # "rfc822; victim.com": a domain is nobody's address
        evidence.append("the report names no email address")
    elif recipient is None:
        recipient = _recipient_from_text(facts, "")
    return _bounce_verdict(recipient, status, dsn.diagnostic_code or facts.snippet, evidence)


def _bounce_verdict(
    recipient: str | None, status: str | None, text: str, evidence: list[str]
) -> Classification:
    if status is not None:
        evidence.append(f"Status: {status}")
        # X.2.2 is "mailbox full": even as a 5xx it clears up, so it is not final.
        hard = status.startswith("5") and status != "5.2.2"
        if status == "5.2.2":
            evidence.append("mailbox full: treated as a soft bounce")
    else:
        soft = _SOFT_TEXT.search(text)
        hard = soft is None
        evidence.append(f'says "{soft.group(0)}"' if soft else "no status code: treated as final")
    bounce = BounceInfo(recipient=recipient, status=status, hard=hard)
    return Classification("bounce_hard" if hard else "bounce_soft", evidence, bounce=bounce)


def _status_from_text(text: str) -> str | None:
    for pattern in _TEXT_STATUS:
        found = pattern.search(text)
        if found:
            return found.group(1)
    code = _TEXT_SMTP_CODE.search(text)
    return f"{code.group(1)}.0.0" if code else None


def _recipient_from_text(facts: InboundFacts, failed_header: str) -> str | None:
    ours = {facts.from_address, *facts.to, *facts.cc}
    candidates = _ADDRESS.findall(failed_header)
    cue = _RECIPIENT_CUE.search(facts.snippet)
    if cue:
        candidates += _ADDRESS.findall(facts.snippet[cue.start() :])
    candidates += _ADDRESS.findall(facts.snippet)
    for address in candidates:
        address = address.lower().strip(".'")
        if address not in ours and address.partition("@")[0] not in _DAEMON_LOCALPARTS:
            return address
    return None


def _look_alike(facts: InboundFacts) -> Classification | None:
    """A message that talks like a mail system but is no delivery report from one."""
    cue = _BOUNCE_SUBJECT.search(facts.subject) or _NOTICE.search(facts.subject)
    cue = cue or _NOTICE.search(facts.reply_text[:1000])
    if cue is None:
        return None
    return Classification(
        "unrelated",
        [f'says "{cue.group(0)}" like a mail-system notice',
         "but it is no delivery report and names no message of ours"],
    )  # fmt: skip


# --- reports, auto-replies and out-of-office ------------------------------------------


def _report(facts: InboundFacts, now: datetime | None) -> Classification | None:
    if facts.report_type == "disposition-notification":
        return Classification("auto_reply", ["read receipt (report-type=disposition-notification)"])
    return None


def _automatic(facts: InboundFacts, now: datetime | None) -> Classification | None:
    signals = []
    auto = (facts.auto_submitted or "").strip()
    if auto and auto.split(";")[0].strip().lower() != "no":
        signals.append(f"Auto-Submitted: {auto}")
    for name, value in (("X-Autoreply", facts.x_autoreply),
                        ("X-Autorespond", facts.x_autorespond),
                        ("X-Autogenerated", facts.headers.get("x-autogenerated"))):  # fmt: skip
        if value:
            signals.append(f"{name}: {value}")
    if (facts.precedence or "").strip().lower() == "auto_reply":
        signals.append(f"Precedence: {facts.precedence}")
    auto_subject = _AUTO_SUBJECT.search(facts.subject)
    ooo_subject = _OOO_SUBJECT.search(facts.subject)
    if facts.x_auto_response_suppress and (auto_subject or ooo_subject):
        signals.append(f"X-Auto-Response-Suppress: {facts.x_auto_response_suppress}")
    ooo_body = _OOO_BODY.search(facts.reply_text)
    cues = []
    if ooo_subject:
        cues.append(f'subject says "{ooo_subject.group(0)}"')
    if ooo_body:
        cues.append(f'says "{ooo_body.group(0)}"')
    # An out-of-office written by a person's own client may lack every header: accept
    # the phrase alone only at the top of a short message.
    alone = bool(
        ooo_body and ooo_body.start() < 200 and len(facts.reply_text) < 600
        and not _REPLY_SUBJECT.match(facts.subject)
    )  # fmt: skip
    if cues and (signals or auto_subject or ooo_subject or alone):
        evidence = signals + ([f'subject says "{auto_subject.group(0)}"'] if auto_subject else [])
        return _ooo(facts, evidence + cues, now)
    if auto_subject:
        signals.append(f'subject says "{auto_subject.group(0).strip()}"')
    if signals:
        return Classification("auto_reply", signals)
    return None


def _ooo(facts: InboundFacts, evidence: list[str], now: datetime | None) -> Classification:
    reference = facts.date or now
    if reference is None:
        return Classification("ooo", [*evidence, "no message date to read a return date"])
    found = extract_return_date(f"{facts.subject}\n{facts.reply_text}", sent=reference.date())
    if found is None or found.on < reference.date():
        return Classification("ooo", [*evidence, "no return date stated"])
    return Classification(
        "ooo", [*evidence, f'return date {found.on.isoformat()} ("{found.phrase}")'],
        return_date=found.on,
    )  # fmt: skip


def _unsubscribe_phrase(facts: InboundFacts) -> str | None:
    text = facts.reply_text
    signature = _SIGNATURE.search(text)
    text = text[: signature.start()] if signature else text
    found = _UNSUBSCRIBE.search(facts.subject) or _UNSUBSCRIBE.search(text[:1000])
    return found.group(0) if found else None
