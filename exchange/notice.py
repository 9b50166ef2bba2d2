"""The privacy notice an invitee reads before accepting: a short paragraph in the mail, the
whole notice on the invitation page (its "privacy" section), in kk, ru and en.

Accepting records the notice's version with the time (the consent), so the version must
name exactly these words: change any text here and NOTICE_VERSION changes with it
(tests/invitations/test_consent.py pins the texts to the version).
"""

from __future__ import annotations

from markupsafe import Markup, escape

NOTICE_VERSION = "2026-12"

# The page section the mail links to: /invitations/{token}?lang=..#privacy
ANCHOR = "privacy"

NOTICE: dict[str, dict[str, str]] = {
    "kk": {
        "heading": "Сіздің деректеріңіз",
        "stored_title": "Не сақталады",
        "stored": (
            "Бұл шақыруды жіберу үшін ұйымдастырушы ({organisation}) платформаға атыңызды, "
            "электрондық пошта мекенжайыңызды, еліңізді және тіліңізді берді. Шақыруды "
            "қабылдасаңыз, жауабыңыз бен қатысуыңыз туралы мәліметтер (қатысқаныңыз, сағат саны), "
            "сондай-ақ ұйымдастырушылар көрсетсе, дағдыларыңыз да сақталады."
        ),
        "seen_title": "Кім көреді",
        "seen": (
            "Қабылдаушы ұйым ({organisation}), осы алмасудың серіктес ұйымдары және платформа "
            "әкімшілері. Басқалар сізді төменде ашық профильді таңдасаңыз ғана көреді; "
            "баяндамашының аты ашық сессиямен бірге көрсетіледі. Электрондық пошта "
            "мекенжайыңыз ешқашан жарияланбайды."
        ),
        "kept_title": "Қанша уақыт сақталады",
        "kept": (
            "Өшіруді сұрағаныңызға дейін. Өшірілгенде атыңыз бен пошта мекенжайыңыз барлық "
            "жерде ауыстырылады; тек сандар қалады (қанша адам қатысқаны, қанша сағат)."
        ),
        "rights_title": "Көшірме алу және өшіру",
        "rights": (
            "Сіз туралы сақталған барлық деректердің көшірмесін алу немесе оларды өшіру үшін "
            "{contact} мекенжайына жазыңыз."
        ),
        "rights_no_contact": (
            "Сіз туралы сақталған барлық деректердің көшірмесін алу немесе оларды өшіру үшін "
            "ұйымдастырушыға ({organisation}) хабарласыңыз."
        ),
        "public_profile": (
            "Профилім ашық болсын: атым, елім, тілдерім, дағдыларым және қатысатын алмасуларым "
            "(пошта мекенжайым ешқашан көрсетілмейді)."
        ),
        "public_profile_hint": (
            "Белгі қоймасаңыз, сізді тек алмасуларыңыздың ұйымдастырушылары мен платформа "
            "әкімшілері көреді. Бұл таңдау бұрынғы таңдауыңыздың орнына жазылады."
        ),
        "consent": (
            "«Қабылдаймын» батырмасын басу арқылы деректеріңіздің жоғарыдағы «Сіздің "
            "деректеріңіз» бөлімінде сипатталғандай пайдаланылуына келісесіз (нұсқасы: {version})."
        ),
        "mail": (
            "Бұл шақыруды жіберу үшін ұйымдастырушы ({organisation}) бізге атыңызды, электрондық "
            "пошта мекенжайыңызды, еліңізді және тіліңізді берді. Шақыруды қабылдасаңыз, оларды "
            "жауабыңызбен бірге осы алмасудың ұйымдастырушылары мен платформа әкімшілері көреді; "
            "ашық профильді өзіңіз таңдамасаңыз, олар жалпыға көрсетілмейді."
        ),
        "mail_rights": "Деректеріңіздің көшірмесін алу немесе оларды өшіру үшін {contact} мекенжайына жазыңыз.",
        "mail_rights_no_contact": (
            "Деректеріңіздің көшірмесін алу немесе оларды өшіру үшін ұйымдастырушыға "
            "({organisation}) хабарласыңыз."
        ),
        "mail_more": "Деректеріңіз туралы толығырақ",
    },
    "ru": {
        "heading": "Ваши данные",
        "stored_title": "Что хранится",
        "stored": (
            "Чтобы отправить это приглашение, организатор ({organisation}) передал платформе "
            "ваше имя, адрес электронной почты, страну и язык. Если вы примете приглашение, "
            "сохранятся также ваш ответ и сведения об участии (присутствие, часы), а если "
            "организаторы их укажут — и ваши навыки."
        ),
        "seen_title": "Кто это видит",
        "seen": (
            "Принимающая организация ({organisation}), организации-партнёры этого обмена и "
            "администраторы платформы. Остальные увидят вас, только если вы выберете открытый "
            "профиль ниже; имя докладчика показывается вместе с открытой сессией. Адрес вашей "
            "почты не публикуется никогда."
        ),
        "kept_title": "Как долго",
        "kept": (
            "Пока вы не попросите их удалить. При удалении ваше имя и адрес почты заменяются "
            "везде; остаются только числа (сколько человек участвовало, сколько часов)."
        ),
        "rights_title": "Копия и удаление",
        "rights": "Чтобы получить копию всех данных о вас или удалить их, напишите на {contact}.",
        "rights_no_contact": (
            "Чтобы получить копию всех данных о вас или удалить их, обратитесь к организатору "
            "({organisation})."
        ),
        "public_profile": (
            "Сделать мой профиль открытым: имя, страна, языки, навыки и обмены, в которых я "
            "участвую (адрес почты — никогда)."
        ),
        "public_profile_hint": (
            "Без отметки вас видят только организаторы ваших обменов и администраторы платформы. "
            "Этот выбор заменяет прежний."
        ),
        "consent": (
            "Нажимая «Принимаю», вы соглашаетесь на использование ваших данных так, как описано "
            "выше в разделе «Ваши данные» (версия {version})."
        ),
        "mail": (
            "Чтобы отправить это приглашение, организатор ({organisation}) передал нам ваше имя, "
            "адрес электронной почты, страну и язык. Если вы примете приглашение, их вместе с "
            "вашим ответом увидят организаторы этого обмена и администраторы платформы; "
            "публично они не показываются, если вы сами не выберете открытый профиль."
        ),
        "mail_rights": "Чтобы получить копию данных или удалить их, напишите на {contact}.",
        "mail_rights_no_contact": (
            "Чтобы получить копию данных или удалить их, обратитесь к организатору ({organisation})."
        ),
        "mail_more": "Подробнее о ваших данных",
    },
    "en": {
        "heading": "Your data",
        "stored_title": "What is stored",
        "stored": (
            "To send this invitation, the organiser ({organisation}) gave the platform your "
            "name, email address, country and language. If you accept, your answer and your "
            "participation (attendance, hours) are kept too, and your skills if the organisers "
            "note them."
        ),
        "seen_title": "Who sees it",
        "seen": (
            "The host organisation ({organisation}), the partner organisations of this exchange "
            "and the platform's administrators. Anyone else sees you only if you choose a public "
            "profile below; a speaker's name is shown with the public session. Your email "
            "address is never made public."
        ),
        "kept_title": "How long",
        "kept": (
            "Until you ask for it to be deleted. Deleting replaces your name and email address "
            "everywhere; only numbers stay (how many people took part, how many hours)."
        ),
        "rights_title": "A copy or deletion",
        "rights": "To get a copy of everything stored about you, or to have it deleted, write to {contact}.",
        "rights_no_contact": (
            "To get a copy of everything stored about you, or to have it deleted, ask the "
            "organiser ({organisation})."
        ),
        "public_profile": (
            "Make my profile public: name, country, languages, skills and the exchanges I take "
            "part in (never my email address)."
        ),
        "public_profile_hint": (
            "Left unticked, only the organisers of your exchanges and the platform's "
            "administrators see you. This choice replaces any earlier one."
        ),
        "consent": (
            "By pressing “Accept” you agree that your data is used as described under “Your "
            "data” above (version {version})."
        ),
        "mail": (
            "To send you this invitation, the organiser ({organisation}) gave us your name, email "
            "address, country and language. If you accept, the organisers of this exchange and "
            "the platform's administrators will see them with your answer; the public will not, "
            "unless you choose a public profile."
        ),
        "mail_rights": "To get a copy or have it deleted, write to {contact}.",
        "mail_rights_no_contact": "To get a copy or have it deleted, ask the organiser ({organisation}).",
        "mail_more": "More about your data",
    },
}


