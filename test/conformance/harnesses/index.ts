import type { BackendHarness } from '../harness.js';
import { laggedHarness } from './lagged.js';
import { memoryHarness } from './memory.js';
import { redisHarness } from './redis.js';

/**
 * Every backend the conformance suite runs against. A backend joins by adding one file
 * here, `harnesses/<name>.ts`, exporting a factory `<name>Harness(): BackendHarness`,
 * and listing it below. `CORRAL_BACKENDS=memory` (comma-separated) runs a subset.
 */
const factories: Array<() => BackendHarness> = [memoryHarness, laggedHarness, redisHarness];

const only = process.env.CORRAL_BACKENDS?.split(',').map((s) => s.trim()).filter(Boolean);

/** One fresh harness per backend (each case file gets its own instances). */
export const harnesses: BackendHarness[] = factories
  .map((make) => make())
  .filter((h) => !only || only.includes(h.name));
