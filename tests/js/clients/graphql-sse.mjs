// graphql-sse in "distinct connections" mode (one streamed POST per subscription, the key in
// the Authorization header). Scenario: as graphql-ws.mjs.
import { createClient } from "graphql-sse";

import { INVITATION_UPDATES, deadline, finish, gather, scenario } from "./lib.mjs";

deadline(40);
const { subscriptions } = scenario();
const clients = [];

const outcome = await gather(subscriptions, (entry, sink) => {
  const client = createClient({
    url: entry.http + "/graphql",
    singleConnection: false,
    headers: { Authorization: `Bearer ${entry.key}` },
    retryAttempts: 0,
  });
  clients.push(client);
  return client.subscribe({ query: INVITATION_UPDATES, variables: entry.variables ?? {} }, sink);
});

for (const client of clients) client.dispose();
finish(outcome);
