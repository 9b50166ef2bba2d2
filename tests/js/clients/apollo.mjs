// @apollo/client core over HTTP (no React), as a partner frontend sets it up.
// Scenarios (argv[2] JSON, "mode" picks one):
//   queries:   {"http", "key"?, "operations": [{"query", "variables", "headers"}]}
//   apq:       {"http", "query", "variables"}: PersistedQueryLink, the hash computed here
//   subscribe: {"subscriptions": [...]}: HttpLink's multipart subscriptions, as graphql-ws.mjs
import { createHash } from "node:crypto";

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

import { INVITATION_UPDATES, deadline, describe, finish, gather, scenario } from "./lib.mjs";

deadline(40);
const config = scenario();

function client(http, { key, link } = {}) {
  const httpLink = new HttpLink({
    uri: `${http}/graphql`,
    headers: key ? { Authorization: `Bearer ${key}` } : {},
    fetch: config.mode === "apq" ? recordingFetch : undefined,
  });
  return new ApolloClient({ link: link ? ApolloLink.from([link, httpLink]) : httpLink, cache: new InMemoryCache() });
}

// What went over the wire, so the test sees that the client (not the server) chose the hash.
const requests = [];
async function recordingFetch(url, options) {
  const body = options.method === "GET" ? null : JSON.parse(options.body);
  const response = await fetch(url, options);
  const answer = await response.clone().json();
  requests.push({
    method: options.method,
    query: body?.query ?? null,
    sha256Hash: body?.extensions?.persistedQuery?.sha256Hash ?? null,
    status: response.status,
    codes: (answer.errors ?? []).map((e) => e.extensions?.code),
  });
  return response;
}

async function run(apollo, { query, variables, headers }) {
  try {
    const { data } = await apollo.query({
      query: gql(query),
      variables,
      context: { headers: headers ?? {} },
      fetchPolicy: "no-cache",
    });
    return { data };
  } catch (error) {
    return { error: describe(error) };
  }
}

if (config.mode === "queries") {
  const apollo = client(config.http, { key: config.key });
  const results = [];
  for (const operation of config.operations) results.push(await run(apollo, operation));
  finish(results);
} else if (config.mode === "apq") {
  const sha256 = (text) => createHash("sha256").update(text).digest("hex");
  // Two clients: the first registers the document, the second (a fresh page) finds it by hash.
  const answers = [];
  for (let page = 0; page < 2; page++) {
    const apollo = client(config.http, { link: new PersistedQueryLink({ sha256 }) });
    answers.push(await run(apollo, config));
  }
  finish({ answers, requests });
} else if (config.mode === "subscribe") {
  const clients = [];
  const outcome = await gather(config.subscriptions, (entry, sink) => {
    const apollo = client(entry.http, { key: entry.key });
    clients.push(apollo);
    const subscription = apollo
      .subscribe({ query: gql(INVITATION_UPDATES), variables: entry.variables ?? {} })
      .subscribe({
        next: ({ data, error }) => sink.next(error ? { data, error: describe(error) } : { data }),
        error: sink.error,
        complete: sink.complete,
      });
    return () => subscription.unsubscribe();
  });
  for (const apollo of clients) apollo.stop();
  finish(outcome);
} else {
  throw new Error(`unknown mode ${config.mode}`);
}
