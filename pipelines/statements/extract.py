"""Statements in article text: direct quotes and reported speech, each with its speaker.

Direct quotes are found at paragraph level in each language's conventions (« », „ “, “ ”,
straight quotes, and the dash-led quote of Norwegian and Russian dialogue, ``– Text, sier X.``);
a quote is attributed by the speech verb right after it (``», — заявил X``, ``," said X``,
``, he told``) or before it (``X said: "...``, ``По словам X, «...»``). Reported speech is a
sentence with a speech verb (said, told, according to; заявил, по словам; sier, ifølge).
The speaker is a watched actor when one is named there, a pronoun's antecedent (the last
person named in this or the previous paragraph), or otherwise the name as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sentencex import segment

from pipelines.statements.keys import Keyer, Token
from pipelines.statements.mentions import Mention, MentionIndex

# speech verbs by lemma (Cyrillic: pymorphy3 normal form; Latin: Snowball stem, lowercase)
SPEECH_VERBS: dict[str, frozenset[str]] = {
    "ru": frozenset(["заявить", "сообщить", "отметить", "сказать", "добавить", "подчеркнуть", "пояснить", "рассказать", "говорить", "считать", "указать", "уточнить", "признать", "ответить", "заверить", "прокомментировать", "опровергнуть", "отвергнуть", "объяснить", "написать", "назвать", "призвать", "потребовать", "констатировать", "заметить", "утверждать", "предупредить"]),
    "uk": frozenset(["заявити", "повідомити", "сказати", "зазначити", "додати", "наголосити", "пояснити", "розповісти", "говорити", "вважати", "відповісти", "написати", "назвати"]),
    "en": frozenset(["said", "say", "says", "told", "tell", "tell", "stat", "state", "stated", "ad", "add", "added", "note", "noted", "explain", "insist", "deni", "deny", "claim", "warn", "urg", "dismiss", "comment", "describ", "wrote", "write", "repli", "repli", "respond", "argu", "insist", "confirm"]),
    "nb": frozenset(["sier", "sa", "si", "uttal", "uttalt", "uttalte", "opplys", "opplyst", "opplyste", "fortell", "fortel", "fortalt", "fortalte", "skriv", "skriver", "skrev", "men", "mene", "mener", "hevd", "hevder", "hevdet", "avvis", "avvist", "avvis", "avviser", "avviste", "understrek", "understreker", "kall", "kalt", "kalte", "legg", "påpek", "påpeker", "bekreft", "bekrefter", "bekreftet"]),
}
# "according to X", "по словам X", "ifølge X": the speaker follows, up to the next comma
ACCORDING_TO = {
    "ru": (("по", "слово"), ("по", "данные"), ("по", "мнение")),
    "uk": (("за", "слово"),),
    "en": (("accord", "to"),),
    "nb": (("ifølg",),),
}
PRONOUNS = {
    "ru": frozenset(["он", "она", "его", "её", "ее", "ему", "ей", "него", "неё", "нее"]),
    "uk": frozenset(["він", "вона", "його", "її", "йому", "їй"]),
    "en": frozenset(["he", "she", "him", "her"]),
    "nb": frozenset(["han", "hun", "ham", "henne"]),
}
POSSESSIVES = frozenset(["его", "её", "ее", "их", "її", "його"])
# words that start a capitalized run without being part of a name
NAME_STOPWORDS = frozenset(["the", "a", "an", "this", "that", "his", "her", "their", "its", "in", "on", "at", "of", "for", "to", "by", "from", "den", "det", "de", "en", "et", "ei", "i", "på", "av", "til", "fra", "ifølge", "etter", "men", "og", "по", "в", "во", "на", "и", "из", "о", "об", "от", "для", "за", "но", "а", "как"])
# a capitalized run after these is a place or an addressee, not a speaker
NAME_BLOCKERS = frozenset(["in", "i", "into", "to", "til", "fra", "from", "в", "во", "из", "на", "к", "для", "near"])
NEGATIONS = frozenset(["не", "not", "never", "ikke", "aldri", "ні", "declined", "declines",
                       "refused", "refuses", "отказался", "отказалась", "отказались",
                       "отказалось", "avslo", "avslår"])
_QUOTE_PAIRS = {"«": "»", "“": "”", "„": "“", "‹": "›", '"': '"'}
_DASH_START = re.compile(r"(?:^|(?<=[.!?…]\s))\s*[–—-]\s+")
_NOBODY = ("", "")  # a pronoun with no antecedent: someone speaks, but we cannot say who
_MIN_QUOTE_WORDS = 3  # shorter quotes ("provocation") are words in a sentence, not statements
_PARAGRAPHS = re.compile(r"[^\n]+")
_QUOTE_CHARS = re.compile("[" + re.escape("".join({*_QUOTE_PAIRS, *_QUOTE_PAIRS.values()})) + "]")


@dataclass
class Found:
    """One statement found in one article."""

    kind: str  # direct | reported
    text: str
    paragraph: int
    start: int  # character offsets in the article body
    end: int
    speaker_actor: str = ""  # a watched actor's id, or ""
    speaker_name: str = ""  # as written (for an actor: the words that named it)
    translation: str = ""

    @property
    def speaker(self) -> str:
        return self.speaker_actor or self.speaker_name


@dataclass
class _Referent:
    actor: str
    name: str
    position: int  # body offset


@dataclass
class _Context:
    """What pronouns can refer to: persons named so far, with where they were named."""

    persons: list[_Referent] = field(default_factory=list)


def language_family(language: str) -> str:
    if language in ("nb", "nn", "no", "da", "sv"):
        return "nb"
    return language if language in SPEECH_VERBS else "en"


def paragraphs(body: str) -> list[tuple[int, str]]:
    """(offset, text) of each non-empty line of the body: the article's paragraphs."""
    return [(m.start(), m.group()) for m in _PARAGRAPHS.finditer(body) if m.group().strip()]


