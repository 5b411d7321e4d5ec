"""Legacy code pages are detected as the user who exported the file meant them."""

from __future__ import annotations

import pytest

from workers.files.code_pages import detect_legacy, mojibake_signs

WESTERN = [
    "Produit;Prix\r\nCafé;3,50 €\r\nThé;2,00 €\r\n",  # was cp775: 'Cafķ', '3,50 Ć'
    "a;b\r\nété;1\r\n",  # was Korean johab: one column 'a;b', '俸邊1'
    "nom;ville\r\nÆsa;Paris\r\nJean;Lyon\r\n",  # was big5 / cp1250 'Ćsa'
    "prénom;ville\r\nÆsa;Nantes\r\nLéa;Orléans\r\n",
    "Produit;Prix\r\nCrème brûlée;3,50 €\r\nÉclair;2,20 €\r\nCafé crème;1,80 €\r\n",
    "Name;Stadt;Betrag\r\nJürgen Müller;München;12,50 €\r\nGrüße;Köln;3,00 €\r\n",
    "nombre;ciudad;precio\r\nJosé Núñez;Málaga;4,50 €\r\nMaría;Logroño;3,20 €\r\n",
    "produto;cidade\r\nJoão;São Paulo\r\nConceição;Florianópolis\r\n",
    "navn;by\r\nSøren Ågård;Tromsø\r\nÆrø;Ålesund\r\n",
    "Produit;Prix\r\n"
    + "".join(f"Crème brûlée n°{i};{i},50 €\r\nCôte d’Azur;{i},20 €\r\n" for i in range(50)),
]
CENTRAL = [
    "Imię;Miasto;Cena\r\nŁukasz Wiśniewski;Łódź;12,50 zł\r\nZofia Żółć;Kraków;3,99 zł\r\n",
    "Imię;Miasto\r\nŁukasz;Łódź\r\nZofia;Kraków\r\n",
    "Jméno;Město;Cena\r\nJiří Dvořák;Plzeň;120 Kč\r\nŽofie Růžičková;Brno;99 Kč\r\n",
    "Jméno;Město;Cena\r\nPetr Šťastný;České Budějovice;45 Kč\r\nJiří;Plzeň;12 Kč\r\n",
    "Imię;Miasto;Cena\r\n"
    + "".join(f"Grzegorz Brzęczyszczykiewicz;Gdańsk;{i},00 zł\r\n" for i in range(40)),
]
CYRILLIC = [
    "Имя;Город;Цена\r\nИван Петров;Москва;120 руб.\r\nОльга Смирнова;Санкт-Петербург;99 руб.\r\n",
    "Имя;Город\r\nИван;Москва\r\n",
    "Имя;Город;Цена\r\n" + "".join(f"Ольга;Новосибирск;{i} руб.\r\n" for i in range(40)),
]
JAPANESE = [
    "名前,都市,価格\r\n山田太郎,東京,1200円\r\n佐藤花子,大阪,980円\r\n",
    "名前,都市\r\n山田,東京\r\n",
    "名前,都市,価格\r\n" + "".join(f"佐藤花子,名古屋,{i}円\r\n" for i in range(40)),
]
CHINESE = [
    "姓名,城市,价格\r\n张伟,北京,120元\r\n王芳,上海,99元\r\n李娜,广州,45元\r\n",
    "姓名,城市\r\n张伟,北京\r\n",
    "姓名,城市,价格\r\n" + "".join(f"王芳,深圳,{i}元\r\n" for i in range(40)),
]
CORPUS = [
    *[("cp1252", text) for text in WESTERN],
    *[("cp1250", text) for text in CENTRAL],
    *[("cp1251", text) for text in CYRILLIC],
    *[("shift_jis", text) for text in JAPANESE],
    *[("gbk", text) for text in CHINESE],
]


@pytest.mark.parametrize(("encoding", "text"), CORPUS)
def test_an_export_is_read_back_as_the_text_that_was_saved(encoding: str, text: str) -> None:
    data = text.encode(encoding)

    detected = detect_legacy(data)

    assert detected is not None
    assert data.decode(detected) == text, detected


def test_binary_noise_is_in_no_code_page() -> None:
    assert detect_legacy(bytes(range(256)) * 4) is None


@pytest.mark.parametrize(
    ("wrong", "right"),
    [("12,50 z³", "12,50 zł"), ("£ukasz", "Łukasz"), ("Cafй", "Café"), ("wie¿a", "wieża")],
)
def test_a_wrong_code_page_leaves_more_signs_of_mojibake(wrong: str, right: str) -> None:
    assert mojibake_signs(wrong) > mojibake_signs(right) == 0


@pytest.mark.parametrize("text", ["¿Qué?", "l’été", "5 µg", "3,50 €", "東京の地図"])
def test_real_punctuation_and_scripts_are_no_mojibake(text: str) -> None:
    assert mojibake_signs(text) == 0


def test_a_unit_glued_to_a_word_counts_alike_in_every_windows_code_page() -> None:
    # m² and n° are odd-looking but the same bytes read the same in cp1250: a tie, which 1252 wins.
    data = "45 m²;n° 5;20 °C".encode("cp1252")
    assert mojibake_signs(data.decode("cp1252")) == mojibake_signs(data.decode("cp1250")) > 0
