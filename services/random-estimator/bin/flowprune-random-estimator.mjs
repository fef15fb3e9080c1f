#!/usr/bin/env node
import { join } from 'node:path';
process.env.TSX_TSCONFIG_PATH ??= join(import.meta.dirname, '../../../tsconfig.json');
const { register } = await import('tsx/esm/api');
register();
await import('../src/main.ts');
