// @flowprune/common/testing: helpers for tests only (the lint forbids them in production code).
import { join, resolve } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '../../../..');

/**
 * The reference fixtures' folder (docs/reference-fixtures.md): FLOWPRUNE_FIXTURES when set (a
 * hidden set in the same format), else ../shared/fixtures/importance beside the checkout.
 */
export function fixtureRoot(): string {
  return resolve(process.env.FLOWPRUNE_FIXTURES ?? join(REPO_ROOT, '../shared/fixtures/importance'));
}
