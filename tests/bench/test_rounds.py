from bench.rounds import in_turn


def test_sides_alternate_which_goes_first() -> None:
    assert [in_turn(r, ("ours", "base")) for r in range(3)] == [
        ["ours", "base"],
        ["base", "ours"],
        ["ours", "base"],
    ]
    assert in_turn(1, ["tuned", "stock", "other"]) == ["other", "stock", "tuned"]
