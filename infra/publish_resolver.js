// APPSYNC_JS code of the publish mutations (publishItemChanged, ...), on a NONE data source (infra/api.py).
//
// The stream handler calls them with AWS IAM, the event's GraphQL JSON as their one AWSJSON argument; the mutation
// returns it as its result, which AppSync hands to the subscriptions that name the mutation. Nothing is stored.

export function request(ctx) {
  const [payload] = Object.values(ctx.args);
  // AppSync hands an AWSJSON argument to resolvers as its JSON text; an object is passed as it is.
  return { payload: typeof payload === 'string' ? JSON.parse(payload) : payload };
}

export function response(ctx) {
  return ctx.result;
}
