// APPSYNC_JS code of the subscriptions the publish mutations feed (onItemChanged, ...), on a NONE data source
// (infra/api.py).
//
// Each argument the subscriber gives filters on the payload field of the same name (inventory/events.py CHANNELS);
// an argument omitted or null filters nothing. AppSync applies the filter (enhanced subscription filters), so a
// subscriber never receives what it did not ask for.
import { util, extensions } from '@aws-appsync/utils';

export function request(ctx) {
  return { payload: null };
}

export function response(ctx) {
  const filter = {};
  for (const [name, value] of Object.entries(ctx.args ?? {})) {
    if (value !== null && value !== undefined) {
      filter[name] = { eq: value };
    }
  }
  if (Object.keys(filter).length > 0) {
    extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter(filter));
  }
  return null;
}
