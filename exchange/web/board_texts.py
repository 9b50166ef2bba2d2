"""The live board's words in the platform's three languages (kk, ru, en).

The server renders the static ones into the page; the script receives the whole table (as a
JSON data block) for what it writes itself: statuses, connection states, errors and the
announcements read out by screen readers.
"""

from __future__ import annotations

BOARD_TEXTS: dict[str, dict[str, str]] = {
    "kk": {
        "bad_address_title": "Алмасу табылмады",
        "bad_address": "Бұл мекенжай алмасуды көрсетпейді. Сілтемені тексеріңіз.",
        "page_title": "Шақырулар тақтасы",
        "intro": (
            "Осы алмасуды өткізетін немесе бірлесіп ұйымдастыратын ұйымның API кілтін енгізіңіз: "
            "жаңа шақырулар мен жауаптар осында бірден пайда болады."
        ),
        "key_label": "API кілті",
        "key_hint": (
            "Кілт тек осы бетте сақталады: ол ешқайда жазылмайды және бетті жапқанда, жаңартқанда "
            "немесе тілді ауыстырғанда ұмытылады."
        ),
        "connect": "Қосылу",
        "disconnect": "Ажырату",
        "noscript": "Бұл бет JavaScript-сіз жұмыс істемейді.",
        "list": "Шақырулар",
        "count": "Барлығы: {count}",
        "count_shown": "Барлығы: {count}, соңғы {shown} көрсетілген",
        "empty": "Әзірге шақырулар жоқ.",
        "waiting": "Кілтті енгізіп, «Қосылу» батырмасын басыңыз.",
        "connecting": "Қосылуда…",
        "live": "Байланыс бар: өзгерістер бірден көрсетіледі.",
        "reconnecting": "Байланыс үзілді. {seconds} секундтан кейін қайта қосыламыз…",
        "disconnected": "Ажыратылды.",
        "bad_key": "Кілт қабылданбады: ол белгісіз немесе кері қайтарылған. Тексеріп, қайталап көріңіз.",
        "forbidden": (
            "Бұл кілтпен осы алмасудың шақыруларын бақылауға болмайды: оны өткізетін немесе бірлесіп "
            "ұйымдастыратын ұйымның кілті қажет."
        ),
        "not_found": "Бұл мекенжаймен алмасу табылмады немесе бұл кілтке қолжетімсіз.",
        "socket_refused": (
            "Тікелей байланыс ашылмады. Сервер қолжетімсіз болуы мүмкін немесе бұл беттің мекенжайы "
            "WebSocket үшін рұқсат етілген шығу көздерінің тізімінде жоқ."
        ),
        "unavailable": "Тікелей жаңартулар уақытша қолжетімсіз. Қайта қосыламыз…",
        "rate_limited": "Сұраныстар тым көп. Біраздан кейін қайталаймыз…",
        "failed": "Қате: {message}",
        "new_invitation": "Жаңа шақыру: {name}, {status}.",
        "status_change": "{name}: {status}.",
        "status_QUEUED": "Кезекте",
        "status_SENT": "Жіберілді",
        "status_ACCEPTED": "Қабылданды",
        "status_DECLINED": "Бас тартылды",
        "status_EXPIRED": "Мерзімі өтті",
        "status_REVOKED": "Кері қайтарылды",
        "status_FAILED": "Жеткізілмеді",
        "status_WAITLISTED": "Күту тізімінде",
        "status_OFFERED": "Орын ұсынылды",
        "status_WITHDRAWN": "Қатысудан бас тартты",
        "changed": "Өзгертілді",
    },
    "ru": {
        "bad_address_title": "Обмен не найден",
        "bad_address": "Этот адрес не указывает на обмен. Проверьте ссылку.",
        "page_title": "Табло приглашений",
        "intro": (
            "Введите API-ключ организации, которая проводит или соорганизует этот обмен: новые "
            "приглашения и ответы будут появляться здесь сразу."
        ),
        "key_label": "API-ключ",
        "key_hint": (
            "Ключ хранится только на этой странице: он нигде не сохраняется и забывается, когда вы "
            "закрываете или обновляете страницу либо меняете язык."
        ),
        "connect": "Подключиться",
        "disconnect": "Отключиться",
        "noscript": "Эта страница не работает без JavaScript.",
        "list": "Приглашения",
        "count": "Всего: {count}",
        "count_shown": "Всего: {count}, показаны последние {shown}",
        "empty": "Приглашений пока нет.",
        "waiting": "Введите ключ и нажмите «Подключиться».",
        "connecting": "Подключение…",
        "live": "На связи: изменения появляются сразу.",
        "reconnecting": "Связь потеряна. Переподключение через {seconds} с…",
        "disconnected": "Отключено.",
        "bad_key": "Ключ отклонён: он неизвестен или отозван. Проверьте его и попробуйте снова.",
        "forbidden": (
            "С этим ключом нельзя следить за приглашениями этого обмена: нужен ключ организации, "
            "которая его проводит или соорганизует."
        ),
        "not_found": "Обмен с таким адресом не найден или недоступен с этим ключом.",
        "socket_refused": (
            "Не удалось открыть соединение для обновлений. Возможно, сервер недоступен или адрес этой "
            "страницы не входит в разрешённые источники WebSocket."
        ),
        "unavailable": "Обновления временно недоступны. Переподключаемся…",
        "rate_limited": "Слишком много запросов. Повторим чуть позже…",
        "failed": "Ошибка: {message}",
        "new_invitation": "Новое приглашение: {name}, {status}.",
        "status_change": "{name}: {status}.",
        "status_QUEUED": "В очереди",
        "status_SENT": "Отправлено",
        "status_ACCEPTED": "Принято",
        "status_DECLINED": "Отклонено",
        "status_EXPIRED": "Срок истёк",
        "status_REVOKED": "Отозвано",
        "status_FAILED": "Не доставлено",
        "status_WAITLISTED": "В листе ожидания",
        "status_OFFERED": "Предложено место",
        "status_WITHDRAWN": "Отказ от участия",
        "changed": "Изменено",
    },
    "en": {
        "bad_address_title": "Exchange not found",
        "bad_address": "This address does not name an exchange. Check the link.",
        "page_title": "Invitation board",
        "intro": (
            "Enter an API key of an organisation that hosts or co-organises this exchange: new "
            "invitations and answers appear here as they happen."
        ),
        "key_label": "API key",
        "key_hint": (
            "The key stays in this page only: it is not saved anywhere and is forgotten when you "
            "close or reload the page or change the language."
        ),
        "connect": "Connect",
        "disconnect": "Disconnect",
        "noscript": "This page does not work without JavaScript.",
        "list": "Invitations",
        "count": "Total: {count}",
        "count_shown": "Total: {count}, the latest {shown} shown",
        "empty": "No invitations yet.",
        "waiting": "Enter the key and press “Connect”.",
        "connecting": "Connecting…",
        "live": "Live: changes appear at once.",
        "reconnecting": "Connection lost. Reconnecting in {seconds} s…",
        "disconnected": "Disconnected.",
        "bad_key": "The key was refused: it is unknown or revoked. Check it and try again.",
        "forbidden": (
            "This key may not watch this exchange's invitations: use a key of an organisation that "
            "hosts or co-organises it."
        ),
        "not_found": "No exchange at this address is visible with this key.",
        "socket_refused": (
            "The live connection could not be opened. The server may be unreachable, or this page's "
            "address is not among the server's allowed WebSocket origins."
        ),
        "unavailable": "Live updates are unavailable for a moment. Reconnecting…",
        "rate_limited": "Too many requests. Trying again shortly…",
        "failed": "Error: {message}",
        "new_invitation": "New invitation: {name}, {status}.",
        "status_change": "{name}: {status}.",
        "status_QUEUED": "Queued",
        "status_SENT": "Sent",
        "status_ACCEPTED": "Accepted",
        "status_DECLINED": "Declined",
        "status_EXPIRED": "Expired",
        "status_REVOKED": "Revoked",
        "status_FAILED": "Not delivered",
        "status_WAITLISTED": "Waitlisted",
        "status_OFFERED": "Place offered",
        "status_WITHDRAWN": "Withdrew",
        "changed": "Changed",
    },
}
