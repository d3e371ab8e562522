"""Offices named without their names: by the title of their holder, or their group's name.

"The Secretary General said" names the OSCE Secretary General's office, "CiO Borg" the
Chairpersonship, "PA President Tsereteli" the Parliamentary Assembly, and "the OSCE's
Asian Partner Japan" the Asian Partners for Co-operation. Such a phrase is not a label
of the office (a publisher never declares "High Commissioner" as a place), and whether
it counts depends on its neighbours, so the references live here, with the rules:

- A bare title ('Secretary General', 'High Commissioner') counts only in an item that
  names the OSCE, and only if no other organisation owns it: 'UN Secretary-General',
  'NATO Secretary General', 'Assistant Secretary-General' do not count, and the
  nearest 'OSCE' before the title settles it the other way.
- No title counts when it belongs to something else: 'Secretary General of NATO',
  'High Commissioner for Refugees'. ('of the OSCE' is fine.)
- Titles that carry 'OSCE' ('OSCE Chairman', 'OSCE PA Secretary General') need no
  context; the longest phrase wins, so 'Secretary General of the OSCE Parliamentary
  Assembly' names the Assembly and not the Secretary General.

Russian titles follow the same rules, in each case form ("Генеральный секретарь",
"генеральным секретарём"). Russian puts a title's owner after it, in the genitive,
so 'Генеральный секретарь ООН' or 'верховный комиссар ООН по делам беженцев' does
not count, and 'ОБСЕ' (like 'OSCE') names the OSCE for a bare title.

A reference found in the text is evidence like a name: its span, with ``source:
inferred``. Every office id here must exist in the taxonomy (the scanner checks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Reference:
    """A phrase that stands for an office."""

    office: str
    text: str
    #: Counts only in an item that names the OSCE, and not after another body's name.
    bare: bool = False
    #: Matched with this exact spelling (short abbreviations such as 'CiO').
    case_sensitive: bool = False


def _russian(
    office: str, heads: tuple[str, ...], tail: str = "", *, bare: bool = False
) -> tuple[Reference, ...]:
    """One Russian title in each of its case forms: ``heads`` are the declined words."""
    return tuple(Reference(office, f"{head} {tail}".strip(), bare=bare) for head in heads)


_SECRETARY_GENERAL: Final = (
    "генеральный секретарь",
    "генерального секретаря",
    "генеральному секретарю",
    "генеральным секретарем",
    "генеральном секретаре",
    "генсек",
    "генсека",
    "генсеку",
    "генсеком",
    "генсеке",
)
_CHAIR: Final = ("председатель", "председателя", "председателю", "председателем", "председателе")
_ACTING_CHAIR: Final = (
    "действующий председатель",
    "действующего председателя",
    "действующему председателю",
    "действующим председателем",
    "действующем председателе",
)
_HIGH_COMMISSIONER: Final = (
    "верховный комиссар",
    "верховного комиссара",
    "верховному комиссару",
    "верховным комиссаром",
    "верховном комиссаре",
)
_DIRECTOR: Final = ("директор", "директора", "директору", "директором", "директоре")

#: Russian titles (a Russian item names its office holders like an English one).
RUSSIAN: Final[tuple[Reference, ...]] = (
    *_russian("secretary-general", _SECRETARY_GENERAL, bare=True),
    *_russian("chairpersonship", _CHAIR, "ОБСЕ"),
    *_russian("chairpersonship", _ACTING_CHAIR, bare=True),
    *_russian("hcnm", _HIGH_COMMISSIONER, "ОБСЕ"),
    *_russian("hcnm", _HIGH_COMMISSIONER, bare=True),
    *_russian("odihr", _DIRECTOR, "БДИПЧ"),
    *_russian("osce-pa", _CHAIR, "ПА ОБСЕ"),
    *_russian("osce-pa", _CHAIR, "Парламентской ассамблеи ОБСЕ"),
    *_russian("osce-pa", _SECRETARY_GENERAL[:5], "ПА ОБСЕ"),
    *_russian("osce-pa", _SECRETARY_GENERAL[:5], "Парламентской ассамблеи ОБСЕ"),
)

REFERENCES: Final[tuple[Reference, ...]] = (
    Reference("secretary-general", "Secretary General", bare=True),
    Reference("chairpersonship", "CiO", bare=True, case_sensitive=True),
    Reference("chairpersonship", "OSCE Chair"),
    Reference("chairpersonship", "OSCE Chairman"),
    Reference("chairpersonship", "OSCE Chairwoman"),
    Reference("chairpersonship", "OSCE Chairperson"),
    # Special Representatives of the Chairperson-in-Office are published under the
    # Chairmanship; the Personal Representatives have an office of their own.
    Reference("chairpersonship", "Special Representative of the OSCE Chairperson-in-Office"),
    Reference("chairpersonship", "Special Representative of OSCE Chairperson-in-Office"),
    Reference("chairpersonship", "Special Representative of the Chairperson-in-Office"),
    Reference(
        "chairpersonship", "Special Representative for the Transdniestrian Settlement Process"
    ),
    Reference("hcnm", "High Commissioner", bare=True),
    Reference("rfom", "OSCE Representative"),
    Reference("rfom", "OSCE media freedom representative"),
    Reference("odihr", "ODIHR Director"),
    Reference("odihr", "Director of ODIHR"),
    Reference("odihr", "OSCE human rights head"),
    Reference("osce-pa", "PA President", bare=True),
    Reference("osce-pa", "PA Secretary General", bare=True),
    Reference("osce-pa", "OSCE PA President"),
    Reference("osce-pa", "OSCE PA Secretary General"),
    Reference("osce-pa", "President of the OSCE Parliamentary Assembly"),
    Reference("osce-pa", "Secretary General of the OSCE Parliamentary Assembly"),
    Reference("asian-partners", "Asian Partner", bare=True),
    Reference("asian-partners", "Asian Partners", bare=True),
    Reference("mediterranean-partners", "Mediterranean Partner", bare=True),
    Reference("mediterranean-partners", "Mediterranean Partners", bare=True),
    *RUSSIAN,
)

#: Words that, just before a bare title, make it another body's ('UN Secretary-General').
OTHER_BODIES: Final = frozenset(
    {
        "un",
        "nations",
        "nato",
        "eu",
        "union",
        "europe",
        "coe",
        "council",
        "commission",
        "pa",
        "assembly",
        "parliamentary",
        "deputy",
        "assistant",
        "under",
        # Russian: deputies and assistants ('заместитель генерального секретаря')
        "заместитель",
        "заместителя",
        "заместителю",
        "заместителем",
        "помощник",
        "помощника",
    }
)
#: Russian: the first word after a title that makes it another body's, in the
#: genitive ('Генеральный секретарь ООН', 'верховный комиссар по правам человека').
OWNED_BY_RU: Final = frozenset(
    {
        "оон",
        "нато",
        "ес",
        "евросоюза",
        "совета",
        "снг",
        "одкб",
        "шос",
        "пасе",
        "оис",
        "еаэс",
        "по",
        "парламентской",
        "па",
    }
)
#: 'Генеральный секретарь Организации Объединённых Наций': the owner is spelled out.
_UNITED_NATIONS: Final = ("организации", "объединенных")
#: The OSCE's own name in each language, as a word.
OSCE_WORDS: Final = frozenset({"osce", "обсе"})
#: Words that, just after a title, give it an owner ('Secretary General of NATO').
OWNED_BY: Final = frozenset({"of", "for", "to", "on"})
#: How many words before a bare title, in its sentence, are looked at: enough for
#: 'PA President George Tsereteli and Secretary General Roberto Montella'.
LOOK_BEHIND: Final = 8
#: 'of the OSCE' followed by one of these is still another body's ('of the OSCE PA').
_OSCE_BODIES: Final = frozenset({"pa", "parliamentary"})
_SENTENCE_END: Final = re.compile(r"[.;:!?]\s")
_WORD: Final = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    """Lower-case words, possessive 's dropped: "NATO's" -> ['nato'], 'UN-led' -> ['un', 'led'].

    Russian 'ё' is 'е', as in matching ('объединённых' = 'объединенных').
    """
    return [w for w in _WORD.findall(text.lower().replace("ё", "е")) if w != "s"]


def counts(reference_bare: bool, text: str, start: int, end: int, osce_named: bool) -> bool:
    """Whether a reference found at ``text[start:end]`` stands for its office here."""
    after = _words(text[end : end + 60])[:4]
    if after and (
        tuple(after[:2]) == _UNITED_NATIONS
        # 'по' gives a bare title an owner ('верховный комиссар по правам человека');
        # after 'верховный комиссар ОБСЕ' it only says what the office does.
        or (after[0] in OWNED_BY_RU and (reference_bare or after[0] != "по"))
    ):
        return False
    if after and after[0] in OWNED_BY:
        rest = after[1:]
        if rest[:1] == ["the"]:
            rest = rest[1:]
        if rest[:1] != ["osce"] or (rest[1:2] and rest[1] in _OSCE_BODIES):
            return False
    if not reference_bare:
        return True
    if not osce_named:
        return False
    before = text[max(0, start - 120) : start]
    ends = list(_SENTENCE_END.finditer(before))
    if ends:
        before = before[ends[-1].end() :]
    words = _words(before)[-LOOK_BEHIND:]
    for at in range(len(words) - 1, -1, -1):
        word = words[at]
        if word in OSCE_WORDS and words[at + 1 : at + 2] not in (
            ["pa"],
            ["parliamentary"],
            ["па"],
            ["парламентской"],
        ):
            return True
        if word in OTHER_BODIES:
            return False
    return True
