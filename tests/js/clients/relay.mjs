// Runs the operations relay-compiler generated from relay/src (compiled by the test into a
// temporary directory) through relay-runtime, whose network layer posts each artifact's
// `params.text` as a partner's Relay app does.
// Scenario: {"http", "key", "artifacts": "<dir of *.graphql.js>", "organisation": "<slug>", "search"}.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import relay from "relay-runtime";

import { deadline, finish, scenario } from "./lib.mjs";

const { Environment, Network, RecordSource, Store, fetchQuery } = relay;

deadline(40);
const { http, key, artifacts, organisation, search } = scenario();

// Operations only: fragments' artifacts import their refetch queries by extensionless
// paths, which a bundler resolves and plain Node does not; nothing here needs them.
const operations = {};
for (const file of (await readdir(artifacts)).filter((name) => name.endsWith(".graphql.js"))) {
  const path = join(artifacts, file);
  if ((await readFile(path, "utf8")).includes('"kind": "Request"')) {
    const artifact = (await import(pathToFileURL(path))).default;
    operations[artifact.params.name] = artifact;
  }
}

const responses = [];
const environment = new Environment({
  network: Network.create(async (params, variables) => {
    const response = await fetch(`${http}/graphql`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json",
        Authorization: `Bearer ${key}`,
      },
      body: JSON.stringify({ query: params.text, variables }),
    });
    const json = await response.json();
    responses.push({ name: params.name, text: params.text, variables, status: response.status, ...json });
    return json;
  }),
  store: new Store(new RecordSource()),
});

const run = (name, variables) => fetchQuery(environment, operations[name], variables).toPromise();
const last = () => responses[responses.length - 1];

// The list's first page, its next page (the generated pagination query), one card refetched
// through node(id:), an organisation's page and its refetch query.
await run("ExchangeListQuery", { count: 1, search });
const firstPage = last().data.exchanges;
await run("ExchangeListPaginationQuery", { count: 1, cursor: firstPage.pageInfo.endCursor, search });
await run("ExchangeCardRefetchQuery", { id: firstPage.edges[0].node.id });
await run("OrganisationPageQuery", { slug: organisation });
await run("OrganisationPageRefetchQuery", { id: last().data.organisation.id, count: 2 });

finish({ operations: Object.keys(operations).sort(), responses });
