"""Unsubscribe requests in the nine languages of issue 15, polite and curt, written above our
quoted text; and ordinary replies in each language whose quote carries our own footer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from crm.mail.classify import UNSUBSCRIBE_PHRASES, classify
from crm.mail.parse import BodyPart, parse_message


@dataclass(frozen=True)
class Language:
    code: str
    attribution: str  # how a mail client in this language introduces the quote
    requests: tuple[str, ...]  # polite first, then curt
    replies: tuple[str, ...]  # ordinary answers that must stay human replies


# Our first email as the prospect's client quotes it, footer included: words such as
# "unsubscribe" or "abmelden" in it are ours, never the prospect's request.
OUR_TEXT = (
    "Hi Sarah,\n\nI loved your list of Gantt chart templates. Our free template might fit.\n\n"
    'Ana\n\nNot interested? Reply "unsubscribe" / abmelden / désinscrire / darme de baja /'
    " disiscrivimi / descadastrar / uitschrijven / wypisz mnie / avregistrera and we stop."
)

LANGUAGES = [
    Language("en", "On Mon, 2 Nov 2026 at 10:00, Ana Lopez <ana@sample-site.example> wrote:",
             ("Hi Ana, could you please remove me from your mailing list? Thanks.",
              "Please don't contact me again.", "Unsubscribe.", "Stop emailing me."),
             ("Sure, happy to add it.", "Thanks, which page do you mean?")),
    Language("de", "Am Mo., 2. Nov. 2026 um 10:00 Uhr schrieb Ana Lopez <ana@sample-site.example>:",
             ("Hallo Ana, bitte nehmen Sie mich aus Ihrem Verteiler. Vielen Dank.",
              "Ich möchte keine E-Mails mehr von Ihnen erhalten.",
              "Bitte tragen Sie mich aus.", "Abmelden.", "Schreiben Sie mir nicht mehr."),
             ("Gerne, ich nehme die Vorlage auf.", "Danke, welche Seite meinen Sie genau?")),
    Language("fr", "Le lun. 2 nov. 2026 à 10:00, Ana Lopez <ana@sample-site.example> a écrit :",
             ("Bonjour Ana, merci de ne plus m'écrire. Bonne journée.",
              "Pourriez-vous me retirer de votre liste de diffusion ?",
              "Ne m’écrivez plus.", "Désinscrivez-moi.", "Arrêtez de m'envoyer des e-mails."),
             ("Avec plaisir, je l'ajoute cette semaine.", "Merci, de quelle page parlez-vous ?")),
    Language("es", "El lun, 2 nov 2026 a las 10:00, Ana Lopez (<ana@sample-site.example>) "
                   "escribió:",
             ("Hola Ana, por favor, no me escriba más. Un saludo.",
              "Le agradecería que me diera de baja: por favor, denme de baja de su lista.",
              "Dadme de baja.", "Bórrenme de su lista.", "Deje de escribirme."),
             ("Claro, lo añado esta semana.", "Gracias, ¿a qué página se refiere?")),
    Language("it", "Il giorno lun 2 nov 2026 alle ore 10:00 Ana Lopez <ana@sample-site.example> "
                   "ha scritto:",
             ("Buongiorno Ana, la prego di non scrivermi più. Cordiali saluti.",
              "Per favore cancellatemi dalla vostra lista.",
              "Non contattatemi più.", "Disiscrivimi.", "Basta email."),
             ("Certo, lo aggiungo volentieri.", "Grazie, a quale pagina si riferisce?")),
    Language("pt", "Em seg., 2 de nov. de 2026 às 10:00, Ana Lopez <ana@sample-site.example> "
                   "escreveu:",
             ("Olá Ana, por favor remova-me da sua lista. Obrigado.",
              "Agradeço que não me envie mais e-mails.",
              "Não quero receber mais emails.", "Descadastrar.", "Pare de me enviar e-mails."),
             ("Claro, vou adicionar esta semana.", "Obrigado, de que página está a falar?")),
    Language("nl", "Op ma 2 nov. 2026 om 10:00 schreef Ana Lopez <ana@sample-site.example>:",
             ("Hallo Ana, wilt u mij niet meer mailen? Alvast bedankt.",
              "Graag uitschrijven, ik wil geen e-mails meer ontvangen.",
              "Haal mij van uw lijst.", "Uitschrijven.", "Stop met mailen."),
             ("Prima, ik voeg het deze week toe.", "Bedankt, welke pagina bedoelt u?")),
    Language("pl", "W dniu 2.11.2026 o 10:00, Ana Lopez <ana@sample-site.example> napisał(a):",
             ("Dzień dobry, proszę więcej do mnie nie pisać. Pozdrawiam.",
              "Uprzejmie proszę o usunięcie mnie z listy mailingowej.",
              "Nie piszcie do mnie więcej.", "Wypisz mnie.",
              "Nie chcę otrzymywać tych wiadomości."),
             ("Jasne, dodam to w tym tygodniu.", "Dziękuję, o którą stronę chodzi?")),
    Language("sv", "Den mån 2 nov. 2026 kl 10:00 skrev Ana Lopez <ana@sample-site.example>:",
             ("Hej Ana, vänligen ta bort mig från er lista. Tack.",
              "Jag vill inte få fler mejl från er.",
              "Kontakta mig inte igen.", "Avregistrera.", "Sluta mejla mig."),
             ("Absolut, jag lägger till den i veckan.", "Tack, vilken sida menar du?")),
]  # fmt: skip


def _message(body: str, attribution: str, *, quoted: bool = True) -> bytes:
    lines = OUR_TEXT.split("\n")
    quote = "\n".join(("> " + line) if quoted else line for line in lines)
    return f"{body}\n\n{attribution}\n{quote}\n".encode()


def _verdict(body: str, language: Language, *, quoted: bool = True) -> str:
    header = (
        b"From: Sarah <sarah@blog.example>\r\nSubject: Re: Your Gantt chart round-up\r\n"
        b"Date: Tue, 3 Nov 2026 10:00:00 +0000\r\n\r\n"
    )
    facts = parse_message(header, BodyPart(_message(body, language.attribution, quoted=quoted)))
    return classify(facts, references_us=True).kind


def test_every_language_of_the_issue_has_phrases() -> None:
    assert set(UNSUBSCRIBE_PHRASES) == {lang.code for lang in LANGUAGES}


REQUESTS = [(lang, text) for lang in LANGUAGES for text in lang.requests]
REPLIES = [(lang, text) for lang in LANGUAGES for text in lang.replies]


@pytest.mark.parametrize(
    ("language", "text"), REQUESTS, ids=[f"{lang.code}:{text[:30]}" for lang, text in REQUESTS]
)
def test_unsubscribe_request_above_our_quoted_text_is_recognised(
    language: Language, text: str
) -> None:
    assert _verdict(text, language) == "unsubscribe_request"


@pytest.mark.parametrize(
    ("language", "text"), REPLIES, ids=[f"{lang.code}:{text[:30]}" for lang, text in REPLIES]
)
def test_ordinary_reply_whose_quote_has_our_footer_is_a_human_reply(
    language: Language, text: str
) -> None:
    assert _verdict(text, language) == "human_reply"
    # Clients that quote without ">" (Outlook-like): the attribution line alone ends the reply.
    assert _verdict(text, language, quoted=False) == "human_reply"
