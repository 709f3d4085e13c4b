"""The browser helpers' own failures say what the page showed: a lobby that
never appears reports the page's address, load state, screen, visibility,
whether its timers fire, its requests and console (CI timed out waiting for a
lobby with nothing to go on, then with a page that had made no request)."""
import pytest

from otter_e2e import browsers, open_lobby, output_dir  # noqa: F401  (fixtures)


def test_a_lobby_that_never_appears_reports_the_page(browsers):
    d = browsers.new()
    page = ("data:text/html,<body data-screen='joining'><p>stuck</p>"
            "<script>console.error('signaling refused: 4403')</script></body>")
    with pytest.raises(AssertionError) as failure:
        open_lobby(d, page, timeout=1)
    text = str(failure.value)
    assert "appeared in 1 s" in text
    assert "'screen': 'joining'" in text and "'ready': 'complete'" in text
    assert "signaling refused: 4403" in text
    assert "'visibility': 'visible'" in text and "timers fire" in text, text
    assert "chromium [" in text, text
