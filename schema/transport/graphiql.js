// GraphiQL's page script (schema/transport/graphiql.py puts it inline and allows it by its hash).
//
// Queries and mutations go as POSTs (GraphiQL's own fetcher); subscriptions over a WebSocket
// speaking graphql-transport-ws at the same /graphql, through a graphql-ws client whose
// connection_init payload is the headers editor's JSON: {"Authorization": "Bearer vx_..."}
// authenticates the socket as it does the POSTs (README, "Live updates").
(function () {
  "use strict";
  const GraphQL = GraphiQL.GraphQL;
  const endpoint = window.location.origin + window.location.pathname;
  const socketUrl = endpoint.replace(/^http/, "ws");
  const httpFetcher = GraphiQL.createFetcher({ url: endpoint });
  // What the server's close codes mean (README's table), shown in the result pane.
  const CLOSE_REASONS = {
    4400: "the server could not read a message or the document",
    4401: "an operation was sent before the connection was acknowledged",
    4403: "the Authorization header is missing, or its key is unknown or revoked",
    4408: "no connection_init in time",
    4409: "an operation with this id is already running",
    4429: "connection_init sent twice",
  };

  let socket = null; // {headers, client}: one socket per headers text, replaced when they change

  function clientFor(headers) {
    const text = JSON.stringify(headers || {});
    if (socket && socket.headers === text) return socket.client;
    if (socket) socket.client.dispose();
    const client = graphqlWs.createClient({
      url: socketUrl,
      connectionParams: () => JSON.parse(text),
      lazy: true,
      // A refused key, a closed server: say so at once rather than retry behind the user's back.
      retryAttempts: 0,
    });
    socket = { headers: text, client };
    return client;
  }

  function closed(error) {
    if (error && typeof error.code === "number" && "reason" in error) {
      const why = CLOSE_REASONS[error.code];
      return new Error(`The WebSocket closed with ${error.code} ${error.reason || ""}${why ? ": " + why : ""}.`);
    }
    return error instanceof Error ? error : new Error(String(error));
  }

  function subscription(params, headers) {
    return {
      subscribe(observer) {
        const stop = clientFor(headers).subscribe(params, {
          next: (result) => observer.next(result),
          error: (error) => observer.error(closed(error)),
          complete: () => observer.complete(),
        });
        return { unsubscribe: stop };
      },
    };
  }

  function selectedOperation(params) {
    try {
      return GraphQL.getOperationAST(GraphQL.parse(params.query), params.operationName || undefined);
    } catch (_) {
      return null; // the server says what is wrong with it
    }
  }

  // Decided from the text sent, not from the editor's parsed document that GraphiQL may or
  // may not pass along (without it, Strawberry's page sent subscriptions as POSTs).
  function fetcher(params, options) {
    const operation = selectedOperation(params);
    if (operation && operation.operation === "subscription") {
      return subscription(params, options && options.headers);
    }
    return httpFetcher(params, options);
  }

  const WELCOME = `# Volunteer Exchange GraphQL API
#
# Put your API key in the Headers tab below:
#
#   {"Authorization": "Bearer vx_..."}
#
# Queries and mutations go over HTTP; subscriptions over a WebSocket
# (graphql-transport-ws), the headers as its connection_init payload:
#
#   subscription { invitationUpdates { status previousStatus at invitation { email } } }
#
# Run: Ctrl-Enter or the play button.
{
  exchanges(first: 5) { edges { node { slug title status } } }
}
`;

  const parameters = Object.fromEntries(new URLSearchParams(window.location.search));

  function updateURL(changes) {
    Object.assign(parameters, changes);
    const kept = Object.entries(parameters).filter(([, value]) => Boolean(value));
    history.replaceState(null, "", "?" + new URLSearchParams(kept).toString());
  }

  function App() {
    const [query, setQuery] = React.useState(parameters.q || WELCOME);
    const [variables, setVariables] = React.useState(parameters.variables);
    const explorer = React.useMemo(() => GraphiQLPluginExplorer.explorerPlugin(), []);
    return React.createElement(GraphiQL, {
      fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [explorer],
      query,
      variables,
      onEditQuery: (text) => {
        setQuery(text);
        updateURL({ q: text });
      },
      onEditVariables: (text) => {
        setVariables(text);
        updateURL({ variables: text });
      },
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
})();
