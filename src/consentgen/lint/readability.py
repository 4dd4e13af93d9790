"""Flesch-Kincaid grade level of plain text, with a syllable counter good enough for English prose.

The formula: 0.39 * (words / sentences) + 11.8 * (syllables / words) - 15.59.
"""

from __future__ import annotations

import functools
import re

_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
_SENTENCE_END = re.compile(r"[.!?;:]+(?=\s|$)|\n\s*\n|\n\s*[-*] ")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


@functools.lru_cache(maxsize=8192)
def syllables(word: str) -> int:
    w = word.lower().strip("'’")
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:[^laeiouy]es|[^laeiouydt]ed|[^laeiouy]e)$", "", w)  # silent endings
    w = re.sub(r"^y", "", w)
    return max(1, len(_VOWEL_GROUPS.findall(w)))


def grade(text: str) -> float | None:
    """The grade level of `text`, or None when it has too few words to judge (under 20)."""
    words = _WORD.findall(text)
    if len(words) < 20:
        return None
    sentences = [s for s in _SENTENCE_END.split(text) if _WORD.search(s)]
    n_sentences = max(1, len(sentences))
    n_syllables = sum(syllables(w) for w in words)
    return 0.39 * len(words) / n_sentences + 11.8 * n_syllables / len(words) - 15.59


def plain(markdown: str) -> str:
    """Markdown as the words a reader reads: no markup, links or citations' addresses."""
    text = re.sub(r"<https?://[^>]+>", "", markdown)
    text = re.sub(r"\\(.)", r"\1", text)
    return re.sub(r"[*_#>`|]", "", text)
