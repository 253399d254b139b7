/**
 * Imported first by bench/run.ts: handler modules read the log level when they load, which is before
 * the runtime sets its environment, so the bench sets them here (INFO logs and metric lines would drown
 * the figures).
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
