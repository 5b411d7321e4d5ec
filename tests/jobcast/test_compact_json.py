import datetime
import json
from decimal import Decimal

from jobcast.compact_json import dumps
from jobcast.orders.enums import Side


def test_compact_and_same_values_as_the_standard_library() -> None:
    value = {"a": [1, 2.5, None, "é"], "side": Side.BUY, "price": Decimal("1.5"), "ts": 1.125}
    assert dumps(value) == '{"a":[1,2.5,null,"é"],"side":"buy","price":"1.5","ts":1.125}'
    assert json.loads(dumps(value)) == json.loads(json.dumps(value, default=str))


def test_dates_are_written_as_their_str_as_before() -> None:
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5)
    assert dumps({"at": moment}) == json.dumps({"at": str(moment)}, separators=(",", ":"))


def test_what_orjson_refuses_falls_back_to_the_standard_encoder() -> None:
    assert dumps({"big": 2**70}) == '{"big":1180591620717411303424}'


def test_a_nan_is_null_not_invalid_json() -> None:
    assert dumps([float("nan")]) == "[null]"
