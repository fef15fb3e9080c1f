// deploy/ checked statically: Kubernetes manifests against the Kubernetes API schemas, the compose
// file against the Compose Specification schema, Dockerfiles with a Dockerfile linter, plus the
// cross-references between files. Each check is also shown to fail on a broken copy.
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { RunSpec } from '@flowprune/proto';
import { collectorErrors } from './deploy/collector-validate.js';
import { composeCrossErrors, composeSchemaErrors } from './deploy/compose-validate.js';
import { dockerfileFacts, dockerfileLintErrors } from './deploy/dockerfile-validate.js';
import { addressErrors, crossErrors, schemaErrors } from './deploy/k8s-validate.js';
import { asArray, asObj, at, readDocs, str, type Doc, type Obj } from './deploy/manifests.js';

const root = join(import.meta.dirname, '../../..');
const deploy = join(root, 'deploy');
const GPU = ['trainer', 'importance-estimator'];
const SERVICES = ['data-loader', 'importance-estimator', 'random-estimator', 'evaluator', 'trainer'];

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const kustomization = readDocs(join(deploy, 'kustomization.yaml'))[0].doc;
const applied = asArray(kustomization.resources).map((r) => join(deploy, str(r)));
const manifests = (): Doc[] => [...applied, join(deploy, 'k8s/sweep-job.yaml')].flatMap((f) => readDocs(f));
/** ConfigMaps that kustomize generates, as documents (so references to them resolve). */
const generated = (): Doc[] =>
  asArray(kustomization.configMapGenerator).map((g, index) => ({
    file: 'kustomization.yaml',
    index,
    doc: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: str(at(g, 'name')) }, data: {} },
  }));

test('every Kubernetes manifest is valid against the API schema of its kind', async () => {
  const docs = manifests();
  assert.ok(docs.length >= 18, `${docs.length} documents`);
  const errors = (await Promise.all(docs.map(schemaErrors))).flat();
  assert.deepEqual(errors, []);
  for (const svc of SERVICES)
    for (const kind of ['Deployment', 'Service'])
      assert.ok(docs.some((d) => d.doc.kind === kind && at(d.doc, 'metadata.name') === svc), `${kind} ${svc}`);
  const job = docs.find((d) => d.doc.kind === 'Job')!.doc;
  assert.equal(at(job, 'spec.completionMode'), 'Indexed', 'the sweep is an Indexed Job: one pod per cell');
});

test('the manifests fit together: selectors, ports, ConfigMaps, volumes, GPUs, the estimator registry', () => {
  const docs = [...manifests(), ...generated()];
  assert.deepEqual(crossErrors(docs, GPU), []);
  const registry = docs.find((d) => d.doc.kind === 'ConfigMap' && at(d.doc, 'metadata.name') === 'estimator-registry')!;
  const addresses = str(at(registry.doc, 'data.FLOWPRUNE_ESTIMATORS')).split(',');
  assert.deepEqual(addressErrors(docs, addresses, 'estimator-registry'), []);
  const trainer = docs.find((d) => d.doc.kind === 'Deployment' && at(d.doc, 'metadata.name') === 'trainer')!;
  const envFrom = asArray(at(trainer.doc, 'spec.template.spec.containers')).flatMap((c) => asArray(at(c, 'envFrom')));
  assert.ok(envFrom.some((e) => at(e, 'configMapRef.name') === 'estimator-registry'), 'the trainer reads the registry');
  // Every address a service is given is a Service of the set.
  const args = docs.flatMap((d) => asArray(at(d.doc, 'spec.template.spec.containers')).flatMap((c) => asArray(at(c, 'args')).map(str)));
  const addrs = args.filter((a) => /^[a-z-]+:\d+$/.test(a));
  assert.ok(addrs.length >= 4, `addresses in args: ${addrs.join(', ')}`);
  assert.deepEqual(addressErrors(docs, addrs, 'container args'), []);
  for (const f of asArray(kustomization.configMapGenerator).flatMap((g) => asArray(at(g, 'files')).map(str))) readDocs(join(deploy, f.split('=')[1]));
});

test('the Kubernetes checks fail on broken manifests', async () => {
  const docs = manifests();
  const deployment = clone(docs.find((d) => d.doc.kind === 'Deployment' && at(d.doc, 'metadata.name') === 'trainer')!);
  asObj(deployment.doc.spec).replicas = 'two';
  assert.match((await schemaErrors(deployment)).join('\n'), /replicas must be integer/);
  const noImage = clone(deployment);
  asObj(noImage.doc.spec).replicas = 1;
  delete asObj(asArray(at(noImage.doc, 'spec.template.spec.containers'))[0]).name;
  assert.match((await schemaErrors(noImage)).join('\n'), /must have required property 'name'|required property name/);
  assert.match((await schemaErrors({ file: 'x', index: 0, doc: { apiVersion: 'apps/v1', kind: 'Deploymnet' } })).join('\n'), /no schema/);

  const broken = docs.map(clone);
  const svc = broken.find((d) => d.doc.kind === 'Service' && at(d.doc, 'metadata.name') === 'evaluator')!;
  asObj(at(svc.doc, 'spec.selector'))['app.kubernetes.io/name'] = 'evaluater';
  const est = broken.find((d) => d.doc.kind === 'Deployment' && at(d.doc, 'metadata.name') === 'importance-estimator')!;
  delete asObj(at(asArray(at(est.doc, 'spec.template.spec.containers'))[0], 'resources.limits'))['nvidia.com/gpu'];
  const errors = crossErrors([...broken, ...generated()], GPU).join('\n');
  assert.match(errors, /Service evaluator: its selector matches no workload/);
  assert.match(errors, /importance-estimator: must request nvidia.com\/gpu/);
  assert.match(crossErrors(broken, GPU).join('\n'), /ConfigMap otel-collector-config is not defined/);
  assert.match(addressErrors(docs, ['trainer:50099', 'nowhere:1'], 'x').join('\n'), /no port 50099[\s\S]*nowhere:1 names no Service/);
});

