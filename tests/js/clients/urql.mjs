// @urql/core over HTTP with its defaults (fetchExchange, urql's own Accept header, GET for
// queries that fit in a URL), as a partner frontend sets it up.
// Scenario: {"http", "key"?, "operations": [{"query", "variables", "headers"}]}.
import { Client, fetchExchange } from "@urql/core";

import { deadline, describe, finish, scenario } from "./lib.mjs";

deadline(40);
const { http, key, operations } = scenario();
const client = new Client({
  url: `${http}/graphql`,
  exchanges: [fetchExchange],
  fetchOptions: { headers: key ? { Authorization: `Bearer ${key}` } : {} },
});

const results = [];
for (const { query, variables, headers } of operations) {
  const result = await client
    .query(query, variables, { fetchOptions: { headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...headers } } })
    .toPromise();
  results.push(result.error ? { data: result.data ?? null, error: describe(result.error) } : { data: result.data });
}
finish(results);
