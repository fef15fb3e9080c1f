import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { GraphBuilder } from './builder.js';
import { graphFromJson, graphToJson, GraphJsonError } from './json.js';

/** Every kind of node once: conv with bias and groups, BN, ReLU6, SE-style sigmoid·mul, add, concat, pools, linear. */
function everyOp() {
  const g = new GraphBuilder({ name: 'input', channels: 4, height: 8, width: 8 });
  const c = g.conv('c', 'input', 4, { kernel: 3, padding: [1, 1, 1, 1], groups: 2, bias: true });
  const b = g.clip(g.bn('bn', c), 0, 6);
  const se = g.mul(b, g.sigmoid(g.globalAvgPool(b)));
  const s = g.sum(se, g.relu(c));
  const cat = g.concat([s, g.identity(c, 'dropout')]);
  const p = g.pool('avgpool', g.pool('maxpool', cat, { kernel: 2, ceilMode: true }), { kernel: 2 });
  return g.finish(g.linear('fc', g.flatten(g.identity(p)), 3));
}

test('a graph survives JSON: nodes, input, output, and the state_dict entries derived again', () => {
  const graph = everyOp();
  assert.deepEqual(graphFromJson(graphToJson(graph)), graph);
});

test('the JSON does not store the state_dict entries (they are derived from the nodes)', () => {
  assert.equal('params' in JSON.parse(graphToJson(everyOp())), false);
});

const refused = (text: string, pattern: RegExp) =>
  assert.throws(() => graphFromJson(text, 'ckpt'), (e: unknown) => e instanceof GraphJsonError && pattern.test(e.message), `expected ${pattern}`);

test('metadata that is not JSON, or not a graph, is refused', () => {
  refused('{nope', /ckpt: the graph is not valid JSON/);
  refused('[1]', /ckpt: a graph is \{input, nodes, output\}/);
});

test('an unknown op is refused with the list of ops', () => {
  const j = JSON.parse(graphToJson(everyOp()));
  j.nodes[2].op = 'softmax';
  refused(JSON.stringify(j), /ckpt: node 2: "op" must be one of conv, batchnorm, .*dropout, got "softmax"/);
});

test('a field of the wrong type is refused naming node and field', () => {
  const j = JSON.parse(graphToJson(everyOp()));
  j.nodes[0].kernel = [3, 0];
  refused(JSON.stringify(j), /ckpt: node 0: field "kernel" must be two positive integers, got \[3,0\]/);
  const k = JSON.parse(graphToJson(everyOp()));
  delete k.nodes[1].params.runningVar;
  refused(JSON.stringify(k), /ckpt: node 1: params: field "runningVar" must be a non-empty string, got nothing/);
  const m = JSON.parse(graphToJson(everyOp()));
  m.input.height = -1;
  refused(JSON.stringify(m), /ckpt: input: field "height" must be a positive integer, got -1/);
});

test('unknown fields are dropped, not carried', () => {
  const j = JSON.parse(graphToJson(everyOp()));
  j.nodes[0].extra = 'x';
  assert.equal('extra' in graphFromJson(JSON.stringify(j)).nodes[0], false);
});
