import { join } from 'node:path';

/** The workspace root (where package.json and tsconfig.json live). */
export const WORKSPACE = join(import.meta.dirname, '../../..');
export const SERVICE_ENTRIES = {
  'data-loader': join(WORKSPACE, 'services/data-loader/src/main.ts'),
  'importance-estimator': join(WORKSPACE, 'services/importance-estimator/src/main.ts'),
  evaluator: join(WORKSPACE, 'services/evaluator/src/main.ts'),
  trainer: join(WORKSPACE, 'services/trainer/src/main.ts'),
} as const;
