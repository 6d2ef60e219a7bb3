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

# an event's organisers are one list of names in every language (the descriptions name them in each language)
PARTNERS = {
    "ccl": "Center for Civil Liberties",
    "memorial": "Memorial Human Rights Defence Centre",
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
        "title": {"en": "People first: Ukrainian civilians unlawfully held by Russia",
                  "uk": "Люди передусім: українські цивільні, яких незаконно утримує Росія",
                  "ru": "Люди прежде всего: украинские гражданские, незаконно удерживаемые Россией"},
        "description": {
            "en": "In Geneva, families of civilians unlawfully held by Russia and human-rights defenders of the "
                  "Center for Civil Liberties, the Memorial Human Rights Defence Centre and the Kharkiv Human "
                  "Rights Protection Group will speak to diplomats about people held without charge or "
                  "sentenced by Russian courts, including occupation courts, and about what any agreement must "
                  "guarantee.",
            "uk": "У Женеві родини цивільних, яких незаконно утримує Росія, і правозахисники Центру "
                  "громадянських свобод, Правозахисного центру «Меморіал» і Харківської правозахисної групи "
                  "розкажуть дипломатам про людей, яких утримують без обвинувачення або засудили російські "
                  "суди, зокрема окупаційні, і про те, що має гарантувати будь-яка домовленість.",
            "ru": "В Женеве семьи гражданских, незаконно удерживаемых Россией, и правозащитники Центра "
                  "гражданских свобод, Правозащитного центра «Мемориал» и Харьковской правозащитной группы "
                  "расскажут дипломатам о людях, которых удерживают без обвинения или осудили российские суды, "
                  "в том числе оккупационные, и о том, что должно гарантировать любое соглашение.",
        },
    },
    {
        "key": "children-side-event", "week_day": 15, "start": "10:00", "end": "11:30",
        "kind": EventKind.SIDE_EVENT, "venue": "Palais des Nations", "room": "Room XXIV", "city": "Geneva",
        "country": "CH", "online": None, "languages": ["en", "uk"], "interpretation": ["en"],
        "organisers": ["ccl", "hfhr"], "petitions": ["bring-the-children-home"],
        "title": {"en": "Bring the children home: Ukrainian children deported or forcibly transferred",
                  "uk": "Поверніть дітей додому: депортовані та примусово переміщені українські діти",
                  "ru": "Верните детей домой: депортированные и принудительно перемещённые украинские дети"},
        "description": {
            "en": "Speakers will explain how children deported or forcibly transferred by Russia are traced, "
                  "what blocks their return, and what states at the Council can do.",
            "uk": "Доповідачі розкажуть, як розшукують дітей, яких Росія депортувала або примусово "
                  "перемістила, що заважає їх поверненню і що можуть зробити держави в Раді.",
            "ru": "Докладчики расскажут, как разыскивают детей, которых Россия депортировала или "
                  "принудительно переместила, что мешает их возвращению и что могут сделать государства в "
                  "Совете.",
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
            "en": "Families will hold up the photographs of their relatives by the Broken Chair in Geneva. "
                  "Bring a sign with a name.",
            "uk": "Родини триматимуть фотографії своїх рідних біля «Зламаного стільця» в Женеві. Приходьте з "
                  "плакатом з ім’ям.",
            "ru": "Семьи будут держать фотографии своих близких у «Сломанного стула» в Женеве. Приходите с "
                  "плакатом с именем.",
        },
    },
    {
        # after the clocks change in Geneva: the same 13:00 is an hour earlier in UTC
        "key": "political-prisoners-side-event", "week_day": "after-summer-time", "start": "13:00", "end": "14:30",
        "kind": EventKind.SIDE_EVENT, "venue": "Palais des Nations", "room": "Room XXVII", "city": "Geneva",
        "country": "CH", "online": "https://webtv.un.org/", "languages": ["ru", "en"], "interpretation": ["en"],
        "organisers": ["memorial", "hfhr"], "petitions": ["free-russian-political-prisoners"],
        "title": {"en": "Jailed for a word: Russian political prisoners and the war",
                  "uk": "Ув’язнені за слово: російські політв’язні та війна",
                  "ru": "Посаженные за слово: российские политзаключённые и война"},
        "description": {
            "en": "Lawyers of the Memorial Human Rights Defence Centre and former prisoners will speak about "
                  "people persecuted for their anti-war stance: those serving long sentences and the many in "
                  "pre-trial detention.",
            "uk": "Адвокати Правозахисного центру «Меморіал» і колишні в’язні розкажуть про людей, яких "
                  "переслідують за антивоєнну позицію: тих, хто відбуває довгі строки, і багатьох, хто "
                  "перебуває в досудовому ув’язненні.",
            "ru": "Адвокаты Правозащитного центра «Мемориал» и бывшие заключённые расскажут о людях, которых "
                  "преследуют за антивоенную позицию: о тех, кто отбывает долгие сроки, и о многих, кто "
                  "находится в предварительном заключении.",
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
            "en": "An online briefing for journalists and supporters will explain the exchange of prisoners of "
                  "war, which Article 118 requires after the cessation of active hostilities.",
            "uk": "Онлайн-брифінг для журналістів і прихильників пояснить обмін військовополоненими, якого "
                  "стаття 118 вимагає після припинення активних воєнних дій.",
            "ru": "Онлайн-брифинг для журналистов и сторонников объяснит обмен военнопленными, которого "
                  "статья 118 требует по прекращении активных военных действий.",
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
            "en": "Signatures will be handed to members of the Human Rights Committee in Berlin.",
            "uk": "Підписи буде передано членам комітету з прав людини в Берліні.",
            "ru": "Подписи будут переданы членам комитета по правам человека в Берлине.",
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
            "en": "The exhibition in Warsaw will show portraits of civilians and prisoners of war held by Russia, "
                  "with their families’ words.",
            "uk": "Виставка у Варшаві покаже портрети цивільних і військовополонених, яких утримує Росія, зі "
                  "словами їхніх родин.",
            "ru": "Выставка в Варшаве покажет портреты гражданских и военнопленных, которых удерживает Россия, "
                  "со словами их семей.",
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

