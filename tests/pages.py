"""What every public page promises its reader, checked on its HTML."""

from __future__ import annotations

import re


def assert_loads_nothing_from_elsewhere(html: str, *, allowed_host: str | None = None) -> None:
    """No script or inline style; nothing the page loads (src=, a stylesheet or icon <link>) comes from another
    origin; canonical and alternate <link>s only name pages; a link a reader may click to another site (the
    share links, an online event) gives it neither our page nor a handle on it (rel="noopener noreferrer")."""
    assert "<script" not in html
    assert "style=" not in html
    elsewhere = r'(https?:)?//' + (rf'(?!{re.escape(allowed_host)})' if allowed_host else "")
    assert not re.search(rf'\bsrc="{elsewhere}', html)
    for link in re.findall(r"<link\b[^>]*>", html):
        if not re.search(r'rel="(canonical|alternate)"', link):
            assert not re.search(rf'href="{elsewhere}', link), link
    for anchor in re.findall(r"<a\b[^>]*>", html):
        if re.search(rf'href="{elsewhere}', anchor):
            assert re.search(r'rel="[^"]*\bnoreferrer\b', anchor), anchor