class StatementExtractor:
    def __init__(self, index: MentionIndex) -> None:
        self.index = index
        self.keyer: Keyer = index.keyer

    # -- whole text ---------------------------------------------------------------------------
    def extract(self, body: str, language: str) -> tuple[list[Found], list[Mention]]:
        """Statements and mentions of a body; mention offsets are in the body."""
        family = language_family(language)
        context = _Context()
        statements: list[Found] = []
        all_mentions: list[Mention] = []
        previous_paragraph_start = 0
        for number, (offset, text) in enumerate(paragraphs(body)):
            tokens = self.keyer.tokens(text, language)
            mentions = self.index.find(text, language, tokens)
            all_mentions.extend(Mention(m.actor, m.start + offset, m.end + offset, m.text, m.via,
                                        m.first_token, m.last_token) for m in mentions)
            # pronouns may reach back one paragraph, no further
            context.persons = [p for p in context.persons if p.position >= previous_paragraph_start]
            found = self._paragraph(text, offset, number, family, language, tokens, mentions,
                                    context)
            statements.extend(found)
            previous_paragraph_start = offset
        return statements, all_mentions

    # -- one paragraph --------------------------------------------------------------------------
    def _paragraph(self, text: str, offset: int, number: int, family: str, language: str,
                   tokens: list[Token], mentions: list[Mention], context: _Context) -> list[Found]:
        found: list[Found] = []
        covered: list[tuple[int, int]] = []
        events: list[tuple[int, str, str]] = []  # (position, actor, name) of persons named
        for m in mentions:
            actor = self.index.actors[m.actor]
            if actor.is_person:
                events.append((m.start, m.actor, m.text))
        for start, end in _names(tokens, mentions, family):
            events.append((tokens[start].start, "", text[tokens[start].start:tokens[end].end]))
        events.sort()

        def persons_before(position: int) -> list[_Referent]:
            here = [_Referent(a, n, offset + p) for p, a, n in events if p < position]
            return context.persons + here

        for q_start, q_end, inner_start, inner_end in _quotes(text, family, tokens):
            quote = text[inner_start:inner_end].strip(" ,")
            if len(quote.split()) < _MIN_QUOTE_WORDS:
                continue
            speaker = self._attribute_quote(text, q_start, q_end, family, tokens, mentions,
                                            persons_before)
            if speaker is None or speaker == _NOBODY:
                continue
            found.append(Found("direct", quote, number, offset + inner_start,
                               offset + inner_start + len(quote), *speaker))
            covered.append((q_start, q_end))
        for s_start, s_end in _sentences(text, language):
            if any(s_start < c_end and c_start < s_end for c_start, c_end in covered):
                continue
            speaker = self._attribute_sentence(text, s_start, s_end, family, tokens, mentions,
                                               persons_before)
            if speaker is None or speaker == _NOBODY:
                continue
            sentence = text[s_start:s_end].strip()
            lead = len(text[s_start:s_end]) - len(text[s_start:s_end].lstrip())
            found.append(Found("reported", sentence, number, offset + s_start + lead,
                               offset + s_start + lead + len(sentence), *speaker))
        for f in found:
            if f.speaker_actor and self.index.actors[f.speaker_actor].is_person or (
                    not f.speaker_actor and f.speaker_name):
                context.persons.append(_Referent(f.speaker_actor, f.speaker_name, f.start))
        context.persons.extend(_Referent(a, n, offset + p) for p, a, n in events)
        context.persons.sort(key=lambda r: r.position)
        found.sort(key=lambda f: f.start)
        return found

    # -- attribution ----------------------------------------------------------------------------
    def _attribute_quote(self, text, q_start, q_end, family, tokens, mentions, persons_before):
        """Speaker of the quote text[q_start:q_end] from the words after it, else before it."""
        after = [i for i, t in enumerate(tokens) if t.start >= q_end]
        sentence_end = _sentence_end(text, q_end)
        after = [i for i in after if tokens[i].start < sentence_end]
        gap = text[q_end:tokens[after[0]].start] if after else ""
        joint = text[max(0, q_end - 2):q_end] + gap
        if after and re.fullmatch(r"[\s,.!?:;—–-]*", gap) and any(c in joint for c in ",—–!?"):
            verb = next((i for i in after[:8] if self._is_speech_verb(tokens[i], family)), None)
            if verb is not None:
                before_verb = [i for i in after if i < verb]
                after_verb = [i for i in after if i > verb]
                speaker = (self._speaker(before_verb, tokens, mentions, family, persons_before, text)
                           if before_verb else None)
                if speaker is None:
                    speaker = self._speaker(after_verb, tokens, mentions, family, persons_before,
                                            text, from_start=True)
                return None if speaker == _NOBODY else speaker
        sentence_start = _sentence_start(text, q_start)
        before = [i for i, t in enumerate(tokens) if sentence_start <= t.start and t.end <= q_start]
        if not before:
            return None
        according = self._according_to(before, tokens, family, text)
        if according is not None:
            return self._speaker(according, tokens, mentions, family, persons_before, text)
        verbs = [i for i in before if self._is_speech_verb(tokens[i], family)]
        if not verbs:
            return None
        verb = verbs[-1]
        if self._negated(verb, tokens):
            return None
        subject = [i for i in before if i < verb]
        speaker = self._speaker(subject, tokens, mentions, family, persons_before, text)
        if speaker is None:
            speaker = self._speaker([i for i in before if i > verb], tokens, mentions, family,
                                    persons_before, text)
        return None if speaker == _NOBODY else speaker

    def _attribute_sentence(self, text, s_start, s_end, family, tokens, mentions, persons_before):
        inside = [i for i, t in enumerate(tokens) if s_start <= t.start < s_end]
        if not inside:
            return None
        quoted = _quoted_ranges(text[s_start:s_end], s_start)
        according = self._according_to(inside, tokens, family, text)
        if according is not None:
            return self._speaker(according, tokens, mentions, family, persons_before, text)
        for verb in inside:
            token = tokens[verb]
            if any(a <= token.start < b for a, b in quoted):
                continue
            if not self._is_speech_verb(token, family) or self._negated(verb, tokens):
                continue
            before = [i for i in inside if i < verb and not any(a <= tokens[i].start < b
                                                                  for a, b in quoted)]
            speaker = self._speaker(before, tokens, mentions, family, persons_before, text,
                                    pronoun_window=3)
            if speaker is None:
                after = [i for i in inside if i > verb][:8]
                speaker = self._speaker(after, tokens, mentions, family, persons_before, text,
                                        pronoun_window=1, from_start=True)
            if speaker == _NOBODY:
                return None
            if speaker is not None:
                return speaker
        return None

    def _according_to(self, indices, tokens, family, text):
        """Token indices of the speaker after "according to X," / "по словам X," / "ifølge X,"."""
        for phrase in ACCORDING_TO.get(family, ()):
            for n, i in enumerate(indices):
                window = indices[n:n + len(phrase)]
                if (len(phrase) == 2 and n + 2 < len(indices)
                        and tokens[i].text.casefold() == phrase[0]
                        and tokens[indices[n + 1]].text.casefold() in POSSESSIVES
                        and tokens[indices[n + 2]].lemma == phrase[1]):
                    return [indices[n + 1]]  # "по его словам": the pronoun speaks
                if len(window) == len(phrase) and all(
                        tokens[j].lemma == word or tokens[j].text.casefold() == word
                        for j, word in zip(window, phrase)):
                    out = []
                    for j in indices[n + len(phrase):]:
                        out.append(j)
                        if j + 1 < len(tokens) and "," in text[tokens[j].end:tokens[j + 1].start]:
                            break
                    return out[:8] or None
        return None

    def _is_speech_verb(self, token: Token, family: str) -> bool:
        verbs = SPEECH_VERBS[family]
        # "ответят на вопросы" announces words still to come: not a statement
        return (token.lemma in verbs or token.text.casefold() in verbs) and not token.future

    @staticmethod
    def _negated(verb: int, tokens: list[Token]) -> bool:
        return any(tokens[j].text.casefold() in NEGATIONS for j in range(max(0, verb - 2), verb))

    def _speaker(self, indices, tokens, mentions, family, persons_before, text,
                 pronoun_window: int | None = None, from_start: bool = False):
        """(actor id, name as written) of who speaks in these words, or None."""
        if not indices:
            return None
        lo, hi = tokens[indices[0]].start, tokens[indices[-1]].end
        inside = [m for m in mentions if lo <= m.start and m.end <= hi]
        persons = [m for m in inside if self.index.actors[m.actor].is_person]
        if persons:
            return persons[0].actor, persons[0].text
        names = [(a, b) for a, b in _names(tokens, mentions, family) if a in indices]
        if names:
            a, b = names[0]
            return "", text[tokens[a].start:tokens[b].end]
        if inside:
            return inside[0].actor, inside[0].text
        pronouns = PRONOUNS.get(family, frozenset())
        window = indices
        if pronoun_window is not None:
            window = indices[:pronoun_window] if from_start else indices[-pronoun_window:]
            singles = window[:2] if from_start else window[-2:]
            if from_start and family == "en":
                singles = []  # "told Kolokol": English names the addressee after the verb
            for i in singles:
                t = tokens[i]
                if i > 0 and re.search(r"[«“„\"]", text[tokens[i - 1].end:t.start]):
                    continue
                if (t.capitalized and not t.text.isupper() and len(t.text) > 2
                        and t.text.casefold() not in pronouns | NAME_STOPWORDS
                        and not self._is_speech_verb(t, family)
                        and (i == 0 or tokens[i - 1].text.casefold() not in NAME_BLOCKERS)
                        and _sentence_start(text, t.start) != t.start):
                    return "", t.text  # a surname alone, next to the verb
        for i in window:
            if tokens[i].text.casefold() in pronouns:
                referents = persons_before(tokens[i].start)
                if referents:
                    ref = referents[-1]
                    return ref.actor, ref.name
                return _NOBODY
        return None


