/**
 * Preloaded into bench children when BENCH_CPU_PROF is set (see child.ts): a profiled
 * child must exit normally for V8 to write its CPU profile, so SIGTERM exits it.
 */
process.on('SIGTERM', () => process.exit(0));
