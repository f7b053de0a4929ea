import { defineConfig } from 'vitest/config';

// `npm run test:interop`: real third-party clients (kcat/librdkafka, kafka-python,
// confluent-kafka, the Java client) against a real `godel serve` process. Needs what
// `bash scripts/install-interop-deps.sh` installs; a missing tool fails the suite, it never skips.
// Files run one after another (each starts its own broker, the Java one builds with Maven), with
// deadlines generous enough for a loaded 2-core machine.
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 900_000,
    teardownTimeout: 60_000,
    reporters: ['verbose'],
  },
});