def _names(tokens: list[Token], mentions: list[Mention], family: str) -> list[tuple[int, int]]:
    """Runs of two or more capitalized words not already a mention: names of unwatched people."""
    taken = {i for m in mentions for i in range(m.first_token, m.last_token + 1)}
    runs, start = [], None
    pronouns = PRONOUNS.get(family, frozenset())
    for i, token in enumerate(tokens + [None]):
        good = (token is not None and token.capitalized and i not in taken
                and token.text.casefold() not in pronouns and len(token.text) > 1
                and token.text.casefold() not in NAME_STOPWORDS
                and not token.text.isupper()
                and (start is None or token.start - tokens[i - 1].end <= 1))
        if good and start is None:
            start = i
        elif not good and start is not None:
            if i - start >= 2 and (start == 0 or tokens[start - 1].text.casefold()
                                   not in NAME_BLOCKERS):
                runs.append((start, i - 1))
            start = None
            if token is not None and token.capitalized and i not in taken:
                start = i
    return runs


def _sentence_end(text: str, position: int) -> int:
    match = re.compile(r"[.!?](?=\s|$)").search(text, position)
    return match.end() if match else len(text)


_SENTENCE_BREAK = re.compile(r"[.!?][\"»”“'’]*\s+")


def _sentence_start(text: str, position: int) -> int:
    """Where the sentence holding ``position`` starts: after the last '. ', also when a closing
    quote stands between the stop and the space ('… provocation." Osechkin said: "…')."""
    start = 0
    for match in _SENTENCE_BREAK.finditer(text, 0, position):
        start = match.end()
    return start


