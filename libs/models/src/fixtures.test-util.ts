// Locates ../shared/fixtures (beside the checkout) and reads its reference tables.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureRoot } from '@flowprune/common/testing';

export const FIXTURES_DIR = fixtureRoot();
export const fixturesPresent = existsSync(join(FIXTURES_DIR, 'README.md'));


/** Rows of the README's "Sizes" table: network | classes | parameters | MACs | ptflops count. */
export function readSizeTable(): { arch: string; classes: number; params: number; macs: number; flops: number }[] {
  const text = readFileSync(join(FIXTURES_DIR, 'README.md'), 'utf8');
  const rows = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim()).filter((c) => c.length > 0);
    if (cells.length !== 5 || !/^\d+$/.test(cells[1])) continue;
    const num = (s: string) => Number(s.replace(/,/g, ''));
    rows.push({ arch: cells[0], classes: num(cells[1]), params: num(cells[2]), macs: num(cells[3]), flops: num(cells[4]) });
  }
  return rows;
}
