"""The People First demo data: the campaign, its six demands as petitions, real targets, demo signatures.

Loading it twice changes nothing: everything is keyed by slug, demo signers by their (fake) addresses.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from advocacy import cache
from advocacy.accounts.roles import SYSTEM
from advocacy.dbtypes import utcnow
from advocacy.events.demo import load_demo_events
from advocacy.extensions import db
from advocacy.petitions import services as petitions
from advocacy.petitions.models import DataSharing, Petition
from advocacy.signatures.models import Signature, SignatureState
from advocacy.signatures.services import email_index
from advocacy.tallies import services as tallies

CAMPAIGN: dict[str, Any] = {
    "slug": "people-first",
    "website": "https://people1st.online",
    "name": {"en": "People First", "uk": "Люди передусім", "ru": "Люди прежде всего"},
    "description": {
        "en": "No deals about land until lives are saved. A campaign of Ukraine's Center for Civil Liberties "
              "and Memorial with more than forty partner organisations on five continents.",
        "uk": "Жодних домовленостей про землю, доки не врятовані життя. Кампанія Центру громадянських свобод "
              "і «Меморіалу» разом із понад сорока партнерськими організаціями на пʼяти континентах.",
        "ru": "Никаких сделок о земле, пока не спасены жизни. Кампания Центра гражданских свобод и "
              "«Мемориала» вместе с более чем сорока партнёрскими организациями на пяти континентах.",
    },
}

TARGETS = [
    ("bundestag", "DE", ["de"], "https://www.bundestag.de",
     {"en": "German Bundestag", "uk": "Бундестаг Німеччини", "ru": "Бундестаг Германии"}),
    ("sejm", "PL", ["pl"], "https://www.sejm.gov.pl",
     {"en": "Sejm of the Republic of Poland", "uk": "Сейм Республіки Польща", "ru": "Сейм Республики Польша"}),
    ("assemblee-nationale", "FR", ["fr"], "https://www.assemblee-nationale.fr",
     {"en": "French National Assembly", "uk": "Національні збори Франції", "ru": "Национальное собрание Франции"}),
    ("house-of-commons", "GB", ["en"], "https://www.parliament.uk",
     {"en": "UK House of Commons", "uk": "Палата громад Великої Британії", "ru": "Палата общин Великобритании"}),
    ("european-parliament", None, ["en", "de", "fr", "pl"], "https://www.europarl.europa.eu",
     {"en": "European Parliament", "uk": "Європейський парламент", "ru": "Европейский парламент"}),
    ("un-hrc", None, ["en", "fr", "ru"], "https://www.ohchr.org/en/hr-bodies/hrc",
     {"en": "UN Human Rights Council", "uk": "Рада ООН з прав людини", "ru": "Совет ООН по правам человека"}),
]

PETITIONS: list[dict[str, Any]] = [
    {
        "slug": "free-ukrainian-civilians",
        "targets": ["bundestag", "sejm", "assemblee-nationale", "house-of-commons", "european-parliament", "un-hrc"],
        "goal": 50000, "country_goals": {"UA": 15000, "PL": 8000, "DE": 8000, "GB": 5000, "FR": 5000},
        "signatures": 1400,
        "title": {"en": "Free all Ukrainian civilians held by Russia",
                  "uk": "Звільніть усіх українських цивільних, яких утримує Росія",
                  "ru": "Освободите всех украинских гражданских, удерживаемых Россией"},
        "summary": {"en": "Release every civilian without conditions, including those sentenced by occupation courts.",
                    "uk": "Звільнити кожного цивільного без умов, зокрема засуджених окупаційними судами.",
                    "ru": "Освободить каждого гражданского без условий, в том числе осуждённых оккупационными судами."},
        "body": {
            "en": "Thousands of Ukrainian civilians are held in Russian custody: journalists, volunteers, local "
                  "officials, people taken from their homes in occupied towns. Many have been sentenced by "
                  "occupation courts after trials that meet no standard of justice.\n\n"
                  "We ask you to make their unconditional release and safe return home a condition of every "
                  "negotiation to end the war. People first: no deals about land until lives are saved.",
            "uk": "Тисячі українських цивільних перебувають під вартою в Росії: журналісти, волонтери, місцеві "
                  "посадовці, люди, яких забрали з домівок в окупованих містах. Багатьох засудили окупаційні "
                  "суди після процесів, що не відповідають жодним стандартам правосуддя.\n\n"
                  "Просимо вас зробити їхнє беззастережне звільнення та безпечне повернення додому умовою "
                  "будь-яких переговорів про завершення війни. Люди передусім: жодних домовленостей про землю, "
                  "доки не врятовані життя.",
            "ru": "Тысячи украинских гражданских находятся под стражей в России: журналисты, волонтёры, местные "
                  "чиновники, люди, которых забрали из домов в оккупированных городах. Многих осудили "
                  "оккупационные суды после процессов, не отвечающих никаким стандартам правосудия.\n\n"
                  "Просим вас сделать их безусловное освобождение и безопасное возвращение домой условием "
                  "любых переговоров об окончании войны. Люди прежде всего: никаких сделок о земле, пока не "
                  "спасены жизни.",
        },
    },
    {
        "slug": "bring-the-children-home",
        "targets": ["bundestag", "sejm", "assemblee-nationale", "house-of-commons", "european-parliament", "un-hrc"],
        "goal": 40000, "country_goals": {"UA": 12000, "PL": 6000, "DE": 6000},
        "signatures": 1100,
        "title": {"en": "Bring every deported child home",
                  "uk": "Поверніть додому кожну депортовану дитину",
                  "ru": "Верните домой каждого депортированного ребёнка"},
        "summary": {"en": "Return every child transferred or deported to Russia or to occupied territory.",
                    "uk": "Повернути кожну дитину, переміщену чи депортовану до Росії або на окуповану територію.",
                    "ru": "Вернуть каждого ребёнка, перемещённого или депортированного в Россию или на "
                          "оккупированную территорию."},
        "body": {
            "en": "Ukraine's government counts at least 19,000 children deported or forcibly transferred. Some "
                  "have been given new names, new families and Russian passports.\n\n"
                  "We ask you to insist that every one of them is identified and returned to their families, "
                  "with international organisations given the access this requires.",
            "uk": "Уряд України налічує щонайменше 19 000 дітей, депортованих або примусово переміщених. Деяким "
                  "змінили імена, дали нові родини й російські паспорти.\n\n"
                  "Просимо вас наполягати, щоб кожну з них було встановлено й повернуто до родини, а "
                  "міжнародні організації отримали потрібний для цього доступ.",
            "ru": "Правительство Украины насчитывает не менее 19 000 детей, депортированных или принудительно "
                  "перемещённых. Некоторым сменили имена, дали новые семьи и российские паспорта.\n\n"
                  "Просим вас настаивать, чтобы каждый из них был установлен и возвращён в семью, а "
                  "международные организации получили необходимый для этого доступ.",
        },
    },
    {
        "slug": "return-deported-prisoners",
        "targets": ["european-parliament", "un-hrc", "bundestag"],
        "goal": 20000, "country_goals": {},
        "signatures": 520,
        "title": {"en": "Return deported prisoners and residents of closed institutions",
                  "uk": "Поверніть депортованих увʼязнених і мешканців закритих закладів",
                  "ru": "Верните депортированных заключённых и жителей закрытых учреждений"},
        "summary": {"en": "Bring back prisoners and people from care homes and psychiatric hospitals who were taken to Russia.",
                    "uk": "Повернути увʼязнених і людей з інтернатів та психіатричних лікарень, вивезених до Росії.",
                    "ru": "Вернуть заключённых и людей из интернатов и психиатрических больниц, вывезенных в Россию."},
        "body": {
            "en": "When Russian forces took Ukrainian towns, they moved whole prisons, care homes and psychiatric "
                  "hospitals into Russia. These people cannot speak for themselves and are easily forgotten.\n\n"
                  "We ask you to demand their return and to include them by name in every exchange.",
            "uk": "Захопивши українські міста, російські сили вивезли до Росії цілі вʼязниці, інтернати та "
                  "психіатричні лікарні. Ці люди не можуть говорити за себе, і про них легко забути.\n\n"
                  "Просимо вас вимагати їхнього повернення й поіменно включати їх до кожного обміну.",
            "ru": "Захватив украинские города, российские силы вывезли в Россию целые тюрьмы, интернаты и "
                  "психиатрические больницы. Эти люди не могут говорить за себя, и о них легко забыть.\n\n"
                  "Просим вас требовать их возвращения и поимённо включать их в каждый обмен.",
        },
    },
    {
        "slug": "exchange-all-prisoners-of-war",
        "targets": ["un-hrc", "european-parliament", "house-of-commons"],
        "goal": 30000, "country_goals": {"UA": 10000},
        "signatures": 860,
        "title": {"en": "Complete the exchange of all prisoners of war",
                  "uk": "Завершіть обмін усіх військовополонених",
                  "ru": "Завершите обмен всех военнопленных"},
        "summary": {"en": "All for all, as soon as possible and at the latest when hostilities end, as the Third Geneva Convention requires.",
                    "uk": "Усіх на всіх якнайшвидше, найпізніше із завершенням бойових дій, як вимагає Третя Женевська конвенція.",
                    "ru": "Всех на всех как можно скорее, не позднее окончания боевых действий, как требует Третья Женевская конвенция."},
        "body": {
            "en": "Both sides hold thousands of prisoners of war. Many report torture and are kept from contact "
                  "with their families and the International Committee of the Red Cross.\n\n"
                  "We ask you to press for a complete exchange, all for all, without delay.",
            "uk": "Обидві сторони утримують тисячі військовополонених. Багато хто повідомляє про катування, їх "
                  "позбавляють звʼязку з родинами та з Міжнародним комітетом Червоного Хреста.\n\n"
                  "Просимо вас домагатися повного обміну, усіх на всіх, без зволікань.",
            "ru": "Обе стороны удерживают тысячи военнопленных. Многие сообщают о пытках, их лишают связи с "
                  "семьями и с Международным комитетом Красного Креста.\n\n"
                  "Просим вас добиваться полного обмена, всех на всех, без промедления.",
        },
    },
    {
        "slug": "free-russian-political-prisoners",
        "targets": ["bundestag", "european-parliament", "un-hrc", "house-of-commons"],
        "goal": 25000, "country_goals": {"DE": 5000},
        "signatures": 640,
        "title": {"en": "Free Russian political prisoners jailed for opposing the war",
                  "uk": "Звільніть російських політвʼязнів, увʼязнених за виступи проти війни",
                  "ru": "Освободите российских политзаключённых, осуждённых за выступления против войны"},
        "summary": {"en": "Release everyone jailed for speaking out against the war, free to leave Russia if they wish.",
                    "uk": "Звільнити всіх, кого увʼязнили за слова проти війни, з правом виїхати з Росії.",
                    "ru": "Освободить всех, кого посадили за слова против войны, с правом уехать из России."},
        "body": {
            "en": "The UN human-rights office counted 1,372 people held by Russia on politically motivated "
                  "charges in August 2024. Many are serving long sentences for a post, a sign or a word.\n\n"
                  "We ask you to include their release, and their freedom to leave the country, in any talks.",
            "uk": "У серпні 2024 року Управління ООН з прав людини нарахувало 1372 людини, яких Росія утримує за "
                  "політично мотивованими звинуваченнями. Багато хто відбуває довгі строки за допис, плакат чи "
                  "слово.\n\n"
                  "Просимо вас включити їхнє звільнення та право виїхати з країни до будь-яких переговорів.",
            "ru": "В августе 2024 года Управление ООН по правам человека насчитало 1372 человека, которых Россия "
                  "удерживает по политически мотивированным обвинениям. Многие отбывают долгие сроки за пост, "
                  "плакат или слово.\n\n"
                  "Просим вас включить их освобождение и право уехать из страны в любые переговоры.",
        },
    },
    {
        "slug": "independent-monitoring-mechanism",
        "targets": ["un-hrc", "european-parliament", "sejm", "assemblee-nationale"],
        "goal": 20000, "country_goals": {},
        "signatures": 430,
        "title": {"en": "Set up an independent international monitoring mechanism",
                  "uk": "Створіть незалежний міжнародний механізм моніторингу",
                  "ru": "Создайте независимый международный механизм мониторинга"},
        "summary": {"en": "Monitor compliance, report publicly and secure access for the UN and the Red Cross.",
                    "uk": "Стежити за виконанням, звітувати публічно й забезпечити доступ ООН і Червоного Хреста.",
                    "ru": "Следить за выполнением, публично отчитываться и обеспечить доступ ООН и Красного Креста."},
        "body": {
            "en": "Promises about captives mean little without someone to check them. Today neither the UN nor "
                  "the Red Cross can visit most places where Ukrainians are held.\n\n"
                  "We ask you to create an independent international mechanism that monitors every commitment, "
                  "reports publicly and secures unhindered access.",
            "uk": "Обіцянки щодо полонених мало важать, якщо їх ніхто не перевіряє. Сьогодні ні ООН, ні Червоний "
                  "Хрест не можуть відвідати більшість місць, де утримують українців.\n\n"
                  "Просимо вас створити незалежний міжнародний механізм, який стежитиме за кожним зобовʼязанням, "
                  "публічно звітуватиме й забезпечить безперешкодний доступ.",
            "ru": "Обещания о пленных мало что значат, если их никто не проверяет. Сегодня ни ООН, ни Красный "
                  "Крест не могут посетить большинство мест, где удерживают украинцев.\n\n"
                  "Просим вас создать независимый международный механизм, который будет следить за каждым "
                  "обязательством, публично отчитываться и обеспечит беспрепятственный доступ.",
        },
    },
]

# Where demo signers come from, roughly as a coalition campaign would see it.
COUNTRY_WEIGHTS = {
    "UA": 30, "PL": 12, "DE": 11, "GB": 7, "FR": 6, "LT": 4, "CZ": 4, "NL": 3, "US": 3, "CA": 3, "RU": 3,
    "GE": 2, "MD": 2, "LV": 2, "EE": 2, "SE": 2, "FI": 1, "IT": 1, "ES": 1, "AT": 1, "CH": 1, "IL": 1,
}
FIRST_NAMES = ["Olena", "Andrii", "Iryna", "Taras", "Kateryna", "Mykola", "Anna", "Piotr", "Agnieszka", "Jonas",
               "Lena", "Thomas", "Claire", "Julien", "Emma", "Oliver", "Marta", "Ruta", "Jan", "Sofia",
               "Dmitri", "Natalia", "Giorgi", "Elena", "Lars", "Ingrid", "Marco", "Lucia", "Noah", "Maya"]
LAST_NAMES = ["Shevchenko", "Kovalenko", "Bondarenko", "Nowak", "Kowalska", "Schmidt", "Weber", "Martin",
              "Bernard", "Smith", "Taylor", "Kazlauskas", "Novák", "de Vries", "Brown", "Petrov", "Ivanova",
              "Beridze", "Rusu", "Berzins", "Tamm", "Andersson", "Virtanen", "Rossi", "García", "Huber"]


def _demo_address(slug: str, number: int) -> str:
    return f"demo-{slug}-{number:05d}@demo.people-first.invalid"


def load_demo(seed: int = 2025) -> str:
    """Create and publish what is not there yet; what is there already is left as it is."""
    campaign = petitions.find_campaign(CAMPAIGN["slug"]) or petitions.create_campaign(
        CAMPAIGN["slug"], name=CAMPAIGN["name"], description=CAMPAIGN["description"], website=CAMPAIGN["website"],
        languages=["en", "uk", "ru"], actor=SYSTEM)
    petitions.publish_campaign(campaign.id, actor=SYSTEM)
    targets = {}
    for slug, country, languages, website, name in TARGETS:
        target = petitions.find_target(slug) or petitions.create_target(
            slug, name=name, country=country, languages=languages, website=website, data_sharing=DataSharing.NAMES,
            actor=SYSTEM)
        targets[slug] = petitions.publish_target(target.id, actor=SYSTEM)
    now = utcnow()
    created: dict[str, Petition] = {}
    for position, spec in enumerate(PETITIONS):
        try:
            petition = petitions.get_petition(spec["slug"], include_drafts=True)
        except petitions.PetitionNotFound:
            petition = petitions.create_petition(
                spec["slug"], campaign_id=campaign.id, title=spec["title"], summary=spec["summary"],
                body=spec["body"], target_ids=[targets[t].id for t in spec["targets"]],
                goal=spec["goal"], country_goals=spec["country_goals"],
                closes_at=now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=365),
                position=position, actor=SYSTEM,
            )
            petitions.publish_petition(petition.id, actor=SYSTEM)
        created[spec["slug"]] = petition
    load_demo_events(campaign, created)

    rng = random.Random(seed)
    codes, weights = zip(*COUNTRY_WEIGHTS.items(), strict=True)
    added = 0
    for spec in PETITIONS:
        petition = created[spec["slug"]]
        marker = email_index(petition.id, _demo_address(petition.slug, 0))
        if db.session.scalar(select(Signature.id).where(Signature.petition_id == petition.id,
                                                        Signature.email_index == marker)):
            continue
        for number in range(int(spec["signatures"])):
            address = _demo_address(petition.slug, number)
            signed_at = now - timedelta(minutes=rng.randrange(60, 60 * 24 * 90))
            country = rng.choices(codes, weights)[0]
            db.session.add(Signature(
                petition_id=petition.id, state=SignatureState.CONFIRMED,
                full_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", email=address,
                email_index=email_index(petition.id, address), country=country,
                locale=rng.choice(["en", "uk", "ru"]), consent_share_name=rng.random() < 0.8,
                opt_in_news=rng.random() < 0.3, created_at=signed_at,
                confirmed_at=signed_at + timedelta(minutes=rng.randrange(1, 240)),
            ))
            added += 1
        db.session.flush()
        tallies.reconcile(petition.id, expected=True)
    db.session.commit()
    cache.clear_all()
    return f"demo data loaded: 1 campaign, {len(TARGETS)} targets, {len(PETITIONS)} petitions, {added} new signatures"
