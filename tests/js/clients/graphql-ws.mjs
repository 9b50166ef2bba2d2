// graphql-ws (the client Apollo Client, urql and Relay use for subscriptions) in Node, with
// the `ws` package: one client per entry, the key in connectionParams.
// Scenario: {"subscriptions": [{"name", "http", "key", "variables", "expect"}]}.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

import { INVITATION_UPDATES, deadline, finish, gather, scenario } from "./lib.mjs";

deadline(40);
const { subscriptions } = scenario();
const clients = {};
const closes = {};

const outcome = await gather(subscriptions, (entry, sink) => {
  const client = createClient({
    url: entry.http.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${entry.key}` },
    // One socket per client for the whole run, so the server's release of a completed
    // subscription is seen while the connection is still open.
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => {}, // the subscription's sink gets the same close event
    on: { closed: (event) => (closes[entry.name] = { code: event.code, reason: event.reason }) },
  });
  clients[entry.name] = client;
  return client.subscribe({ query: INVITATION_UPDATES, variables: entry.variables ?? {} }, sink);
});

// Which sockets had closed before the script let go of them (a 4403 refusal does; a
// subscription the client completed must not take its socket down).
const closedBeforeDispose = { ...closes };
await Promise.all(Object.values(clients).map((client) => client.dispose()));
finish({ ...outcome, closedBeforeDispose });