def contact_for(privacy_contact: str | None, organisation_contact: str | None) -> str | None:
    """Where a copy or deletion is asked for: the platform operator's privacy address (it is
    the platform's admins who export and erase), else the inviting organisation's contact."""
    return privacy_contact or organisation_contact or None


def rights_text(locale: str, contact: str | None, organisation: str, *, short: bool = False) -> str:
    words = NOTICE[locale]
    prefix = "mail_" if short else ""
    if contact:
        return words[f"{prefix}rights"].format(contact=contact)
    return words[f"{prefix}rights_no_contact"].format(organisation=organisation)


def rights_html(
    locale: str, contact: str | None, organisation: str, *, short: bool = False, link_style: str = ""
) -> Markup:
    """The same sentence with the address as a mailto link; every value escaped. Mail
    clients drop style sheets, so the mail passes the link's colour inline."""
    words = NOTICE[locale]
    prefix = "mail_" if short else ""
    if contact:
        style = Markup(' style="{0}"').format(link_style) if link_style else Markup("")
        link = Markup('<a href="mailto:{0}"{1}>{0}</a>').format(contact, style)
        return escape(words[f"{prefix}rights"]).format(contact=link)
    return escape(words[f"{prefix}rights_no_contact"]).format(organisation=organisation)


def mail_text(locale: str, organisation: str, contact: str | None) -> str:
    """The mail's short paragraph, plain text."""
    summary = NOTICE[locale]["mail"].format(organisation=organisation)
    return f"{summary} {rights_text(locale, contact, organisation, short=True)}"


def mail_html(locale: str, organisation: str, contact: str | None, *, link_style: str = "") -> Markup:
    """The mail's short paragraph, HTML."""
    summary = escape(NOTICE[locale]["mail"]).format(organisation=organisation)
    rights = rights_html(locale, contact, organisation, short=True, link_style=link_style)
    return summary + Markup(" ") + rights
