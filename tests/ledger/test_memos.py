"""Entry memos are stored in English (the chain seals them) and shown in the reader's language."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale

from ledger import memos

VALUES = {
    "donor": "Norway (MFA), Oslo",
    "earmark": "CAR, for children",
    "reference": "BANK-1 (b)",
    "country": "COD",
    "allegation": "2021-07",
    "title": "Shelter for girls, Bangui",
    "partner": "Partners in Health (PIH)",
    "status": "cancelled",
    "reason": "Project ended. Unspent.",
    "rate": "13.00",
    "seq": 42,
    "case_code": "CAR-2017-0042",
    "purpose": "Rent: three months",
}


def written(shape: memos.Shape) -> str:
    names = [name for name in shape.pattern.groupindex]
    return shape.write(
        **{name: VALUES[name] for name in names if name != "memo"},
        **(
            {"memo": memos.GRANT.write(title=VALUES["title"], partner=VALUES["partner"])}
            if "memo" in names
            else {}
        ),
    )


@pytest.mark.parametrize("shape", memos.SHAPES, ids=lambda shape: shape.english.split(" %(")[0])
def test_a_memo_reads_back_as_written_in_english(app: Flask, shape: memos.Shape) -> None:
    memo = written(shape)
    with app.test_request_context(), force_locale("en"):
        assert memos.shown(memo) == memo


@pytest.mark.parametrize("locale", ["fr", "zh"])
@pytest.mark.parametrize("shape", memos.SHAPES, ids=lambda shape: shape.english.split(" %(")[0])
def test_a_memo_is_shown_in_the_readers_language(app: Flask, shape: memos.Shape, locale: str) -> None:
    memo = written(shape)
    with app.test_request_context(), force_locale(locale):
        shown = memos.shown(memo)
    assert shown != memo
    assert not shown.startswith(shape.english.split("%(")[0])  # our English words are gone
    for name in shape.pattern.groupindex:  # every value the memo holds is still shown
        if name != "memo":
            assert str(VALUES[name]) in shown


def test_a_reversal_shows_the_reversed_memo_in_the_readers_language(app: Flask) -> None:
    memo = memos.REVERSAL.write(seq=7, memo=memos.PLEDGE.write(donor="Norway"))
    with app.test_request_context(), force_locale("fr"):
        assert memos.shown(memo) == "Contre-passation de l’écriture 7 : Annonce de contribution de Norway"


def test_an_earmarked_pledge_keeps_its_donor_whole(app: Flask) -> None:
    memo = memos.PLEDGE_EARMARKED.write(donor="Norway", earmark="CAR")
    with app.test_request_context(), force_locale("fr"):
        assert memos.shown(memo) == "Annonce de contribution de Norway (affectée : CAR)"


def test_a_memo_of_no_known_shape_is_shown_as_stored(app: Flask) -> None:
    with app.test_request_context(), force_locale("fr"):
        assert memos.shown("Correction typed by a fund manager") == "Correction typed by a fund manager"
        assert memos.shown(None) == ""


def test_a_long_memo_is_cut_at_the_columns_length() -> None:
    memo = memos.DIRECT_SUPPORT.write(case_code="CAR-2017-0042", purpose="x" * 400)
    assert len(memo) == memos.MAX_LENGTH


def test_a_memo_whose_value_holds_the_words_around_it_still_shows_every_word(app: Flask) -> None:
    memo = memos.TRANCHE.write(partner="Alliance for Women", title="Shelter", reference="T-1")
    with app.test_request_context(), force_locale("fr"):
        assert memos.shown(memo) == "Tranche versée à Alliance pour Women for Shelter, réf. T-1"
