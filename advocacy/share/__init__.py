"""Sharing a petition (issue 11): share links that load nothing until clicked, OpenGraph and Twitter-card
metadata, a share picture drawn on the server, an embeddable counter and badge (the only page other sites may
frame), and Atom/RSS feeds of new petitions and of a campaign's news with the public pages they link to."""

from __future__ import annotations

from advocacy.config import Settings
from advocacy.features import Feature


def feature(settings: Settings) -> Feature:
    from advocacy.share import services
    from advocacy.share.views import bp

    return Feature(
        "share",
        blueprints=(bp,),
        template_globals={"share_links": services.petition_share_links, "share_meta": services.petition_meta},
    )