def _sentences(text: str, language: str) -> list[tuple[int, int]]:
    spans, position = [], 0
    for sentence in segment(language or "en", text):
        start = text.find(sentence.strip(), position) if sentence.strip() else -1
        if start < 0:
            continue
        end = start + len(sentence.strip())
        spans.append((start, end))
        position = end
    return spans


def _quoted_ranges(text: str, offset: int) -> list[tuple[int, int]]:
    return [(offset + a, offset + b) for a, b, _, _ in _quotes(text, "", None)]


def _quotes(text: str, family: str, tokens: list[Token] | None) -> list[tuple[int, int, int, int]]:
    """Top-level quotes: (start, end, inner start, inner end); nested quotes stay inside."""
    spans = []
    dashed: list[tuple[int, int]] = []
    if family in ("nb", "ru", "uk") and tokens is not None:
        # "– Text, sier X." / "— Текст, — сказал он.": the quote runs to the attribution
        attribution = re.compile(r"[,!?]\s*(?:[–—]\s*)?(?=\w)")
        for dash in _DASH_START.finditer(text):
            end = _sentence_end(text, dash.end())
            starts = {t.start: t for t in tokens}
            for match in attribution.finditer(text, dash.end(), end):
                token = starts.get(match.end())
                if token is not None and (token.lemma in SPEECH_VERBS.get(family, ())
                                          or token.text.casefold() in SPEECH_VERBS.get(family, ())):
                    spans.append((dash.start(), match.start() + 1, dash.end(), match.start()))
                    dashed.append((dash.start(), match.start() + 1))
                    break
    stack: list[tuple[str, int]] = []
    for match in _QUOTE_CHARS.finditer(text):
        i, ch = match.start(), match.group()
        if any(a <= i < b for a, b in dashed):
            continue
        if stack and ch == _QUOTE_PAIRS[stack[-1][0]] and not (ch == "“" and stack[-1][0] == "“"):
            _opener, start = stack.pop()
            if not stack:
                spans.append((start, i + 1, start + 1, i))
        elif ch in _QUOTE_PAIRS and ch != "»" and not (ch == '"' and stack and stack[-1][0] == '"'):
            stack.append((ch, i))
    return sorted(spans)
