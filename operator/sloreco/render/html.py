"""``sloreco report --html FILE``: the text report and the picture in one self-contained page.

No scripts, no external assets: the picture is inline SVG (``render.plot``), the tables are the
text report (``render.report``) in ``<pre>``, every text is escaped. Same inputs, same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; color: #222; }
pre { background: #f6f6f6; padding: 1rem; overflow-x: auto; font-size: 0.85rem; }
svg { max-width: 100%; height: auto; }
"""


def page(*, title: str, svg: bytes, texts: Sequence[str]) -> str:
    """The report page: a heading, the picture, then each SLI's text report."""
    picture = svg.decode("utf-8")
    picture = picture[picture.index("<svg") :]  # drop the XML prologue and DOCTYPE
    sections = "\n".join(f"<pre>{html.escape(text)}</pre>" for text in texts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{picture}\n{sections}\n</body>\n</html>\n"
    )
