from jobcast.scripts import ScriptKeys


def test_script_keys_are_sent_once_and_named_by_lua_index() -> None:
    keys = ScriptKeys("fixed")
    assert [keys.ref("a"), keys.ref("b"), keys.ref("a"), keys.ref("fixed")] == [2, 3, 2, 1]
    assert keys.keys == ["fixed", "a", "b"]
