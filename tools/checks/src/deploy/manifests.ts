// Reads the deploy/ YAML files as plain documents.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = { [k: string]: Json };

export interface Doc {
  file: string;
  index: number;
  doc: Obj;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every document of a multi-document YAML file; a YAML syntax error throws, naming the file. `<<`
 * merge keys are resolved, as docker compose does before it validates.
 */
export function readDocs(file: string, text = readFileSync(file, 'utf8')): Doc[] {
  return parseAllDocuments(text, { merge: true }).flatMap((d, index) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    const doc: unknown = d.toJS();
    return isObj(doc) ? [{ file, index, doc }] : [];
  });
}

/** A value at a dotted path (`spec.template.metadata.labels`), or undefined. */
export function at(o: Json | undefined, path: string): Json | undefined {
  let cur: Json | undefined = o;
  for (const k of path.split('.')) cur = isObj(cur) ? cur[k] : undefined;
  return cur;
}

export const asArray = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
export const asObj = (v: Json | undefined): Obj => (isObj(v) ? v : {});
export const str = (v: Json | undefined): string => (typeof v === 'string' ? v : '');
