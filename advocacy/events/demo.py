"""Demo events: side-events around the next spring session of the Human Rights Council, and a few others.

Keyed by UID, so loading twice changes nothing; dates follow the calendar, so the demo always has a
session ahead, with events on both sides of the change to summer time in Geneva.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from advocacy.accounts.roles import SYSTEM
from advocacy.dbtypes import utcnow
from advocacy.events import services
from advocacy.events.models import EventDetails, EventKind
from advocacy.petitions.models import Campaign, Petition

PARTNERS = {
    "ccl": "Center for Civil Liberties",
    "memorial": "Memorial Human Rights Center",
    "khpg": "Kharkiv Human Rights Protection Group",
    "hfhr": "Helsinki Foundation for Human Rights",
}

# week_day: days after the session's first Monday; start and end are wall-clock times in the event's zone
EVENTS: list[dict[str, Any]] = [
    {
        "key": "civilians-side-event", "week_day": 8, "start": "13:00", "end": "14:30",
        "kind": EventKind.SIDE_EVENT, "venue": "Palais des Nations", "room": "Room XXII", "city": "Geneva",
        "country": "CH", "online": "https://webtv.un.org/", "languages": ["en"], "interpretation": ["uk", "ru"],
        "organisers": ["ccl", "memorial", "khpg"],
        "petitions": ["free-ukrainian-civilians", "independent-monitoring-mechanism"],
        "title": {"en": "People first: Ukrainian civilians in Russian captivity",
                  "uk": "Люди передусім: українські цивільні в російському полоні",
                  "ru": "Люди прежде всего: украинские гражданские в российском плену"},
        "description": {
            "en": "Families of detained civilians and human-rights defenders speak to diplomats about "
                  "people held without charge or sentenced by occupation courts, and about what any "
                  "agreement must guarantee.",
            "uk": "Родини затриманих цивільних і правозахисники розповідають дипломатам про людей, яких "
                  "утримують без обвинувачення або засудили окупаційні суди, і про те, що має гарантувати "
                  "будь-яка домовленість.",
            "ru": "Семьи задержанных гражданских и правозащитники рассказывают дипломатам о людях, которых "
                  "удерживают без обвинения или осудили оккупационные суды, и о том, что должно "
                  "гарантировать любое соглашение.",
        },
    },
    {
        "key": "children-side-event", "week_day": 15, "start": "10:00", "end": "11:30",
        "kind": EventKind.SIDE_EVENT, "venue": "Palais des Nations", "room": "Room XXIV", "city": "Geneva",
        "country": "CH", "online": None, "languages": ["en", "uk"], "interpretation": ["en"],
        "organisers": ["ccl", "hfhr"], "petitions": ["bring-the-children-home"],
        "title": {"en": "Bring the children home: deported Ukrainian children",
                  "uk": "Поверніть дітей додому: депортовані українські діти",
                  "ru": "Верните детей домой: депортированные украинские дети"},
        "description": {
            "en": "How children are traced, what blocks their return, and what states at the Council can do.",
            "uk": "Як розшукують дітей, що заважає їх поверненню і що можуть зробити держави в Раді.",
            "ru": "Как разыскивают детей, что мешает их возвращению и что могут сделать государства в Совете.",
        },
    },
    {
        "key": "broken-chair-rally", "week_day": 19, "start": "12:30", "end": "13:30",
        "kind": EventKind.RALLY, "venue": "Place des Nations, by the Broken Chair", "room": None,
        "city": "Geneva", "country": "CH", "online": None, "languages": ["en", "uk", "ru", "fr"],
        "interpretation": [], "organisers": ["ccl", "memorial"], "petitions": [],
        "title": {"en": "Free them all: rally of families of captives",
                  "uk": "Звільніть усіх: акція родин полонених",
                  "ru": "Освободите всех: акция семей пленных"},
        "description": {
            "en": "Families hold up the photographs of their relatives. Bring a sign with a name.",
            "uk": "Родини тримають фотографії своїх рідних. Приходьте з плакатом з ім'ям.",
            "ru": "Семьи держат фотографии своих близких. Приходите с плакатом с именем.",
        },
    },
    {
        # after the clocks change in Geneva: the same 13:00 is an hour earlier in UTC
        "key": "political-prisoners-side-event", "week_day": "after-summer-time", "start": "13:00", "end": "14:30",
        "kind": EventKind.SIDE_EVENT, "venue": "Palais des Nations", "room": "Room XXVII", "city": "Geneva",
        "country": "CH", "online": "https://webtv.un.org/", "languages": ["ru", "en"], "interpretation": ["en"],
        "organisers": ["memorial", "hfhr"], "petitions": ["free-russian-political-prisoners"],
        "title": {"en": "Jailed for a word: Russian political prisoners and the war",
                  "uk": "Ув'язнені за слово: російські політв'язні та війна",
                  "ru": "Посаженные за слово: российские политзаключённые и война"},
        "description": {
            "en": "Lawyers and former prisoners on the people serving long sentences for opposing the war.",
            "uk": "Адвокати й колишні в'язні про людей, які відбувають довгі строки за виступи проти війни.",
            "ru": "Адвокаты и бывшие заключённые о людях, отбывающих долгие сроки за выступления против войны.",
        },
    },
    {
        "key": "pow-webinar", "week_day": 10, "start": "18:00", "end": "19:00", "zone": "Europe/Kyiv",
        "kind": EventKind.WEBINAR, "venue": None, "room": None, "city": None, "country": None,
        "online": "https://people1st.online/", "languages": ["uk"], "interpretation": ["en"],
        "organisers": ["ccl", "khpg"], "petitions": ["exchange-all-prisoners-of-war"],
        "title": {"en": "All for all: what the Third Geneva Convention requires",
                  "uk": "Усіх на всіх: чого вимагає Третя Женевська конвенція",
                  "ru": "Всех на всех: чего требует Третья Женевская конвенция"},
        "description": {
            "en": "An online briefing for journalists and supporters on the exchange of prisoners of war.",
            "uk": "Онлайн-брифінг для журналістів і прихильників про обмін військовополоненими.",
            "ru": "Онлайн-брифинг для журналистов и сторонников об обмене военнопленными.",
        },
    },
    {
        "key": "bundestag-hand-in", "week_day": 30, "start": "11:00", "end": "12:00", "zone": "Europe/Berlin",
        "kind": EventKind.HAND_IN, "venue": "Deutscher Bundestag, Paul-Löbe-Haus", "room": None,
        "city": "Berlin", "country": "DE", "online": None, "languages": ["de", "uk"], "interpretation": [],
        "organisers": ["ccl", "memorial"], "petitions": ["free-russian-political-prisoners"],
        "title": {"en": "Petition hand-in at the German Bundestag",
                  "uk": "Передання петиції до Бундестагу Німеччини",
                  "ru": "Передача петиции в Бундестаг Германии"},
        "description": {
            "en": "Signatures are handed to members of the Human Rights Committee.",
            "uk": "Підписи передають членам комітету з прав людини.",
            "ru": "Подписи передают членам комитета по правам человека.",
        },
    },
    {
        "key": "faces-of-captivity-warsaw", "week_day": 35, "start": "10:00", "end": "18:00",
        "days": 12, "zone": "Europe/Warsaw", "kind": EventKind.EXHIBITION,
        "venue": "Plac Zamkowy", "room": None, "city": "Warsaw", "country": "PL", "online": None,
        "languages": ["pl", "uk", "en"], "interpretation": [], "organisers": ["hfhr", "ccl"], "petitions": [],
        "title": {"en": "Faces of Captivity: photo exhibition in Warsaw",
                  "uk": "Обличчя полону: фотовиставка у Варшаві",
                  "ru": "Лица плена: фотовыставка в Варшаве"},
        "description": {
            "en": "Portraits of civilians and prisoners of war held by Russia, with their families' words.",
            "uk": "Портрети цивільних і військовополонених, яких утримує Росія, зі словами їхніх родин.",
            "ru": "Портреты гражданских и военнопленных, которых удерживает Россия, со словами их семей.",
        },
    },
]


def next_spring_session(today: date) -> tuple[int, date]:
    """The Council's spring session opens in late February; HRC 58 was 2025's, and there are three a year."""
    year = today.year if today < date(today.year, 2, 20) else today.year + 1
    opening = date(year, 2, 23)
    opening += timedelta(days=(7 - opening.weekday()) % 7)
    return 58 + 3 * (year - 2025), opening


def _after_summer_time(year: int) -> date:
    """The Tuesday after the last Sunday of March, when Europe's clocks go forward."""
    last_sunday = date(year, 3, 31) - timedelta(days=(date(year, 3, 31).weekday() + 1) % 7)
    return last_sunday + timedelta(days=2)


