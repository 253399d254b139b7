/**
 * Dependency rules (npm run lint). The direction the code follows: domain/ is pure and imports only domain/;
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
      comment: 'domain/ holds business rules only: no AWS SDK, middleware, store, adapters or I/O; it imports domain/ alone.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { pathNot: '^domain/', dependencyTypesNot: ['core'] },
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
        'An API module parses, authorises and calls a use case; it never imports another API module (shared code goes below it).',
      severity: 'error',
      from: { path: '^functions/api/[^/]+\\.ts$' },
      to: { path: '^functions/api/[^/]+\\.ts$' },
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
    exclude: { path: '^(node_modules|cdk\\.out|\\.local)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
