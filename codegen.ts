// TypeScript types for the API and for every operation in examples/ (`make codegen`; @graphql-codegen/cli).
// appsync.graphql declares the AppSync scalars and directives that schema.graphql uses.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: ["appsync.graphql", "schema.graphql"],
  documents: ["examples/*.graphql"],
  generates: {
    // CODEGEN_OUTPUT lets the test write elsewhere; generated/ is ignored by git.
    [process.env.CODEGEN_OUTPUT ?? "generated/graphql.ts"]: {
      plugins: ["typescript", "typescript-operations"],
      config: {
        // Every AppSync scalar as its JSON value; strictScalars fails generation on a scalar missing here.
        strictScalars: true,
        scalars: {
          AWSDate: "string",
          AWSTime: "string",
          AWSDateTime: "string",
          AWSTimestamp: "number",
          AWSEmail: "string",
          AWSJSON: "string",
          AWSURL: "string",
          AWSPhone: "string",
          AWSIPAddress: "string",
        },
        // Enums as unions of string literals (what the JSON holds); no __typename unless an operation asks for it;
        // a nullable field of a response is present and null rather than missing.
        enumsAsTypes: true,
        skipTypename: true,
        avoidOptionals: { field: true },
      },
    },
  },
};

export default config;
