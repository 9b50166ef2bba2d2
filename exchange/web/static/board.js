// The live board (exchange/web/board_page.py): the current invitations of one exchange, read
// with a GraphQL query over fetch, then every new invitation and change of status, followed
// over a WebSocket speaking graphql-transport-ws
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md).
//
// The API key lives in one variable of this script and nowhere else: not in the URL, not in
// localStorage, sessionStorage or a cookie. It travels as `Authorization: Bearer` on fetch and
// in connection_init's payload on the socket (README, "Live updates").
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("board-config").textContent);
  const texts = config.texts;
  const $ = (id) => document.getElementById(id);
  const form = $("board-connect");
  const keyInput = $("board-key");
  const keyField = $("board-key-field");
  const connectButton = $("board-connect-button");
  const disconnectButton = $("board-disconnect");
  const stateLine = $("board-state");
  const errorLine = $("board-error");
  const list = $("board-list");
  const countLine = $("board-count");
  const emptyLine = $("board-empty");
  const announcer = $("board-announcer");
  const title = $("board-title");

  const PAGE = 100;
  const FIELDS = "id fullName email country status createdAt sentAt respondedAt";
  const EXCHANGE_QUERY =
    "query BoardExchange($slug: String!, $locale: LanguageCode) {" +
    " exchange(slug: $slug) { id title(locale: $locale) } }";
  const LIST_QUERY =
    "query BoardInvitations($slug: String!) { exchange(slug: $slug) {" +
    ` invitations(last: ${PAGE}) { totalCount edges { node { ${FIELDS} } } } } }`;
  const SUBSCRIPTION =
    "subscription BoardUpdates($exchangeId: ID) { invitationUpdates(exchangeId: $exchangeId) {" +
    ` previousStatus status at invitation { ${FIELDS} } } }`;
  // Close codes of graphql-transport-ws that retrying cannot mend (README's table).
  const FINAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4409, 4429]);
  const PING_SECONDS = 20;
  const RETRY_MAX_SECONDS = 30;

  let key = null; // the API key, only here
  let exchangeId = null;
  let socket = null;
  let generation = 0; // bumps on every (re)connect and stop: late callbacks of old sockets are ignored
  let retryTimer = null;
  let pingTimer = null;
  let attempts = 0;
  let total = 0;
  const invitations = new Map(); // id -> invitation
  const rows = new Map(); // id -> <li>

  const dateFormat = new Intl.DateTimeFormat(config.lang, { dateStyle: "medium", timeStyle: "short" });
  // Chromium's ICU data has no Kazakh month names ("2026 M12 6"): where the language's month
  // names are missing, the numeric form (06.12.2026, 18:06) used in Kazakhstan instead.
  const monthNames = !/^M?\d+$/.test(new Intl.DateTimeFormat(config.lang, { month: "long" }).format(new Date()));

  function formatDate(value) {
    const date = new Date(value);
    if (monthNames) return dateFormat.format(date);
    const two = (n) => String(n).padStart(2, "0");
    return (
      `${two(date.getDate())}.${two(date.getMonth() + 1)}.${date.getFullYear()}, ` +
      `${two(date.getHours())}:${two(date.getMinutes())}`
    );
  }

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
  }

  function statusLabel(status) {
    return texts["status_" + status] || status;
  }

  function setState(name, text) {
    stateLine.dataset.state = name;
    stateLine.textContent = text;
  }

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  function announce(text) {
    const line = document.createElement("p");
    line.textContent = text;
    announcer.appendChild(line);
    while (announcer.childNodes.length > 5) announcer.removeChild(announcer.firstChild);
  }

  // ------------------------------------------------------------ the list

  function changedAt(invitation) {
    return invitation.changedAt || invitation.respondedAt || invitation.sentAt || invitation.createdAt;
  }

  function fillRow(row, invitation) {
    row.replaceChildren();
    const head = document.createElement("div");
    head.className = "board-row-head";
    const name = document.createElement("span");
    name.className = "board-name";
    name.textContent = invitation.fullName;
    const badge = document.createElement("span");
    badge.className = "board-status status-" + invitation.status;
    badge.textContent = statusLabel(invitation.status);
    head.append(name, badge);
    const email = document.createElement("span");
    email.className = "board-email";
    email.textContent = invitation.email;
    const meta = document.createElement("span");
    meta.className = "board-meta";
    const country = config.countries[invitation.country] || invitation.country;
    const when = changedAt(invitation);
    meta.textContent = when ? `${country} · ${texts.changed}: ${formatDate(when)}` : country;
    row.append(head, email, meta);
    row.dataset.status = invitation.status;
  }

  function renderCount() {
    const shown = invitations.size;
    countLine.textContent =
      total > shown ? say(texts.count_shown, { count: total, shown }) : say(texts.count, { count: total });
    emptyLine.hidden = shown > 0;
  }

  function renderAll() {
    list.replaceChildren();
    rows.clear();
    const ordered = [...invitations.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
    for (const invitation of ordered) {
      const row = document.createElement("li");
      row.className = "board-row";
      row.dataset.id = invitation.id;
      fillRow(row, invitation);
      rows.set(invitation.id, row);
      list.appendChild(row);
    }
    renderCount();
  }

  function flash(row) {
    row.classList.remove("fresh");
    void row.offsetWidth; // restart the highlight
    row.classList.add("fresh");
  }

  function applyEvent(event) {
    const incoming = event.invitation;
    const known = invitations.get(incoming.id);
    const invitation = Object.assign({}, known, incoming, { changedAt: event.at });
    invitations.set(invitation.id, invitation);
    let row = rows.get(invitation.id);
    if (!row) {
      total += 1;
      row = document.createElement("li");
      row.className = "board-row";
      row.dataset.id = invitation.id;
      rows.set(invitation.id, row);
      list.prepend(row);
    }
    fillRow(row, invitation);
    flash(row);
    renderCount();
    const values = { name: invitation.fullName, status: statusLabel(event.status) };
    announce(say(known || event.previousStatus ? texts.status_change : texts.new_invitation, values));
  }

  // ------------------------------------------------------------ HTTP

  class BoardError extends Error {
    constructor(code, message) {
      super(message);
      this.code = code;
    }
  }

  async function graphql(query, variables) {
    let response;
    try {
      response = await fetch("/graphql", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/graphql-response+json, application/json",
          Authorization: "Bearer " + key,
        },
        body: JSON.stringify({ query, variables }),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch (error) {
      throw new BoardError("NETWORK", String(error && error.message ? error.message : error));
    }
    let body;
    try {
      body = await response.json();
    } catch (_) {
      throw new BoardError("HTTP_" + response.status, response.statusText || String(response.status));
    }
    if (body.errors && body.errors.length) {
      const first = body.errors[0];
      throw new BoardError((first.extensions && first.extensions.code) || "ERROR", first.message);
    }
    return body.data;
  }

  async function loadList(forGeneration) {
    const data = await graphql(LIST_QUERY, { slug: config.slug });
    if (forGeneration !== generation) return;
    if (!data.exchange) throw new BoardError("NOT_FOUND", texts.not_found);
    const connection = data.exchange.invitations;
    // Events that arrived while the query ran are newer than nothing the query says, except
    // when the query read later: keep whichever change is the later one.
    const previous = new Map(invitations);
    invitations.clear();
    for (const edge of connection.edges) {
      const invitation = edge.node;
      const seen = previous.get(invitation.id);
      const keep = seen && seen.changedAt && seen.changedAt > changedAt(invitation);
      invitations.set(invitation.id, keep ? seen : invitation);
    }
    total = connection.totalCount;
    renderAll();
  }

  // ------------------------------------------------------------ WebSocket

  function socketUrl() {
    const url = new URL("/graphql", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.toString();
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function closeSocket() {
    clearInterval(pingTimer);
    pingTimer = null;
    if (socket) {
      const old = socket;
      socket = null;
      try {
        if (old.readyState === WebSocket.OPEN) old.send(JSON.stringify({ id: "board", type: "complete" }));
        old.close(1000, "bye");
      } catch (_) {
        // already closing
      }
    }
  }

  function openSocket() {
    const mine = ++generation;
    let opened = false;
    setState("connecting", texts.connecting);
    const ws = new WebSocket(socketUrl(), "graphql-transport-ws");
    socket = ws;
    ws.onopen = () => {
      if (mine !== generation) return;
      opened = true;
      ws.send(JSON.stringify({ type: "connection_init", payload: { Authorization: "Bearer " + key } }));
    };
    ws.onmessage = (message) => {
      if (mine !== generation) return;
      let data;
      try {
        data = JSON.parse(message.data);
      } catch (_) {
        return;
      }
      switch (data.type) {
        case "connection_ack":
          ws.send(
            JSON.stringify({
              id: "board",
              type: "subscribe",
              payload: { query: SUBSCRIPTION, variables: { exchangeId } },
            }),
          );
          pingTimer = setInterval(() => send({ type: "ping" }), PING_SECONDS * 1000);
          // Subscribed first, then read: a change between the two is in the list, the stream or both.
          loadList(mine).then(
            () => {
              if (mine !== generation) return;
              attempts = 0;
              showError("");
              setState("live", texts.live);
            },
            (error) => failed(error, mine),
          );
          break;
        case "ping":
          send({ type: "pong" });
          break;
        case "next":
          if (data.payload && data.payload.data && data.payload.data.invitationUpdates) {
            applyEvent(data.payload.data.invitationUpdates);
          } else if (data.payload && data.payload.errors) {
            streamError(data.payload.errors, mine);
          }
          break;
        case "error":
          streamError(data.payload, mine);
          break;
        case "complete":
          // The server ended the stream (after an error handled above, or shutting down).
          if (mine === generation && key) retry(texts.unavailable);
          break;
        default:
          break;
      }
    };
    ws.onclose = (event) => {
      if (mine !== generation) return;
      clearInterval(pingTimer);
      socket = null;
      if (event.code === 4403) {
        stop(texts.bad_key);
      } else if (FINAL_CLOSE_CODES.has(event.code)) {
        stop(say(texts.failed, { message: `${event.code} ${event.reason}`.trim() }));
      } else if (!opened) {
        // The handshake itself failed: the server is down, or refused this page's origin (403).
        retry(texts.socket_refused);
      } else {
        retry("");
      }
    };
  }

  function streamError(errors, mine) {
    if (mine !== generation) return;
    const first = (errors && errors[0]) || {};
    const code = first.extensions && first.extensions.code;
    if (code === "UNAUTHENTICATED") stop(texts.bad_key);
    else if (code === "FORBIDDEN") stop(texts.forbidden);
    else if (code === "NOT_FOUND") stop(texts.not_found);
    else if (code === "EVENTS_UNAVAILABLE" || code === "SLOW_CONSUMER") retry(texts.unavailable);
    else stop(say(texts.failed, { message: first.message || code || "?" }));
  }

  function failed(error, mine) {
    if (mine !== generation) return;
    const code = error && error.code;
    if (code === "UNAUTHENTICATED") stop(texts.bad_key);
    else if (code === "FORBIDDEN") stop(texts.forbidden);
    else if (code === "NOT_FOUND") stop(texts.not_found);
    else if (code === "RATE_LIMITED") retry(texts.rate_limited);
    else if (code === "NETWORK" || code === "SERVICE_UNAVAILABLE") retry(texts.unavailable);
    else stop(say(texts.failed, { message: (error && error.message) || code || "?" }));
  }

  function retry(problem) {
    closeSocket();
    generation += 1;
    attempts += 1;
    const seconds = Math.min(RETRY_MAX_SECONDS, 2 ** Math.min(attempts - 1, 5));
    showError(problem);
    setState("reconnecting", say(texts.reconnecting, { seconds }));
    clearTimeout(retryTimer);
    retryTimer = setTimeout(start, seconds * 1000);
  }

  // ------------------------------------------------------------ the form

  function controls(connected) {
    const hadFocus = document.activeElement === keyInput || document.activeElement === connectButton;
    connectButton.hidden = connected;
    keyInput.disabled = connected;
    keyField.hidden = connected; // while connected the list matters, not an empty field
    disconnectButton.hidden = !connected;
    // Focus must not fall to the page's start when the control holding it goes away.
    if (connected && hadFocus) disconnectButton.focus();
  }

  async function start() {
    const mine = ++generation;
    setState("connecting", texts.connecting);
    try {
      if (!exchangeId) {
        const data = await graphql(EXCHANGE_QUERY, { slug: config.slug, locale: config.lang });
        if (mine !== generation) return;
        if (!data.exchange) throw new BoardError("NOT_FOUND", texts.not_found);
        exchangeId = data.exchange.id;
        title.textContent = data.exchange.title;
        document.title = `${texts.page_title}: ${data.exchange.title}`;
      }
    } catch (error) {
      failed(error, mine);
      return;
    }
    openSocket();
  }

  function stop(problem) {
    clearTimeout(retryTimer);
    closeSocket();
    generation += 1;
    key = null;
    exchangeId = null;
    attempts = 0;
    showError(problem);
    setState("disconnected", texts.disconnected);
    controls(false);
    if (problem) keyInput.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = keyInput.value.trim();
    if (!typed) {
      keyInput.reportValidity();
      return;
    }
    key = typed;
    keyInput.value = ""; // nothing of the key stays in the document
    showError("");
    controls(true);
    start();
  });
  disconnectButton.addEventListener("click", () => {
    stop("");
    connectButton.focus();
  });
  window.addEventListener("pagehide", () => stop(""));
  connectButton.disabled = false;
})();
