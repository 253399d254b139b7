// Tells which Node runs the project's scripts. npm puts node_modules/.bin first on PATH,
// so scripts run under the `node@22` dev dependency even where the machine ships an older Node.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `This project needs Node >= 22.12 (Lambda runs nodejs22.x); found ${process.version} at ${process.execPath}.\n` +
      'Run `npm ci` first: it installs Node 22 from the npm registry (the `node` dev dependency), and npm scripts use it.',
  );
  process.exit(1);
}
if (process.env.npm_config_user_agent && !process.env.npm_config_user_agent.includes(`node/v${major}`)) {
  // npm itself may run under the machine's older Node; the scripts do not.
  console.log(`[node] scripts run under Node ${process.version} from ${process.execPath}`);
}