def load_demo_events(campaign: Campaign, petitions_by_slug: dict[str, Petition],
                     today: date | None = None) -> int:
    """Add (published) or refresh the demo events; returns how many were new. The caller commits."""
    session, opening = next_spring_session(today or utcnow().date())
    created = 0
    for spec in EVENTS:
        zone = spec.get("zone", "Europe/Zurich")
        day = (_after_summer_time(opening.year) if spec["week_day"] == "after-summer-time"
               else opening + timedelta(days=spec["week_day"]))
        starts_at = services.local_time(day, spec["start"], zone)
        ends_at = services.local_time(day + timedelta(days=spec.get("days", 0)), spec["end"], zone)
        details = EventDetails(
            title=spec["title"], description=spec["description"], starts_at=starts_at, ends_at=ends_at,
            timezone=zone, kind=spec["kind"], venue=spec["venue"], room=spec["room"], city=spec["city"],
            country=spec["country"], online_url=spec["online"],
            hrc_session=session if spec["kind"] == EventKind.SIDE_EVENT or spec["city"] == "Geneva" else None,
            organisers=tuple(PARTNERS[key] for key in spec["organisers"]), languages=tuple(spec["languages"]),
            interpretation=tuple(spec["interpretation"]), campaign_slug=campaign.slug,
            petition_slugs=tuple(slug for slug in spec["petitions"] if slug in petitions_by_slug),
        )
        uid = f"demo-{spec['key']}@people-first.demo"
        try:
            existing = services.get_event(uid)
        except services.EventNotFound:
            services.create_event(details, actor=SYSTEM, uid=uid)
            services.publish_event(uid, actor=SYSTEM)
            created += 1
        else:
            services.update_event(uid, details, actor=SYSTEM, version=existing.version)
            services.publish_event(uid, actor=SYSTEM)
    return created

