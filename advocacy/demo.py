"""The People First demo data: the campaign, its six demands as petitions, real targets, demo signatures.

Loading it twice changes nothing: everything is keyed by slug, demo signers by their (fake) addresses.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
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
        "en": "No deals about land until lives are saved. A campaign launched by Ukraine’s Center for Civil "
              "Liberties and the Memorial Human Rights Defence Centre with more than forty partner "
              "organisations on five continents, among them the Kharkiv Human Rights Protection Group.",
        "uk": "Жодних домовленостей про землю, доки не врятовані життя. Кампанію започаткували Центр "
              "громадянських свобод і Правозахисний центр «Меморіал» разом із понад сорока партнерськими "
              "організаціями на п’яти континентах; серед них — Харківська правозахисна група.",
        "ru": "Никаких сделок о земле, пока не спасены жизни. Кампанию начали Центр гражданских свобод и "
              "Правозащитный центр «Мемориал» вместе с более чем сорока партнёрскими организациями на пяти "
              "континентах; среди них — Харьковская правозащитная группа.",
    },
}

TARGETS = [
    ("bundestag", "DE", ["de"], "https://www.bundestag.de",
     {"en": "German Bundestag", "uk": "Бундестаг Німеччини", "ru": "Бундестаг Германии",
      "de": "Deutscher Bundestag", "fr": "Bundestag allemand", "pl": "Bundestag Niemiec"}),
    ("sejm", "PL", ["pl"], "https://www.sejm.gov.pl",
     {"en": "Sejm of the Republic of Poland", "uk": "Сейм Республіки Польща", "ru": "Сейм Республики Польша",
      "de": "Sejm der Republik Polen", "fr": "Diète de la République de Pologne",
      "pl": "Sejm Rzeczypospolitej Polskiej"}),
    ("assemblee-nationale", "FR", ["fr"], "https://www.assemblee-nationale.fr",
     {"en": "French National Assembly", "uk": "Національні збори Франції", "ru": "Национальное собрание Франции",
      "de": "Französische Nationalversammlung", "fr": "Assemblée nationale", "pl": "Zgromadzenie Narodowe Francji"}),
    ("house-of-commons", "GB", ["en"], "https://www.parliament.uk",
     {"en": "UK House of Commons", "uk": "Палата громад Великої Британії", "ru": "Палата общин Великобритании",
      "de": "Britisches Unterhaus", "fr": "Chambre des communes du Royaume-Uni", "pl": "Izba Gmin Wielkiej Brytanii"}),
    ("european-parliament", None, ["en", "de", "fr", "pl"], "https://www.europarl.europa.eu",
     {"en": "European Parliament", "uk": "Європейський парламент", "ru": "Европейский парламент",
      "de": "Europäisches Parlament", "fr": "Parlement européen", "pl": "Parlament Europejski"}),
    # in Russian always the full name: "СПЧ" reads as the Russian president's human-rights council
    ("un-hrc", None, ["en", "fr", "ru"], "https://www.ohchr.org/en/hr-bodies/hrc",
     {"en": "UN Human Rights Council", "uk": "Рада ООН з прав людини", "ru": "Совет ООН по правам человека",
      "de": "UN-Menschenrechtsrat", "fr": "Conseil des droits de l’homme de l’ONU", "pl": "Rada Praw Człowieka ONZ"}),
]

# The terms are those of the partner organisations: civilians "unlawfully held by Russia" (never "in custody"),
# children "forcibly transferred", "closed-type institutions", prisoners of war released "after the cessation
# of active hostilities" (the Third Geneva Convention, Article 118), sentences "by Russian courts, including
# occupation courts", and torture attributed to whoever commits it.
PETITIONS: list[dict[str, Any]] = [
    {
        "slug": "free-ukrainian-civilians",
        "targets": ["bundestag", "sejm", "assemblee-nationale", "house-of-commons", "european-parliament", "un-hrc"],
        "goal": 50000, "country_goals": {"UA": 15000, "PL": 8000, "DE": 8000, "GB": 5000, "FR": 5000},
        "signatures": 1400,
        "title": {"en": "Free all Ukrainian civilians unlawfully held by Russia",
                  "uk": "Звільніть усіх українських цивільних, яких незаконно утримує Росія",
                  "ru": "Освободите всех украинских гражданских, незаконно удерживаемых Россией"},
        "summary": {"en": "Release every civilian without conditions, including those sentenced by Russian courts, "
                          "including occupation courts.",
                    "uk": "Звільнити кожного цивільного без умов, зокрема засуджених російськими судами, "
                          "включно з окупаційними.",
                    "ru": "Освободить каждого гражданского без условий, в том числе осуждённых российскими "
                          "судами, включая оккупационные."},
        "body": {
            "en": "Thousands of Ukrainian civilians are unlawfully held by Russia: journalists, volunteers, local "
                  "officials, people taken from their homes in occupied towns. Many have been sentenced by "
                  "Russian courts, including occupation courts, after trials that meet no standard of justice.\n\n"
                  "We ask you to make their unconditional release and safe return home a condition of every "
                  "negotiation to end the war. People first: no deals about land until lives are saved.",
            "uk": "Тисячі українських цивільних незаконно утримує Росія: журналістів, волонтерів, місцевих "
                  "посадовців, людей, яких забрали з домівок в окупованих містах. Багатьох засудили російські "
                  "суди, зокрема окупаційні, після процесів, що не відповідають жодним стандартам "
                  "правосуддя.\n\n"
                  "Просимо вас зробити їхнє беззастережне звільнення та безпечне повернення додому умовою "
                  "будь-яких переговорів про завершення війни. Люди передусім: жодних домовленостей про землю, "
                  "доки не врятовані життя.",
            "ru": "Тысячи украинских гражданских незаконно удерживает Россия: журналистов, волонтёров, местных "
                  "чиновников, людей, которых забрали из домов в оккупированных городах. Многих осудили "
                  "российские суды, в том числе оккупационные, после процессов, не отвечающих никаким "
                  "стандартам правосудия.\n\n"
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
        "title": {"en": "Bring home every deported or forcibly transferred child",
                  "uk": "Поверніть додому кожну депортовану чи примусово переміщену дитину",
                  "ru": "Верните домой каждого депортированного или принудительно перемещённого ребёнка"},
        "summary": {"en": "Return every child deported or forcibly transferred to Russia or to occupied territory.",
                    "uk": "Повернути кожну дитину, депортовану або примусово переміщену до Росії чи на "
                          "окуповану територію.",
                    "ru": "Вернуть каждого ребёнка, депортированного или принудительно перемещённого в Россию "
                          "или на оккупированную территорию."},
        "body": {
            "en": "Ukraine’s government counts at least 19,000 children deported or forcibly transferred by Russia. "
                  "Some have been given new names, new families and Russian passports.\n\n"
                  "We ask you to insist that every one of them is identified and returned to their families, "
                  "with international organisations given the access this requires.",
            "uk": "Уряд України налічує щонайменше 19 000 дітей, яких Росія депортувала або примусово "
                  "перемістила. Деяким змінили імена, дали нові родини й російські паспорти.\n\n"
                  "Просимо вас наполягати, щоб кожну з них було встановлено й повернуто до родини, а "
                  "міжнародні організації отримали потрібний для цього доступ.",
            "ru": "Правительство Украины насчитывает не менее 19 000 детей, которых Россия депортировала или "
                  "принудительно переместила. Некоторым сменили имена, дали новые семьи и российские "
                  "паспорта.\n\n"
                  "Просим вас настаивать, чтобы каждый из них был установлен и возвращён в семью, а "
                  "международные организации получили необходимый для этого доступ.",
        },
    },
    {
        "slug": "return-deported-prisoners",
        "targets": ["european-parliament", "un-hrc", "bundestag"],
        "goal": 20000, "country_goals": {},
        "signatures": 520,
        "title": {"en": "Return deported prisoners and residents of closed-type institutions",
                  "uk": "Поверніть депортованих ув’язнених і мешканців закладів закритого типу",
                  "ru": "Верните депортированных заключённых и жителей учреждений закрытого типа"},
        "summary": {"en": "Bring back prisoners and residents of closed-type institutions (care homes, psychiatric "
                          "hospitals) whom Russia took from occupied territory.",
                    "uk": "Повернути ув’язнених і мешканців закладів закритого типу (інтернатів, психіатричних "
                          "лікарень), яких Росія вивезла з окупованої території.",
                    "ru": "Вернуть заключённых и жителей учреждений закрытого типа (интернатов, психиатрических "
                          "больниц), которых Россия вывезла с оккупированной территории."},
        "body": {
            "en": "When Russian forces took Ukrainian towns, they moved whole prisons and closed-type "
                  "institutions, care homes and psychiatric hospitals, into Russia. These people cannot speak "
                  "for themselves and are easily forgotten.\n\n"
                  "We ask you to demand their return and to include them by name in every exchange.",
            "uk": "Захопивши українські міста, російські сили вивезли до Росії цілі в’язниці та заклади "
                  "закритого типу: інтернати й психіатричні лікарні. Ці люди не можуть говорити за себе, і про "
                  "них легко забути.\n\n"
                  "Просимо вас вимагати їхнього повернення й поіменно включати їх до кожного обміну.",
            "ru": "Захватив украинские города, российские силы вывезли в Россию целые тюрьмы и учреждения "
                  "закрытого типа: интернаты и психиатрические больницы. Эти люди не могут говорить за себя, и "
                  "о них легко забыть.\n\n"
                  "Просим вас требовать их возвращения и поимённо включать их в каждый обмен.",
        },
    },
    {
        "slug": "exchange-all-prisoners-of-war",
        "targets": ["un-hrc", "european-parliament", "house-of-commons"],
        "goal": 30000, "country_goals": {"UA": 10000},
        "signatures": 860,
        "title": {"en": "Complete the exchange of prisoners of war",
                  "uk": "Завершіть обмін військовополоненими",
                  "ru": "Завершите обмен военнопленными"},
        "summary": {"en": "All for all, as soon as possible and at the latest after the cessation of active "
                          "hostilities, as Article 118 of the Third Geneva Convention requires.",
                    "uk": "Усіх на всіх якнайшвидше, найпізніше після припинення активних воєнних дій, як "
                          "вимагає стаття 118 Третьої Женевської конвенції.",
                    "ru": "Всех на всех как можно скорее, не позднее чем по прекращении активных военных "
                          "действий, как требует статья 118 Третьей Женевской конвенции."},
        "body": {
            "en": "Thousands of prisoners of war are held on both sides. Ukrainian prisoners of war held by Russia "
                  "report systematic torture by the Russian side, and Russia keeps them from contact with their "
                  "families and the International Committee of the Red Cross.\n\n"
                  "We ask you to press for a complete exchange of prisoners of war, all for all, without delay.",
            "uk": "Тисячі військовополонених перебувають у полоні з обох боків. Українські військовополонені, "
                  "яких утримує Росія, свідчать про систематичні катування з боку Росії, і Росія позбавляє їх "
                  "зв’язку з родинами та з Міжнародним комітетом Червоного Хреста.\n\n"
                  "Просимо вас домагатися повного обміну військовополоненими, усіх на всіх, без зволікань.",
            "ru": "Тысячи военнопленных находятся в плену с обеих сторон. Украинские военнопленные, которых "
                  "удерживает Россия, свидетельствуют о систематических пытках с российской стороны, и Россия "
                  "лишает их связи с семьями и с Международным комитетом Красного Креста.\n\n"
                  "Просим вас добиваться полного обмена военнопленными, всех на всех, без промедления.",
        },
    },
    {
        "slug": "free-russian-political-prisoners",
        "targets": ["bundestag", "european-parliament", "un-hrc", "house-of-commons"],
        "goal": 25000, "country_goals": {"DE": 5000},
        "signatures": 640,
        "title": {"en": "Free Russian political prisoners persecuted for their anti-war stance",
                  "uk": "Звільніть російських політв’язнів, переслідуваних за антивоєнну позицію",
                  "ru": "Освободите российских политзаключённых, преследуемых за антивоенную позицию"},
        "summary": {"en": "Release everyone persecuted for their anti-war stance, many of them in pre-trial "
                          "detention, free to leave Russia if they wish.",
                    "uk": "Звільнити всіх, кого переслідують за антивоєнну позицію, багато з них — у "
                          "досудовому ув’язненні, з правом виїхати з Росії.",
                    "ru": "Освободить всех, кого преследуют за антивоенную позицию, многие из них — в "
                          "предварительном заключении, с правом уехать из России."},
        "body": {
            "en": "The UN human-rights office counted 1,372 people held by Russia on politically motivated "
                  "charges in August 2024. Many are persecuted for their anti-war stance: some serve long "
                  "sentences for a post, a sign or a word, many more are in pre-trial detention.\n\n"
                  "We ask you to include their release, and their freedom to leave the country, in any talks.",
            "uk": "У серпні 2024 року Управління ООН з прав людини нарахувало 1372 людини, яких Росія утримує за "
                  "політично мотивованими звинуваченнями. Багатьох переслідують за антивоєнну позицію: дехто "
                  "відбуває довгі строки за допис, плакат чи слово, ще більше людей — у досудовому "
                  "ув’язненні.\n\n"
                  "Просимо вас включити їхнє звільнення та право виїхати з країни до будь-яких переговорів.",
            "ru": "В августе 2024 года Управление ООН по правам человека насчитало 1372 человека, которых Россия "
                  "удерживает по политически мотивированным обвинениям. Многих преследуют за антивоенную "
                  "позицию: одни отбывают долгие сроки за пост, плакат или слово, ещё больше людей — в "
                  "предварительном заключении.\n\n"
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
                  "the Red Cross can visit most places where Russia holds Ukrainians.\n\n"
                  "We ask you to create an independent international mechanism that monitors every commitment, "
                  "reports publicly and secures unhindered access.",
            "uk": "Обіцянки щодо полонених мало важать, якщо їх ніхто не перевіряє. Сьогодні ні ООН, ні Червоний "
                  "Хрест не можуть відвідати більшість місць, де Росія утримує українців.\n\n"
                  "Просимо вас створити незалежний міжнародний механізм, який стежитиме за кожним зобов’язанням, "
                  "публічно звітуватиме й забезпечить безперешкодний доступ.",
            "ru": "Обещания о пленных мало что значат, если их никто не проверяет. Сегодня ни ООН, ни Красный "
                  "Крест не могут посетить большинство мест, где Россия удерживает украинцев.\n\n"
                  "Просим вас создать независимый международный механизм, который будет следить за каждым "
                  "обязательством, публично отчитываться и обеспечит беспрепятственный доступ.",
        },
    },
]

# Country petitions launched from the first campaign petition, each addressed to its national parliament and
# written in the country's language as well as the campaign's.
COUNTRY_PETITIONS: list[dict[str, Any]] = [
    {
        "slug": "free-ukrainian-civilians-de", "parent": "free-ukrainian-civilians", "country": "DE",
        "targets": ["bundestag"], "goal": 8000, "signatures": 240, "locale": "de",
        "title": "Freiheit für alle ukrainischen Zivilpersonen, die Russland unrechtmäßig festhält",
        "summary": "Jede Zivilperson ohne Bedingungen freilassen, auch die von russischen Gerichten Verurteilten, "
                   "einschließlich der Besatzungsgerichte.",
        "body": "Tausende ukrainische Zivilpersonen werden von Russland unrechtmäßig festgehalten: Journalistinnen "
                "und Journalisten, Freiwillige, Beschäftigte der Kommunalverwaltung, Menschen, die in besetzten "
                "Städten aus ihren Wohnungen geholt wurden. Viele wurden von russischen Gerichten, einschließlich "
                "Besatzungsgerichten, nach Verfahren verurteilt, die keinem rechtsstaatlichen Maßstab genügen.\n\n"
                "Wir bitten den Deutschen Bundestag, ihre bedingungslose Freilassung und sichere Heimkehr zur "
                "Bedingung jeder Verhandlung über ein Ende des Krieges zu machen. Der Mensch zuerst: keine "
                "Abmachungen über Land, solange nicht Leben gerettet sind.",
    },
    {
        "slug": "free-ukrainian-civilians-pl", "parent": "free-ukrainian-civilians", "country": "PL",
        "targets": ["sejm"], "goal": 8000, "signatures": 260, "locale": "pl",
        "title": "Uwolnić wszystkich ukraińskich cywilów bezprawnie przetrzymywanych przez Rosję",
        "summary": "Uwolnić bez warunków każdą osobę cywilną, także skazaną przez rosyjskie sądy, w tym sądy "
                   "okupacyjne.",
        "body": "Rosja bezprawnie przetrzymuje tysiące ukraińskich cywilów: dziennikarzy, wolontariuszy, "
                "urzędników samorządowych, ludzi zabranych z domów w okupowanych miastach. Wielu z nich skazały "
                "rosyjskie sądy, w tym sądy okupacyjne, po procesach niespełniających żadnych standardów "
                "sprawiedliwości.\n\n"
                "Zwracamy się do Sejmu Rzeczypospolitej Polskiej o uczynienie ich bezwarunkowego uwolnienia "
                "i bezpiecznego powrotu do domu warunkiem wszelkich negocjacji o zakończeniu wojny. Najpierw "
                "ludzie: żadnych układów o ziemię, dopóki nie zostanie ocalone ludzkie życie.",
    },
    {
        "slug": "free-ukrainian-civilians-fr", "parent": "free-ukrainian-civilians", "country": "FR",
        "targets": ["assemblee-nationale"], "goal": 5000, "signatures": 150, "locale": "fr",
        "title": "Libérez tous les civils ukrainiens détenus illégalement par la Russie",
        "summary": "Libérer chaque civil sans condition, y compris les personnes condamnées par des tribunaux "
                   "russes, notamment des tribunaux d’occupation.",
        "body": "Des milliers de civils ukrainiens sont détenus illégalement par la Russie : journalistes, "
                "bénévoles, élus locaux, personnes enlevées chez elles dans des villes occupées. Beaucoup ont été "
                "condamnés par des tribunaux russes, notamment des tribunaux d’occupation, à l’issue de procès "
                "qui ne respectent aucune norme de justice.\n\n"
                "Nous demandons à l’Assemblée nationale de faire de leur libération sans condition et de leur "
                "retour en sécurité une condition de toute négociation visant à mettre fin à la guerre. "
                "L’humain d’abord : aucun accord sur des territoires tant que des vies ne sont pas sauvées.",
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


def _country_petition(spec: dict[str, Any], parent: Petition, targets: dict[str, Any], now: datetime) -> Petition:
    """A country petition: the parent's texts, and the country's language, addressed to its parliament."""
    try:
        return petitions.get_petition(spec["slug"], include_drafts=True)
    except petitions.PetitionNotFound:
        pass
    locale = spec["locale"]
    petition = petitions.create_petition(
        spec["slug"], campaign_id=parent.campaign_id, title={**parent.title, locale: spec["title"]},
        summary={**parent.summary, locale: spec["summary"]}, body={**parent.body, locale: spec["body"]},
        target_ids=[targets[t].id for t in spec["targets"]], goal=spec["goal"],
        country_goals={spec["country"]: spec["goal"]}, retention_days=90,
        closes_at=now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=365),
        position=parent.position, actor=SYSTEM,
    )
    petition.parent_id, petition.country = parent.id, spec["country"]
    return petitions.publish_petition(petition.id, actor=SYSTEM)


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
    for spec in COUNTRY_PETITIONS:
        created[spec["slug"]] = _country_petition(spec, created[spec["parent"]], targets, now)
    load_demo_events(campaign, created)

    rng = random.Random(seed)
    codes, weights = zip(*COUNTRY_WEIGHTS.items(), strict=True)
    added = 0
    for spec in [*PETITIONS, *COUNTRY_PETITIONS]:
        petition = created[spec["slug"]]
        marker = email_index(petition.id, _demo_address(petition.slug, 0))
        if db.session.scalar(select(Signature.id).where(Signature.petition_id == petition.id,
                                                        Signature.email_index == marker)):
            continue
        for number in range(int(spec["signatures"])):
            address = _demo_address(petition.slug, number)
            signed_at = now - timedelta(minutes=rng.randrange(60, 60 * 24 * 90))
            country = spec["country"] if "country" in spec else rng.choices(codes, weights)[0]
            db.session.add(Signature(
                petition_id=petition.id, state=SignatureState.CONFIRMED,
                full_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", email=address,
                email_index=email_index(petition.id, address), country=country,
                locale=spec.get("locale") or rng.choice(["en", "uk", "ru"]), consent_share_name=rng.random() < 0.8,
                opt_in_news=rng.random() < 0.3, created_at=signed_at,
                confirmed_at=signed_at + timedelta(minutes=rng.randrange(1, 240)),
            ))
            added += 1
        db.session.flush()
        tallies.reconcile(petition.id, expected=True)
    db.session.commit()
    cache.clear_all()
    count = len(PETITIONS) + len(COUNTRY_PETITIONS)
    return f"demo data loaded: 1 campaign, {len(TARGETS)} targets, {count} petitions, {added} new signatures"
