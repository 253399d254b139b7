/**
 * Dependency rules (npm run lint). The direction the code follows: domain/ is pure (domain/ and pure libraries);
 * the store does item I/O and commits, and never drives workflows; API modules do not import each other.
 * Violations that predate a rule are listed in .dependency-cruiser-known-violations.json (npm run
 * lint:deps:baseline regenerates it) and tolerated until the code moves (issue 13, the application layer);
 * any NEW violation fails lint.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment:
        'domain/ holds business rules only: it imports domain/ and pure libraries (zod, mrz, csv-parse), never the store, adapters, functions, local or infra.',
      severity: 'error',
      from: { path: '^domain/' },
      to: {
        pathNot: '^domain/',
        dependencyTypesNot: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
      },
    },
    {
      name: 'domain-no-platform-packages',
      comment: 'No AWS SDK, CDK, middleware or Powertools in domain/: those are adapters and edges.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: 'node_modules/(@aws-sdk|@smithy|aws-cdk-lib|constructs|@middy|@aws-lambda-powertools)/' },
    },
    {
      name: 'domain-no-io-builtins',
      comment: 'Of the Node built-ins, domain/ may use node:crypto (hashing) only: no fs, net, http, child_process.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { dependencyTypes: ['core'], pathNot: '^(node:)?crypto$' },
    },
    {
      name: 'store-no-workflows',
      comment: 'The store does item I/O and commits; starting or answering a workflow is a use case, through a port.',
      severity: 'error',
      from: { path: '^functions/store/' },
      to: { path: '@aws-sdk/client-sfn' },
    },
    {
      name: 'no-api-to-api',
      comment:
        'An API module parses, authorises and calls a use case; it never imports another API module (shared code goes below it). One exception: functions/api/health.ts serves GET /openapi.json, and that document IS every route, so it alone imports the other API modules (for their routes).',
      severity: 'error',
      from: { path: '^functions/api/[^/]+\\.ts$', pathNot: '^functions/api/health\\.ts$' },
      to: { path: '^functions/api/[^/]+\\.ts$' },
    },
    {
      name: 'edges-through-use-cases',
      comment:
        'API handlers, workflow steps, jobs and workers parse their event, authorise and call a use case (functions/app/); they never reach the store or an adapter themselves.',
      severity: 'error',
      from: { path: '^functions/(api|steps|jobs|workers|payments)/' },
      to: { path: '^functions/(store|adapters)/' },
    },
    {
      name: 'use-cases-below-edges',
      comment: 'A use case knows nothing of HTTP, Step Functions events or queues: it never imports an edge or the middleware.',
      severity: 'error',
      from: { path: '^functions/app/' },
      to: { path: '^functions/(api|steps|jobs|workers|middleware)/' },
    },
    {
      name: 'store-below-use-cases',
      comment: 'The store does item I/O and commits; it never imports a use case, an edge or an adapter.',
      severity: 'error',
      from: { path: '^functions/store/' },
      to: { path: '^functions/(app|api|steps|jobs|workers|payments|middleware|adapters)/' },
    },
    {
      name: 'adapters-below-use-cases',
      comment: 'Adapters implement ports for outside systems; they never import a use case or an edge.',
      severity: 'error',
      from: { path: '^functions/adapters/' },
      to: { path: '^functions/(app|api|steps|jobs|workers|payments|middleware)/' },
    },
    {
      name: 'no-sfn-outside-workflow-port',
      comment: 'Step Functions is driven through the WorkflowPort adapter only (start, answer, describe).',
      severity: 'error',
      from: { pathNot: '^functions/adapters/workflow/|^functions/shared/clients\\.ts$|^local/|^infra/|^scripts/' },
      to: { path: '@aws-sdk/client-sfn' },
    },
    {
      name: 'no-circular',
      severity: 'warn',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(cdk\\.out|\\.local)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
