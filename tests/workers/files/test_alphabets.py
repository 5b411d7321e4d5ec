"""A code page's reading is scored by how well its letters fit one of the page's languages."""

from __future__ import annotations

import pytest

from workers.files.alphabets import language_fit, reads_as_one_language


@pytest.mark.parametrize(
    ("central", "western"),
    [
        ("Antonín Dvořák", "Antonín Dvoøák"),
        ("Zsófia Szőke;Győr", "Zsófia Szõke;Gyõr"),
        ("Věra Černá;Kč", "Vìra Èerná;Kè"),
    ],
)
def test_central_european_letters_fit_cp1250_better_than_their_cp1252_reading(
    central: str, western: str
) -> None:
    assert language_fit(central, "cp1250") > language_fit(western, "cp1252")


def test_french_letters_fit_cp1252_better_than_their_cp1250_reading() -> None:
    assert language_fit("Hélène Lefèvre;Besançon", "cp1252") > language_fit(
        "Hélčne Lefčvre;Besançon", "cp1250"
    )


@pytest.mark.parametrize("text", ["Kateřina Růžičková", "Łukasz Wiśniewski", "Mojca Kočevar"])
def test_a_real_name_reads_as_one_language(text: str) -> None:
    assert reads_as_one_language(text, "cp1250")


def test_a_cjk_export_read_in_cp1250_mixes_letters_of_many_languages() -> None:
    assert not reads_as_one_language("ŃîĂô,Îäşş,17ÔŞ,USBĘýľÝĎß", "cp1250")


def test_a_page_without_languages_fits_nothing() -> None:
    assert language_fit("Иван", "cp1251") == float("-inf")
