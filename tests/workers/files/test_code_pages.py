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
    # Was cp1250: charset-normalizer named the same language in both readings ('Hélčne').
    "Nom;Ville;Prix\r\nHélène Chevalier;Besançon;1923,46 €\r\nLéa Dupont;Montréal;148,41 €\r\n"
    "Benoît Caron;Genève;7,15 €\r\nMarie Girard;Lyon;107,38 €\r\n",
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
    # Were cp1252: its reading looked Slovak, Estonian or Norwegian to charset-normalizer too.
    "Jméno;Město\r\nAntonín Dvořák;Praha\r\n",  # 'Dvoøák'
    "Jméno;Město;Cena\r\nVěra Procházka;Brno;671,03 Kč\r\nJiří Černý;Olomouc;120 Kč\r\n",
    "Név;Város;Ár\r\nZsófia Szőke;Szeged;631 Ft\r\n",  # 'Szõke'
    "name;city;price\r\nRéka Fűzfa;Szeged;448 Ft\r\nGergő Kiss;Győr;99 Ft\r\n",
    "Ime;Grad\r\nIvan Horvat;Zagreb\r\nMarija Kovačević;Đakovo\r\n",
    "Nume;Oraş\r\nIon Popescu;Braşov\r\nMaria Ţăranu;Timişoara\r\n",
]
BALTIC = [  # were cp1252
    "vardas;miestas\r\nGintarė Jankūnienė;Klaipėda\r\nŽydrūnas Ąžuolas;Panevėžys\r\n",
    "Vardas;Miestas;Kaina\r\nJonas Kazlauskas;Kaunas;12,50 €\r\n"
    "Rūta Žukauskaitė;Šiauliai;3,99 €\r\n",
]
CYRILLIC = [
    "Имя;Город;Цена\r\nИван Петров;Москва;120 руб.\r\nОльга Смирнова;Санкт-Петербург;99 руб.\r\n",
    "Имя;Город\r\nИван;Москва\r\n",
    "Имя;Город;Цена\r\n" + "".join(f"Ольга;Новосибирск;{i} руб.\r\n" for i in range(40)),
]
JAPANESE = [
    "名前,都市,価格\r\n山田太郎,東京,1200円\r\n佐藤花子,大阪,980円\r\n",
    "名前,都市\r\n山田,東京\r\n",
    # A few lines, read as Windows-1252/1251 or Mac Latin 2, whose letters hid the mojibake.
    "name,city,price,product\r\n伊藤ゆき,横浜,1548円,Tシャツ\r\n",  # was cp1252: 'TƒVƒƒƒc'
    "name,city,price\r\n鈴木あおい,横浜,1137円\r\n",  # was cp1251
    "name,city,price,product\r\n伊藤大輔,横浜,96円,味噌汁\r\n",  # was mac-latin2
    "名前,都市,価格\r\n" + "".join(f"佐藤花子,名古屋,{i}円\r\n" for i in range(40)),
]
CHINESE = [
    "姓名,城市,价格\r\n张伟,北京,120元\r\n王芳,上海,99元\r\n李娜,广州,45元\r\n",
    "姓名,城市\r\n张伟,北京\r\n",
    "姓名,城市,价格\r\n" + "".join(f"王芳,深圳,{i}元\r\n" for i in range(40)),
    "name,city,price,product\r\n杨洋,上海,450元,USB数据线\r\n",  # was cp1250: 'ŃîŃó'
    "name,city,price\r\n张芳,武汉,1647元\r\n刘芳,杭州,98元\r\n",  # was cp1251
    "姓名,城市,价格\r\n李敏,北京,47元\r\n",  # was cp949: hanja Korean exports hardly use
    "name,city,price,product\r\n黄秀英,广州,1341元,U盘\r\n",  # was cp932: half-width kana
]
TRADITIONAL_CHINESE = [
    "name,city,price\r\n吳淑芬,新竹,1159元\r\n",  # was cp1252
    "name,city,price,product\r\n吳俊傑,台北,567元,鳳梨酥\r\n",  # was cp1250
]
KOREAN = [
    "이름,도시,가격\r\n김민준,서울,12000원\r\n",
    "name,city,price,product\r\n최지우,수원,312원,USB케이블\r\n",  # was cp1250
]
CORPUS = [
    *[("cp1252", text) for text in WESTERN],
    *[("cp1250", text) for text in CENTRAL],
    *[("cp1257", text) for text in BALTIC],
    *[("cp1251", text) for text in CYRILLIC],
    *[("shift_jis", text) for text in JAPANESE],
    *[("gbk", text) for text in CHINESE],
    *[("big5", text) for text in TRADITIONAL_CHINESE],
    *[("cp949", text) for text in KOREAN],
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
    [
        ("12,50 z³", "12,50 zł"),
        ("£ukasz", "Łukasz"),
        ("Cafй", "Café"),
        ("wie¿a", "wieża"),
        ("ŃîŃó", "杨洋"),  # GBK in Windows-1250: capitals after small letters
        ("鱷a", "Æsa"),  # Windows-1252 in Big5: an ideograph glued before a Latin letter
    ],
)
def test_a_wrong_code_page_leaves_more_signs_of_mojibake(wrong: str, right: str) -> None:
    assert mojibake_signs(wrong) > mojibake_signs(right) == 0


@pytest.mark.parametrize(
    "text",
    [
        "¿Qué?",
        "l’été",
        "5 µg",
        "3,50 €",
        "東京の地図",
        "iPhone",
        "ÉCOLE",
        "Straße",
        "Tシャツ",
        "USB케이블",
    ],
)
def test_real_punctuation_and_scripts_are_no_mojibake(text: str) -> None:
    assert mojibake_signs(text) == 0


def test_a_unit_glued_to_a_word_counts_alike_in_every_windows_code_page() -> None:
    # m² and n° are odd-looking but the same bytes read the same in cp1250: a tie, which 1252 wins.
    data = "45 m²;n° 5;20 °C".encode("cp1252")
    assert mojibake_signs(data.decode("cp1252")) == mojibake_signs(data.decode("cp1250")) > 0
