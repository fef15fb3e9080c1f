// Every rule the code follows is cited from docs/ in the repository (docs/README.md): a citation
// `docs/<file>.md §N`, `docs/<file>.md#anchor` or `docs/<file>.md, quirk Qn` must name a file,
// section, heading or quirk that exists, and nothing may cite the design notes kept outside the repo.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '../../..');
// Generated and vendored text (ONNX's own docs/ citations) is not ours to keep.
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.nx', 'runs', '.flowprune', 'proto-vendor']);
const SKIP_PATHS = new Set(['libs/proto/src/gen', 'libs/onnx/src/gen']);
const SOURCE_EXT = /\.(ts|mjs|js|py|md|proto|yaml|yml|json|sh)$/;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (SKIP_DIRS.has(name) || SKIP_PATHS.has(relative(root, path))) continue;
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (SOURCE_EXT.test(name) && name !== 'package-lock.json') out.push(path);
  }
  return out;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

interface DocOutline {
  anchors: Set<string>;
  /** Section numbers of numbered headings ("## 5. …", "### 5.3 …"). */
  sections: Set<string>;
  /** Quirk and bug labels ("**Q7.**", "**B1.**"). */
  quirks: Set<string>;
}

function outline(text: string): DocOutline {
  const anchors = new Set<string>();
  const sections = new Set<string>();
  let inCode = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode;
    const h = !inCode && /^#{1,6}\s+(.*)$/.exec(line);
    if (!h) continue;
    anchors.add(headingAnchor(h[1]));
    const n = /^(\d+(?:\.\d+)*)\.?\s/.exec(h[1]);
    if (n) sections.add(n[1]);
  }
  const quirks = new Set([...text.matchAll(/\*\*([QB]\d+)\.\*\*/g)].map((m) => m[1]));
  return { anchors, sections, quirks };
}

const outlines = new Map<string, DocOutline | undefined>();
function outlineOf(path: string): DocOutline | undefined {
  if (!outlines.has(path)) outlines.set(path, existsSync(path) ? outline(readFileSync(path, 'utf8')) : undefined);
  return outlines.get(path);
}

/** One problem per line: `file:line: what is wrong`, for every citation of docs/ in `text`. */
function citationProblems(text: string, where: string, docPath: (cited: string) => string): string[] {
  const problems: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    // docs/x.md, then optionally #anchor, or §-numbers (§4–7, §3.1–3.2, §3, §8), or ", quirk Q7".
    const cite = /(?<![\w/.-])docs\/([\w/-]+\.md)(#[\w-]+)?((?:,? ?§\d+(?:\.\d+)?(?:[–-]\d+(?:\.\d+)?)?)*)(?:,? quirks? ((?:[QB]\d+(?:, | and )?)+))?/g;
    for (const m of line.matchAll(cite)) {
      const file = `docs/${m[1]}`;
      const doc = outlineOf(docPath(file));
      const at = `${where}:${i + 1}`;
      if (!doc) {
        problems.push(`${at}: cites ${file}, which does not exist`);
        continue;
      }
      if (m[2] && !doc.anchors.has(m[2].slice(1))) problems.push(`${at}: ${file}${m[2]}: no heading has that anchor`);
      for (const s of (m[3] ?? '').matchAll(/\d+(?:\.\d+)?/g)) {
        // "§4–7" names sections 4 and 7; "§3.1–3.2" names 3.1 and 3.2.
        if (!doc.sections.has(s[0])) problems.push(`${at}: ${file} has no section §${s[0]}`);
      }
      for (const q of (m[4] ?? '').matchAll(/[QB]\d+/g)) {
        if (!doc.quirks.has(q[0])) problems.push(`${at}: ${file} has no quirk ${q[0]}`);
      }
    }
  });
  return problems;
}

test('every docs/ citation in the tree names an existing file, section, anchor or quirk', () => {
  // This file plants bad citations on purpose (the last test).
  const files = sourceFiles(root).filter((f) => f !== import.meta.filename);
  assert.ok(files.length > 100, `found only ${files.length} source files under ${root}`);
  const problems = files.flatMap((f) => citationProblems(readFileSync(f, 'utf8'), relative(root, f), (cited) => join(root, cited)));
  assert.deepEqual(problems, []);
});

test("links between docs/ pages name an existing page and heading", () => {
  const docs = sourceFiles(join(root, 'docs')).filter((f) => f.endsWith('.md'));
  const problems: string[] = [];
  for (const f of docs) {
    readFileSync(f, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const m of line.matchAll(/\]\(([\w./-]+\.md)?(#[\w-]+)?\)/g)) {
          if (!m[1] && !m[2]) continue;
          const target = m[1] ? resolve(dirname(f), m[1]) : f;
          const doc = outlineOf(target);
          const at = `${relative(root, f)}:${i + 1}`;
          if (!doc) problems.push(`${at}: links to ${m[1]}, which does not exist`);
          else if (m[2] && !doc.anchors.has(m[2].slice(1))) problems.push(`${at}: ${m[1] ?? ''}${m[2]}: no heading has that anchor`);
        }
      });
  }
  assert.ok(docs.length >= 4, `found only ${docs.length} pages under docs/`);
  assert.deepEqual(problems, []);
});

test('no code cites the design notes that live outside the repository', () => {
  // Spelled in parts so that this file does not match itself.
  const outside = new RegExp([['PRUNING', 'SPEC'].join('-'), ['ARCHITECTURE', 'md'].join('\\.'), ['COMPUTE', 'NOTES'].join('-'), ['shared', 'design'].join('/')].join('|'));
  const hits = sourceFiles(root)
    .filter((f) => /\.(ts|mjs|js|py|md)$/.test(f) && !f.startsWith(join(root, 'docs') + '/'))
    .flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (outside.test(line) ? [`${relative(root, f)}:${i + 1}: ${line.trim()}`] : [])),
    );
  assert.deepEqual(hits, []);
});

test('the citation check finds a missing file, section, anchor and quirk (checked on planted text)', () => {
  const docPath = (cited: string) => join(root, cited);
  const planted = [
    'ok: docs/pruning-semantics.md §5.3, docs/pruning-semantics.md §4–7, docs/reference-fixtures.md §4',
    'ok: docs/architecture.md#layers-and-what-each-may-import and docs/pruning-semantics.md, quirk Q7',
    'bad: docs/no-such-page.md §1',
    'bad: docs/pruning-semantics.md §13',
    'bad: docs/pruning-semantics.md §3.1–3.9',
    'bad: docs/architecture.md#no-such-heading',
    'bad: docs/pruning-semantics.md, quirk Q99',
  ].join('\n');
  assert.deepEqual(citationProblems(planted, 'planted', docPath), [
    'planted:3: cites docs/no-such-page.md, which does not exist',
    'planted:4: docs/pruning-semantics.md has no section §13',
    'planted:5: docs/pruning-semantics.md has no section §3.9',
    'planted:6: docs/architecture.md#no-such-heading: no heading has that anchor',
    'planted:7: docs/pruning-semantics.md has no quirk Q99',
  ]);
});