test('the compose file is valid against the Compose Specification and hangs together', () => {
  const file = join(deploy, 'compose.yaml');
  const compose = readDocs(file)[0].doc;
  assert.deepEqual(composeSchemaErrors(compose, file), []);
  assert.deepEqual(composeCrossErrors(compose, file, deploy, GPU), []);
  const services = Object.keys(asObj(compose.services));
  for (const s of [...SERVICES, 'mongodb', 'otel-collector', 'jaeger']) assert.ok(services.includes(s), s);
  const env = asObj(at(compose, 'services.trainer.environment'));
  assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-collector:4317');
  assert.match(str(env.FLOWPRUNE_STORE), /^mongodb:\/\/mongodb:/);

  const bad = clone(compose);
  asObj(at(bad, 'services.trainer')).ports = 50052;
  bad.servics = {};
  const schemaErrs = composeSchemaErrors(bad, 'bad.yaml').join('\n');
  assert.match(schemaErrs, /\/services\/trainer\/ports must be array/);
  assert.match(schemaErrs, /additionalProperty":"servics"/);
  const cross = clone(compose);
  asObj(at(cross, 'services.evaluator')).depends_on = ['data-loadr'];
  delete asObj(at(cross, 'services.trainer')).deploy;
  const crossErrs = composeCrossErrors(cross, 'bad.yaml', deploy, GPU).join('\n');
  assert.match(crossErrs, /evaluator depends on undefined service data-loadr/);
  assert.match(crossErrs, /trainer must reserve an NVIDIA GPU/);
});

test('the collector configuration is complete, and Kubernetes uses the same file', () => {
  const cfg = readDocs(join(deploy, 'otel-collector/config.yaml'))[0].doc;
  assert.deepEqual(collectorErrors(cfg, 'config.yaml'), []);
  assert.equal(at(cfg, 'exporters.otlp/jaeger.endpoint'), 'jaeger:4317');
  const bad = clone(cfg);
  asArray(at(bad, 'service.pipelines.traces.exporters')).push('zipkin');
  assert.match(collectorErrors(bad, 'bad').join('\n'), /pipeline traces uses undefined exporter zipkin/);
  const gen = asArray(kustomization.configMapGenerator).find((g) => at(g, 'name') === 'otel-collector-config');
  assert.deepEqual(asArray(at(gen, 'files')), ['config.yaml=otel-collector/config.yaml']);
});

test('Dockerfiles pass the linter; the GPU image is CUDA 11.2 + cuDNN 8 for tfjs-node-gpu 4.22 (libtensorflow 2.9)', () => {
  const dir = join(deploy, 'docker');
  for (const f of readdirSync(dir).filter((n) => n.startsWith('Dockerfile'))) {
    const text = readFileSync(join(dir, f), 'utf8');
    assert.deepEqual(dockerfileLintErrors(text, f), []);
    const facts = dockerfileFacts(text);
    assert.deepEqual(facts.unpinned, [], `${f}: every base image has a tag`);
    assert.ok(facts.finalUser && facts.finalUser !== 'root' && facts.finalUser !== '0', `${f}: runs as a non-root user`);
    assert.match(text, /ENTRYPOINT \["\/app\/deploy\/docker\/entrypoint.sh"\]/);
  }
  const gpu = dockerfileFacts(readFileSync(join(dir, 'Dockerfile.gpu'), 'utf8'));
  assert.equal(gpu.finalBase, 'nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04');
  assert.match(gpu.runs, /@tensorflow\/tfjs-node-gpu@4\.22\.0/);
  const cpu = dockerfileFacts(readFileSync(join(dir, 'Dockerfile.cpu'), 'utf8'));
  assert.match(cpu.finalBase, /^node:20-[a-z]+-slim$/);
  assert.doesNotMatch(cpu.runs, /tfjs-node-gpu/);

  const broken = 'FROM\nEXPOSE fifty\nCOPY onlyone\nFROM node\nUSER root\n';
  const errs = dockerfileLintErrors(broken, 'broken').join('\n');
  assert.match(errs, /broken:1: Instruction has no arguments/);
  assert.match(errs, /broken:2: .*fifty/);
  assert.match(errs, /broken:3: COPY requires at least two arguments/);
  assert.deepEqual(dockerfileFacts(broken).unpinned, ['node']);
});

test('the sweep base run file holds only RunSpec fields', () => {
  const spec: Obj = readDocs(join(deploy, 'sweep/spec.yaml'))[0].doc;
  const fields = new Set(Object.keys(RunSpec.fromJSON({})));
  const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  for (const k of Object.keys(spec)) assert.ok(fields.has(camel(k)) || k === 'datasets', `unknown run-file field ${k}`);
  assert.equal(dirname(join(deploy, 'sweep/spec.yaml')), join(deploy, 'sweep'));
});
