"""What `jobcast chat` prints of others' names and words: text, never markup or control codes."""

from __future__ import annotations

from rich.console import Console

from jobcast.client.resume import Event
from jobcast.client_cli.chat import _line


def printed(event: Event) -> str:
    console = Console(width=200, force_terminal=True, color_system="truecolor")
    with console.capture() as captured:
        console.print(_line(event), highlight=False)
    return captured.get()


def test_a_name_made_before_names_were_checked_cannot_colour_or_forge_a_line() -> None:
    # A key named "\x1b[31mEVIL\x1b[0m\nfake line" printed raw codes and a spoofed line.
    evil = {"id": "p_1", "name": "\x1b[31mEVIL\x1b[0m\nfake line"}
    shown = printed(Event("chat.join", "chat.lobby", "1-0", {"principal": evil}))
    assert "\x1b[31m" not in shown
    assert "\\x1b[31mEVIL\\x1b[0m\\x0afake line" in shown
    assert shown.count("\n") == 1  # one line, its own end


def test_markup_in_a_message_is_shown_as_written_and_its_further_lines_are_indented() -> None:
    said = {"from": {"id": "p_2", "name": "[red]mallory"}, "text": "[bold]hi[/bold]\n-- x left"}
    shown = printed(Event("chat.message", "chat.lobby", "2-0", said))
    plain = Console(width=200, no_color=True)
    with plain.capture() as captured:
        plain.print(_line(Event("chat.message", "chat.lobby", "2-0", said)), highlight=False)
    assert captured.get() == "[red]mallory: [bold]hi[/bold]\n  -- x left\n"
    assert "\x1b[31m" not in shown
