// Kubernetes manifests, checked two ways: each document against the Kubernetes OpenAPI schema of
// its apiVersion/kind (kubernetes-models' validators, generated from the API's own schemas), then
// across documents — what a schema cannot see: selectors that select nothing, Services pointing at
// ports no container opens, ConfigMaps referenced but never defined, GPU requests where they belong.
import { asArray, asObj, at, str, type Doc, type Json, type Obj } from './manifests.js';

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** Schema errors of one document: its apiVersion/kind picks the model; an unknown kind is an error. */
export async function schemaErrors(d: Doc): Promise<string[]> {
  const where = `${d.file}#${d.index} ${str(d.doc.kind)} ${str(at(d.doc, 'metadata.name')) || str(at(d.doc, 'metadata.generateName'))}`;
  const apiVersion = str(d.doc.apiVersion);
  const kind = str(d.doc.kind);
  if (!/^[a-z0-9.]*\/?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z]+$/.test(kind)) return [`${where}: apiVersion/kind "${apiVersion}" "${kind}" is not a Kubernetes type`];
  let Model: ModelClass | undefined;
  try {
    const mod = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, ModelClass>;
    Model = mod[kind];
  } catch {
    Model = undefined;
  }
  if (!Model) return [`${where}: no schema for ${apiVersion} ${kind}`];
  try {
    new Model(d.doc).validate();
    return [];
  } catch (e) {
    return [`${where}: ${(e as Error).message}`];
  }
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'Job']);
const podSpec = (d: Obj): Obj => asObj(at(d, 'spec.template.spec'));
const containers = (d: Obj): Obj[] => [...asArray(podSpec(d).containers), ...asArray(podSpec(d).initContainers)].filter((c): c is Obj => typeof c === 'object' && c !== null && !Array.isArray(c));
const labelsMatch = (selector: Obj, labels: Obj) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Cross-document checks over a whole set of manifests. `gpuWorkloads` must request nvidia.com/gpu; no other may. */
export function crossErrors(docs: Doc[], gpuWorkloads: string[]): string[] {
  const errors: string[] = [];
  const name = (d: Obj) => str(at(d, 'metadata.name')) || str(at(d, 'metadata.generateName'));
  const workloads = docs.filter((d) => WORKLOADS.has(str(d.doc.kind)));
  const configMaps = new Set(docs.filter((d) => d.doc.kind === 'ConfigMap').map((d) => name(d.doc)));
  const claims = new Set(docs.filter((d) => d.doc.kind === 'PersistentVolumeClaim').map((d) => name(d.doc)));

  for (const { file, doc } of workloads) {
    const id = `${file} ${str(doc.kind)} ${name(doc)}`;
    const labels = asObj(at(doc, 'spec.template.metadata.labels'));
    const selector = asObj(at(doc, 'spec.selector.matchLabels'));
    if (doc.kind !== 'Job' && !labelsMatch(selector, labels)) errors.push(`${id}: spec.selector does not match the pod template's labels`);
    for (const ref of [...asArray(podSpec(doc).volumes), ...containers(doc).flatMap((c) => asArray(c.envFrom))]) {
      const cm = str(at(ref, 'configMap.name')) || str(at(ref, 'configMapRef.name'));
      if (cm && !configMaps.has(cm)) errors.push(`${id}: ConfigMap ${cm} is not defined`);
      const pvc = str(at(ref, 'persistentVolumeClaim.claimName'));
      if (pvc && !claims.has(pvc)) errors.push(`${id}: PersistentVolumeClaim ${pvc} is not defined`);
    }
    const volumes = new Set(asArray(podSpec(doc).volumes).map((v) => str(at(v, 'name'))));
    const templates = new Set(asArray(at(doc, 'spec.volumeClaimTemplates')).map((v) => str(at(v, 'metadata.name'))));
    for (const c of containers(doc))
      for (const m of asArray(c.volumeMounts))
        if (!volumes.has(str(at(m, 'name'))) && !templates.has(str(at(m, 'name')))) errors.push(`${id}: volumeMount ${str(at(m, 'name'))} has no volume`);
    const gpus = containers(doc).reduce((n, c) => n + Number(asObj(at(c, 'resources.limits'))['nvidia.com/gpu'] ?? 0), 0);
    const wantsGpu = gpuWorkloads.includes(name(doc));
    if (wantsGpu && !(gpus >= 1)) errors.push(`${id}: must request nvidia.com/gpu`);
    if (!wantsGpu && gpus > 0) errors.push(`${id}: requests a GPU it does not need`);
  }

  for (const { file, doc } of docs.filter((d) => d.doc.kind === 'Service')) {
    const id = `${file} Service ${name(doc)}`;
    const selector = asObj(at(doc, 'spec.selector'));
    const targets = workloads.filter((w) => w.doc.kind !== 'Job' && labelsMatch(selector, asObj(at(w.doc, 'spec.template.metadata.labels'))));
    if (targets.length === 0) {
      errors.push(`${id}: its selector matches no workload`);
      continue;
    }
    const ports = targets.flatMap((t) => containers(t.doc).flatMap((c) => asArray(c.ports)));
    for (const p of asArray(at(doc, 'spec.ports'))) {
      const target: Json | undefined = at(p, 'targetPort') ?? at(p, 'port');
      const opened = ports.some((cp) => (typeof target === 'string' ? at(cp, 'name') === target : at(cp, 'containerPort') === target));
      if (!opened) errors.push(`${id}: targetPort ${String(target)} is no container port of ${targets.map((t) => name(t.doc)).join(', ')}`);
    }
  }
  return errors;
}

/** host:port addresses that must be Services of the set (e.g. the estimator registry). */
export function addressErrors(docs: Doc[], addresses: string[], where: string): string[] {
  const services = docs.filter((d) => d.doc.kind === 'Service');
  return addresses.flatMap((a) => {
    const [host, port] = a.split(':');
    const svc = services.find((s) => str(at(s.doc, 'metadata.name')) === host);
    if (!svc) return [`${where}: ${a} names no Service`];
    return asArray(at(svc.doc, 'spec.ports')).some((p) => String(at(p, 'port')) === port) ? [] : [`${where}: Service ${host} has no port ${port}`];
  });
}
