// The critical path of a span tree: walking back from the root's end, always into the child that
// finished last, the chain of work the root's end waited for. Children that run beside their parent
// (server streams) are not on it; a span's own time between children is its self time on the path.
import type { SpanRecord } from './trace-file.js';
import type { TraceTree } from './trace-tree.js';

export interface PathSegment {
  span: SpanRecord;
  fromMs: number;
  toMs: number;
}

export function criticalPath(tree: TraceTree, root: SpanRecord): PathSegment[] {
  const out: PathSegment[] = [];
  const walk = (span: SpanRecord, endMs: number): void => {
    let cursor = Math.min(endMs, span.endMs);
    const kids = tree
      .children(span)
      .filter((k) => !tree.isStreaming(k))
      .sort((a, b) => b.endMs - a.endMs);
    for (const k of kids) {
      if (cursor <= span.startMs) break;
      if (k.startMs >= cursor) continue;
      const kEnd = Math.min(k.endMs, cursor);
      if (kEnd <= span.startMs) break;
      if (kEnd < cursor) out.push({ span, fromMs: kEnd, toMs: cursor });
      walk(k, kEnd);
      cursor = Math.max(k.startMs, span.startMs);
    }
    if (cursor > span.startMs) out.push({ span, fromMs: span.startMs, toMs: cursor });
  };
  walk(root, root.endMs);
  return out;
}
