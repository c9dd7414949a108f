"""`chorale demo`'s options: the browser journey, and a visible window only where there is a
display to show it on (said in French, before anything is played)."""

from typer.testing import CliRunner

from chorale_cli.main import app


def test_headed_goes_with_browser():
    result = CliRunner().invoke(app, ["demo", "--headed"])
    assert result.exit_code == 2
    assert "--browser" in result.output


def test_a_visible_browser_without_a_display_is_refused_with_what_to_do(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = CliRunner().invoke(app, ["demo", "--browser", "--headed"])
    assert result.exit_code == 2
    assert "il faut un écran" in result.output and "xvfb-run" in result.output


def test_the_help_says_a_visible_browser_needs_a_display():
    result = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--browser" in result.output and "needs a display" in result.output
