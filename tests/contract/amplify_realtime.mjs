// AWS Amplify's GraphQL client (aws-amplify, pinned in package.json), configured as a frontend configures it for
// the local server's TLS endpoint, subscribes to onStockMovement(itemId) over AppSync's real-time protocol. Nothing
// under Amplify is changed: it opens wss:// itself, trusting the server's local CA through NODE_EXTRA_CA_CERTS.
// Usage: NODE_EXTRA_CA_CERTS=CA_PEM node --experimental-websocket amplify_realtime.mjs GRAPHQL_URL API_KEY ITEM_ID
// (Node 20's WebSocket is behind --experimental-websocket; Node 22 has it by default.)
// Prints one JSON line per step on stdout: {"step": "acknowledged"} once the server's start_ack came,
// {"step": "data", "data"} for the first event (then exits 0), {"step": "error", "error"} (exit 1).
import { Amplify } from 'aws-amplify';
import { generateClient, CONNECTION_STATE_CHANGE, ConnectionState } from 'aws-amplify/api';
import { Hub } from 'aws-amplify/utils';

const [endpoint, apiKey, itemId] = process.argv.slice(2);
const report = (step) => process.stdout.write(`${JSON.stringify(step)}\n`);

Amplify.configure({
  API: { GraphQL: { endpoint, region: 'us-east-1', defaultAuthMode: 'apiKey', apiKey } },
});

const fail = (error) => {
  report({ step: 'error', error: JSON.parse(JSON.stringify(error, Object.getOwnPropertyNames(error ?? {}))) });
  process.exit(1);
};

Hub.listen('api', ({ payload }) => {
  if (payload.event === CONNECTION_STATE_CHANGE && payload.data.connectionState === ConnectionState.Connected) {
    report({ step: 'acknowledged' }); // Amplify is Connected once the server acknowledged the subscription
  }
});

const subscription = generateClient()
  .graphql({
    query: `subscription OnStockMovement($itemId: ID) {
      onStockMovement(itemId: $itemId) { id itemId locationId delta quantityAfter reason reference createdAt }
    }`,
    variables: { itemId },
  })
  .subscribe({
    next: ({ data }) => {
      report({ step: 'data', data });
      subscription.unsubscribe();
      process.exit(0);
    },
    error: fail,
  });
