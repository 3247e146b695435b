// Runs an APPSYNC_JS resolver module under Node, as AppSync would run it, for tests/infra/test_resolver_code.py.
//
// Usage: node appsync_js_harness.mjs <resolver module>, with a JSON list of cases on stdin, each
// {"handler": "request" | "response", "ctx": {...}}. Prints a JSON list with one outcome per case:
// {"returned": value} or {"error": {"message", "type", "data", "info"}} when the handler called util.error, plus
// "extensions": [[method, argument], ...] when it called the `extensions` methods.
// The module's `@aws-appsync/utils` import must resolve to a stub whose util.error throws an error carrying
// `appsyncError`, and whose extensions methods push [method, argument] to globalThis.appsyncExtensions (the test
// writes one next to the module).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const resolver = await import(pathToFileURL(process.argv[2]).href);
const cases = JSON.parse(readFileSync(0, 'utf8'));
function run(handler, ctx) {
  try {
    return { returned: resolver[handler](ctx) ?? null };
  } catch (error) {
    if (error.appsyncError) return { error: error.appsyncError };
    throw error;
  }
}

const outcomes = cases.map(({ handler, ctx }) => {
  globalThis.appsyncExtensions = [];
  const outcome = run(handler, ctx);
  return globalThis.appsyncExtensions.length ? { ...outcome, extensions: globalThis.appsyncExtensions } : outcome;
});
process.stdout.write(JSON.stringify(outcomes));
