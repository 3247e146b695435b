// AWS Amplify's GraphQL client (aws-amplify, pinned in package.json), configured as a frontend configures it for
// the local server, subscribes to onStockMovement(itemId) over AppSync's real-time protocol.
// Usage: node --experimental-websocket amplify_realtime.mjs GRAPHQL_URL API_KEY ITEM_ID
// Prints one JSON line per step on stdout: {"step": "opening", "url"}, {"step": "acknowledged"} once the server's
// start_ack came, {"step": "data", "data"} for the first event (then exits 0), {"step": "error", "error"} (exit 1).
import { Amplify } from 'aws-amplify';
import { generateClient, CONNECTION_STATE_CHANGE, ConnectionState } from 'aws-amplify/api';
import { Hub } from 'aws-amplify/utils';

const [endpoint, apiKey, itemId] = process.argv.slice(2);
const report = (step) => process.stdout.write(`${JSON.stringify(step)}\n`);

// Amplify opens wss:// whatever the endpoint's scheme (it rewrites http:// to wss://), and the local server speaks
// plain ws://: the only thing changed under Amplify is the scheme of the socket it opens, nothing of the protocol.
const NativeWebSocket = globalThis.WebSocket;
globalThis.WebSocket = class extends NativeWebSocket {
  constructor(url, protocols) {
    report({ step: 'opening', url: String(url).split('?')[0], protocols: protocols.map((p) => (p.startsWith('header-') ? 'header-...' : p)) });
    super(String(url).replace(/^wss:/, 'ws:'), protocols);
  }
};

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
