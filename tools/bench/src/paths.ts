import { join } from 'node:path';

/** The workspace root (where package.json and tsconfig.json live). */
export const WORKSPACE = join(import.meta.dirname, '../../..');
/** The entry module of a service the suites start (`services/<name>/src/main.ts`, as the services' own tests spell it). */
export const serviceEntry = (name: 'data-loader' | 'importance-estimator'): string => join(WORKSPACE, 'services', name, 'src/main.ts');
