"""Which language a message is written in, offline.

lingua-language-detector ships its language models inside the wheel (nothing is downloaded at run
time). It is restricted to a handful of languages for speed, and an English pre-check skips it for
the common case: a message whose words are mostly common English words is English. Short or unclear
messages default to English; a misread only adds a notice, it never removes a safety check (the
Spanish and French red-flag lexicons run on every message whatever its language).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

_WORD = re.compile(r"[^\W\d_]+")
# Function words and everyday words of English; enough of them means the message is English.
_ENGLISH = frozenset(["a", "an", "the", "and", "or", "but", "if", "so", "of", "to", "in", "on", "at", "by", "for", "with", "from", "about", "into", "over", "after", "before", "up", "down", "out", "off", "i", "i'm", "i've", "i'd", "me", "my", "mine", "we", "our", "us", "you", "your", "he", "him", "his", "she", "her", "it", "its", "they", "them", "their", "this", "that", "these", "those", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "have", "has", "had", "having", "can", "can't", "could", "should", "would", "will", "won't", "not", "no", "yes", "what", "when", "where", "who", "why", "how", "which", "there", "here", "just", "now", "then", "than", "too", "very", "really", "also", "only", "please", "help", "thanks", "thank", "hi", "hello", "ok", "okay", "get", "got", "go", "going", "went", "feel", "feeling", "felt", "like", "want", "need", "know", "think", "pain", "hurt", "hurts", "sick", "doctor", "blood", "pressure", "sugar", "heart", "chest", "breathe", "breathing", "medication", "medications", "dose", "pills", "took", "take", "taking", "since", "today", "yesterday", "last", "week", "day", "days", "hours", "minutes", "old", "baby", "son", "daughter", "wife", "husband", "mom", "dad"])
# Function words that are frequent in one language and rare in English text (accents folded). Two or
# more of them, outnumbering the English ones, decide Spanish or French directly: lingua's fast mode
# misreads short messages ("mon bebe de 6 semaines a 38,3 de fievre" as English).
_SPANISH = frozenset(["el", "los", "las", "del", "y", "una", "es", "por", "con", "para", "mi", "mis", "su", "se", "lo", "le", "tiene", "tengo", "esta", "estoy", "muy", "pero", "como", "hijo", "hija", "bebe", "dolor", "puede", "puedo", "cual", "al", "hace", "desde", "ayuda", "no", "esposo", "esposa", "madre", "padre", "nino", "nina", "ella", "fiebre", "sangre", "respirar"])
_FRENCH = frozenset(["le", "les", "des", "du", "et", "est", "je", "il", "elle", "mon", "ma", "mes", "ne", "pas", "plus", "qui", "pour", "avec", "sur", "au", "aux", "dans", "ce", "cette", "ai", "suis", "fait", "tres", "mais", "une", "mal", "depuis", "j", "n", "l", "d", "qu", "c", "s", "fils", "fille", "mere", "pere", "mari", "femme", "bebe", "fievre", "respirer", "sang", "peux", "peut"])
_CONFIDENCE = 0.5  # lingua's relative confidence needed to call a message non-English


class LanguageDetection:
    """Detects the language of a message among English and a configured handful of others."""

    def __init__(self, languages: Sequence[str]) -> None:
        codes = ["en", *[c for c in languages if c != "en"]]
        self.languages = tuple(codes)
        self._langs = [Language.from_iso_code_639_1(IsoCode639_1.from_str(c)) for c in codes]
        self._cache: dict[str, str] = {}
        self._detector: LanguageDetector = (
            LanguageDetectorBuilder.from_languages(*self._langs).with_low_accuracy_mode()
            .with_preloaded_language_models().build())

    def detect(self, message: str) -> str:
        """ISO 639-1 code of the message's language ("en" when unsure)."""
        found = self._cache.get(message)
        if found is None:
            if len(self._cache) >= 2048:  # bounded, and per detector: a dropped guard frees its cache
                self._cache.clear()
            found = self._cache[message] = self._detect_uncached(message)
        return found

    def _detect_uncached(self, message: str) -> str:
        text = message.lower()
        words = _WORD.findall(text)
        if not words:
            return "en"
        english = sum(w in _ENGLISH for w in words)
        folded = _WORD.findall(_fold(text))
        votes = {"es": sum(w in _SPANISH for w in folded), "fr": sum(w in _FRENCH for w in folded)}
        best_vote = max(votes, key=lambda k: votes[k])
        if best_vote in self.languages and votes[best_vote] >= 2 and votes[best_vote] > english \
                and votes[best_vote] > min(votes.values()):
            return best_vote
        ascii_only = text.isascii()
        # Short plain-ASCII messages are English unless the Spanish/French vote said otherwise: lingua reads
        # "whats my bp" or "my active conditions" as German or French, and a wrong notice costs more there.
        if ascii_only and (english >= 0.4 * len(words) or len(words) < 6):
            return "en"
        values = self._detector.compute_language_confidence_values(message)
        if not values:
            return "en"
        best = values[0]
        if best.language == Language.ENGLISH or best.value < (0.9 if ascii_only else _CONFIDENCE):
            return "en"
        return best.language.iso_code_639_1.name.lower()


def _fold(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))

