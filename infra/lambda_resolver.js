// APPSYNC_JS code of every Lambda-backed resolver of the inventory API (infra/api.py attaches it to each field).
//
// Request: hands the Lambda function the AppSync context its Powertools AppSyncResolver expects. The fields named in
// the API's BATCHED_FIELDS environment variable ("Type.field,...") are batch-invoked: AppSync sends the entries of up
// to the resolver's maxBatchSize parents in one invocation and hands each entry's result to this response handler.
//
// Response: the functions never raise; a refused or failed request comes back as the error envelope of
// inventory/errors.py, {"error": {"type", "message", "info"}}, which becomes a GraphQL error with that errorType and
// errorInfo. A failed invocation (timeout, throttling) says nothing about its cause to the client.
import { util } from '@aws-appsync/utils';

const INTERNAL_ERROR_TYPE = 'InternalError';
const INTERNAL_ERROR_MESSAGE =
  'An internal error occurred. Try again later; if it persists, contact support.';

export function request(ctx) {
  const field = `${ctx.info.parentTypeName}.${ctx.info.fieldName}`;
  const batched = (ctx.env.BATCHED_FIELDS || '').split(',').includes(field);
  return {
    operation: batched ? 'BatchInvoke' : 'Invoke',
    payload: {
      arguments: ctx.arguments,
      identity: ctx.identity,
      source: ctx.source,
      request: ctx.request,
      info: ctx.info,
      prev: ctx.prev,
      stash: ctx.stash,
    },
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(INTERNAL_ERROR_MESSAGE, INTERNAL_ERROR_TYPE);
  }
  const result = ctx.result;
  if (result && result.error) {
    util.error(result.error.message, result.error.type, null, result.error.info);
  }
  return result;
}
