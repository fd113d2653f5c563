"""The Arabic normaliser behind duplicate hints."""

import pytest

from majlis.arabic import normalize, similarity


@pytest.mark.parametrize("variant, plain", [
    ("أإآٱ", "اااا"),  # alef forms
    ("مدرسة", "مدرسه"),  # taa marbuta
    ("مستشفى", "مستشفي"),  # alef maqsura
    ("الطَّرِيقُ", "الطريق"),  # diacritics
    ("شـــارع", "شارع"),  # tatweel
    ("٢٠٢٦", "2026"),  # Arabic-Indic digits
    ("  Road,   REPAIR!! ", "road repair"),
])
def test_normalize_folds_spelling_variants(variant, plain):
    assert normalize(variant) == plain


def test_similar_questions_in_different_spellings_are_recognised():
    a = "متى سيتم إصلاح الطريق المؤدي إلى مدرسة سترة؟"
    b = "متى سيتم اصلاح طريق مدرسه سترة"
    c = "هل يمكن زيادة عدد الأطباء في المركز الصحي؟"
    assert similarity(a, b) >= 0.5
    assert similarity(a, c) < 0.2
