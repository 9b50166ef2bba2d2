// What every client script shares: the scenario comes as JSON in argv[2]; progress and the
// result leave as JSON lines on stdout (the pytest side reads them); any failure exits 1.

export const INVITATION_UPDATES = `
  subscription InvitationUpdates($exchangeId: ID, $organisationId: ID) {
    invitationUpdates(exchangeId: $exchangeId, organisationId: $organisationId) {
      previousStatus
      status
      at
      invitation { id email status exchange { slug } }
    }
  }
`;

export function scenario() {
  if (!process.argv[2]) fail("usage: node <script>.mjs '<scenario as JSON>'");
  return JSON.parse(process.argv[2]);
}

export function emit(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

export function finish(result) {
  emit({ result });
  process.exit(0);
}

export function fail(error) {
  emit({ error: String(error?.stack ?? error) });
  process.exit(1);
}

process.on("unhandledRejection", fail);

// A script that hangs would hang the test: it fails on its own first.
export function deadline(seconds) {
  setTimeout(() => fail(`no result within ${seconds} s`), seconds * 1000).unref();
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The server's own count of live subscriptions (GET /healthz): how a script knows that the
// server let go of a subscription the client completed, while the connection stays open.
export async function liveSubscriptions(http) {
  const response = await fetch(`${http}/healthz`);
  return (await response.json()).live.subscriptions;
}

export async function untilLive(http, count, withinMs = 10000) {
  const end = Date.now() + withinMs;
  for (;;) {
    const now = await liveSubscriptions(http);
    if (now === count) return true;
    if (Date.now() > end) return false;
    await sleep(50);
  }
}

// The error shapes of the clients, reduced to what a partner's code looks at.
export function describe(error) {
  if (Array.isArray(error)) return { codes: error.map((e) => e?.extensions?.code), messages: error.map((e) => e?.message) };
  if (error && typeof error.code === "number" && "reason" in error) return { closeCode: error.code, reason: error.reason };
  const graphQLErrors = error?.errors ?? error?.graphQLErrors;
  if (Array.isArray(graphQLErrors) && graphQLErrors.length) {
    return { name: error.name, codes: graphQLErrors.map((e) => e?.extensions?.code), messages: graphQLErrors.map((e) => e?.message) };
  }
  return { name: error?.name, message: String(error?.message ?? error) };
}

/**
 * Opens every subscription of `entries` ({name, http, key, variables, expect}) with
 * `open(entry, sink)`, which returns the client's unsubscribe. A subscription is done when
 * it has `expect` results (then the client completes it) or when the server ends it.
 * Prints {"subscribed": [...]} once all are requested, so the test can act, and {"next": name}
 * for each result.
 */
export async function gather(entries, open, { releasedWithinMs = 5000 } = {}) {
  const records = {};
  const unsubscribers = {};
  const done = entries.map((entry) => {
    const record = (records[entry.name] = { results: [], error: null, completed: false, endedAt: null });
    return new Promise((resolve) => {
      const end = () => {
        record.endedAt = Date.now();
        resolve();
      };
      unsubscribers[entry.name] = open(entry, {
        next(value) {
          record.results.push(value);
          emit({ next: entry.name });
          if (entry.expect && record.results.length >= entry.expect) resolve();
        },
        error(error) {
          record.error = describe(error);
          end();
        },
        complete() {
          record.completed = true;
          end();
        },
      });
    });
  });
  emit({ subscribed: entries.map((entry) => entry.name) });
  await Promise.all(done);
  // The client's own `complete` for the ones that got what they expected and are still open.
  const completedByClient = entries.filter((e) => e.expect && !records[e.name].endedAt);
  for (const entry of completedByClient) unsubscribers[entry.name]();
  const released = {};
  for (const http of new Set(completedByClient.map((e) => e.http))) {
    released[http] = await untilLive(http, 0, releasedWithinMs);
  }
  return { records, completedByClient: completedByClient.map((e) => e.name), released };
}
