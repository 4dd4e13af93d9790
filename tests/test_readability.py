from __future__ import annotations

import pytest

from consentgen.lint.readability import grade, plain, syllables


@pytest.mark.parametrize(
    ("word", "count"),
    [("the", 1), ("therapy", 3), ("confidential", 4), ("table", 2), ("reported", 3),
     ("notes", 1), ("abuse", 2), ("information", 4), ("you", 1), ("possible", 3)],
)  # fmt: skip
def test_syllables(word, count):
    assert syllables(word) == count


def test_short_text_has_no_grade():
    assert grade("Too short to judge.") is None


def test_plain_prose_scores_lower_than_legalese():
    simple = ("You can stop therapy at any time. Tell me if you want to stop. We can talk about "
              "it first. I will help you find someone else if you want.")  # fmt: skip
    legal = ("Notwithstanding the foregoing provisions, the psychotherapist-patient privilege "
             "shall not apply to communications relevant to an issue concerning the mental or "
             "emotional condition of the patient in any proceeding in which the patient relies "
             "upon the condition as an element of the patient's claim or defense.")  # fmt: skip
    assert grade(simple) < 4 < 14 < grade(legal)


def test_plain_strips_markup_and_addresses():
    assert plain("**Bold** \\_x\\_ <https://example.org/a_b>") == "Bold x "
