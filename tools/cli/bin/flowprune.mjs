#!/usr/bin/env node
// The flowprune CLI. TypeScript runs through tsx; the workspace tsconfig maps @flowprune/* aliases.
import { join } from 'node:path';
process.env.TSX_TSCONFIG_PATH ??= join(import.meta.dirname, '../../../tsconfig.json');
const { register } = await import('tsx/esm/api');
register();
await import('../src/main.ts');
