"""Realistic small CSV exports in legacy code pages, for `bench/encodings.py`.

Each language has a header and the words a table of customers or orders holds (first names,
family names, cities, products, a price format). A file is that header and a random number of
rows, as Excel writes it in the language's locale (`;` where the decimal separator is a comma).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    header: tuple[str, str, str, str]  # name, city, price, product
    first: tuple[str, ...]
    last: tuple[str, ...]
    cities: tuple[str, ...]
    products: tuple[str, ...]
    price: str  # a format with {units} and {cents}
    family_first: bool = False  # 山田太郎, not Taro Yamada
    separator: str = ";"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


FRENCH = Language(
    ("Nom", "Ville", "Prix", "Produit"),
    _words("Léa|Chloé|Jérôme|François|Hélène|Noël|Zoé|Cédric|Amélie|Benoît|Marie|Jean"),
    _words("Dupont|Lefèvre|Bénard|Mercier|Girard|Lemaître|Caron|Fournier|Chevalier"),
    _words("Paris|Orléans|Besançon|Nîmes|Évreux|Angoulême|Lyon|Montréal|Genève"),
    _words("Crème brûlée|Café crème|Éclair|Pâté|Thé vert|Gâteau|Crêpe"),
    "{units},{cents} €",
)
GERMAN = Language(
    ("Name", "Stadt", "Betrag", "Artikel"),
    _words("Jürgen|Jörg|Günter|Ursula|Björn|Käthe|Anna|Max|Sören|Jürgen"),
    _words("Müller|Schäfer|Köhler|Groß|Weiß|Bäcker|Schmidt|Hoffmann|Krüger"),
    _words("München|Köln|Düsseldorf|Nürnberg|Lübeck|Berlin|Zürich|Göttingen"),
    _words("Brötchen|Käse|Süßigkeiten|Bier|Apfelstrudel|Würstchen"),
    "{units},{cents} €",
)
SPANISH = Language(
    ("Nombre", "Ciudad", "Precio", "Producto"),
    _words("José|María|Ramón|Inés|Íñigo|Sofía|Carlos|Lucía|Andrés"),
    _words("Núñez|García|Martínez|Pérez|Gómez|Ibáñez|Sánchez|Rodríguez"),
    _words("Málaga|Logroño|Córdoba|León|Cádiz|Madrid|Bogotá|Cancún"),
    _words("Jamón|Café con leche|Piña|Turrón|Churros|Limón"),
    "{units},{cents} €",
)
PORTUGUESE = Language(
    ("Nome", "Cidade", "Preço", "Produto"),
    _words("João|Conceição|Antônio|Inês|Luís|Mariana|Sebastião|Ana"),
    _words("Gonçalves|Simões|Araújo|Magalhães|Fernandes|Brandão"),
    _words("São Paulo|Florianópolis|Brasília|Belém|Maceió|Lisboa|Évora"),
    _words("Pão de queijo|Açaí|Feijão|Pastel de nata|Café"),
    "R$ {units},{cents}",
)
NORWEGIAN = Language(
    ("Navn", "By", "Pris", "Vare"),
    _words("Søren|Åse|Bjørn|Jørgen|Kjærsti|Øystein|Ingrid|Lars"),
    _words("Ågård|Sørensen|Løvås|Dæhli|Haugen|Bråten|Nilsen"),
    _words("Tromsø|Ålesund|Bodø|Oslo|Bærum|Drøbak|Lørenskog"),
    _words("Brunost|Rømmegrøt|Kjøttkaker|Lefse|Kaffe"),
    "kr {units},{cents}",
)
POLISH = Language(
    ("Imię", "Miasto", "Cena", "Produkt"),
    _words("Łukasz|Zofia|Grzegorz|Małgorzata|Józef|Wojciech|Jędrzej|Agnieszka|Paweł"),
    _words("Wiśniewski|Kowalski|Żak|Brzęczyszczykiewicz|Wójcik|Kamiński|Dąbrowski|Nowak"),
    _words("Łódź|Kraków|Gdańsk|Poznań|Wrocław|Białystok|Rzeszów|Warszawa"),
    _words("Pierogi|Kiełbasa|Żurek|Pączek|Gołąbki|Chleb"),
    "{units},{cents} zł",
)
CZECH = Language(
    ("Jméno", "Město", "Cena", "Zboží"),
    _words("Jiří|Petr|Žofie|Tomáš|Kateřina|Lukáš|Věra|Jan"),
    _words("Dvořák|Novák|Růžička|Šťastný|Procházka|Černý|Svoboda"),
    _words("Plzeň|Brno|České Budějovice|Ústí nad Labem|Olomouc|Praha|Liberec"),
    _words("Knedlík|Svíčková|Koláč|Trdelník|Pivo"),
    "{units},{cents} Kč",
)
HUNGARIAN = Language(
    ("Név", "Város", "Ár", "Termék"),
    _words("Gergő|Ödön|Zsófia|László|Erzsébet|Bence|Réka|Dániel"),
    _words("Kovács|Szőke|Tóth|Horváth|Fűzfa|Nagy|Szabó|Kiss"),
    _words("Győr|Pécs|Debrecen|Székesfehérvár|Budapest|Miskolc|Szeged"),
    _words("Gulyás|Lángos|Pörkölt|Túró Rudi|Pálinka"),
    "{units} Ft",
)
RUSSIAN = Language(
    ("Имя", "Город", "Цена", "Товар"),
    _words("Иван|Ольга|Сергей|Наталья|Дмитрий|Екатерина|Алексей|Юлия"),
    _words("Петров|Смирнова|Иванов|Кузнецова|Соколов|Попова|Волков"),
    _words("Москва|Санкт-Петербург|Новосибирск|Екатеринбург|Казань|Самара"),
    _words("Хлеб|Молоко|Сыр|Гречка|Чай чёрный"),
    "{units},{cents} руб.",
)
UKRAINIAN = Language(
    ("Ім'я", "Місто", "Ціна", "Товар"),
    _words("Олексій|Наталія|Юрій|Ірина|Тарас|Оксана|Євген"),
    _words("Шевченко|Коваленко|Бондаренко|Ткаченко|Мельник|Кравчук"),
    _words("Київ|Львів|Харків|Одеса|Дніпро|Запоріжжя|Івано-Франківськ"),
    _words("Хліб|Борщ|Вареники|Сало|Кава"),
    "{units},{cents} грн",
)
BULGARIAN = Language(
    ("Име", "Град", "Цена", "Продукт"),
    _words("Георги|Мария|Иван|Петя|Димитър|Цветелина"),
    _words("Георгиев|Димитрова|Иванов|Петрова|Стоянов"),
    _words("София|Пловдив|Варна|Бургас|Русе|Стара Загора"),
    _words("Баница|Кисело мляко|Сирене|Лютеница"),
    "{units},{cents} лв.",
)
JAPANESE = Language(
    ("名前", "都市", "価格", "商品"),
    _words("太郎|花子|翔太|さくら|健一|美咲|ゆき|大輔|あおい"),
    _words("山田|佐藤|鈴木|高橋|田中|渡辺|伊藤|中村"),
    _words("東京|大阪|名古屋|札幌|福岡|横浜|京都|神戸"),
    _words("りんご|お茶|ラーメン|コーヒー|おにぎり|味噌汁|ケーキ|Tシャツ|USBケーブル|A4用紙"),
    "{units}円",
    family_first=True,
    separator=",",
)
CHINESE = Language(
    ("姓名", "城市", "价格", "商品"),
    _words("伟|芳|娜|洋|静|磊|敏|晓明|秀英|建国"),
    _words("张|王|李|刘|陈|杨|赵|黄|周"),
    _words("北京|上海|广州|深圳|成都|杭州|武汉|南京|西安"),
    _words("苹果|绿茶|牛奶|面包|大米|饺子|啤酒|T恤|U盘|USB数据线"),
    "{units}元",
    family_first=True,
    separator=",",
)
TRADITIONAL_CHINESE = Language(
    ("姓名", "城市", "價格", "商品"),
    _words("志明|美玲|家豪|淑芬|建宏|怡君|俊傑"),
    _words("陳|林|張|王|李|黃|吳"),
    _words("台北|台中|高雄|台南|新竹|桃園|基隆"),
    _words("蘋果|綠茶|牛奶|麵包|珍珠奶茶|鳳梨酥|T恤|USB傳輸線"),
    "{units}元",
    family_first=True,
    separator=",",
)
KOREAN = Language(
    ("이름", "도시", "가격", "상품"),
    _words("민준|서연|지훈|수빈|하은|도윤|지우"),
    _words("김|이|박|최|정|강|조"),
    _words("서울|부산|인천|대구|대전|광주|수원"),
    _words("사과|녹차|우유|빵|김치|라면|T셔츠|USB케이블"),
    "{units}원",
    family_first=True,
    separator=",",
)

#: The code page each language's exports are in, as the benchmark groups them.
CORPORA: dict[str, tuple[Language, ...]] = {
    "cp1252": (FRENCH, GERMAN, SPANISH, PORTUGUESE, NORWEGIAN),
    "cp1250": (POLISH, CZECH, HUNGARIAN),
    "cp1251": (RUSSIAN, UKRAINIAN, BULGARIAN),
    "gbk": (CHINESE,),
    "shift_jis": (JAPANESE,),
    "cp949": (KOREAN,),
    "big5": (TRADITIONAL_CHINESE,),
}


#: The header of an export from a system set up in English (a shop, a CRM): a third of them.
ENGLISH_HEADER = ("name", "city", "price", "product")


def export(rng: random.Random, language: Language, rows: int) -> str:
    """A CSV of `rows` lines (the header included) with three or four of the columns."""
    columns = 4 if rng.random() < 0.5 else 3
    header = ENGLISH_HEADER if rng.random() < 1 / 3 else language.header
    lines = [header[:columns]]
    lines += [_row(rng, language)[:columns] for _ in range(rows - 1)]
    return "".join(language.separator.join(line) + "\r\n" for line in lines)


def _row(rng: random.Random, language: Language) -> tuple[str, str, str, str]:
    first, last = rng.choice(language.first), rng.choice(language.last)
    name = last + first if language.family_first else f"{first} {last}"
    units, cents = rng.randint(1, 2000), rng.randint(0, 99)
    price = language.price.format(units=units, cents=f"{cents:02d}")
    return name, rng.choice(language.cities), price, rng.choice(language.products)
