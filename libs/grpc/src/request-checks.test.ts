// Unit tests of the request field checks and the message-size option.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { RpcError } from './errors.js';
import { messageBytesFromMb, defaultMaxMessageMb } from './message-limit.js';
import { checkCount, checkEnum, checkFinite, checkFiniteMap, checkRange, checkText, checkWith } from './request-checks.js';

function invalid(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof RpcError && e.code === status.INVALID_ARGUMENT && re.test(e.message));
}

enum Color {
  RED = 0,
  GREEN = 1,
}

test('counts, floats, enums, text and maps', () => {
  assert.equal(checkCount('n', 5, 1, 10), 5);
  invalid(() => checkCount('spec.epochs', 11, 1, 10, 'the paper uses 160'), /^spec\.epochs: must be a whole number in 1\.\.10, got 11; the paper uses 160$/);
  invalid(() => checkCount('n', 2.5, 1, 10), /^n:/);
  invalid(() => checkFinite('params.T', NaN), /^params\.T: must be a finite number, got NaN/);
  invalid(() => checkFinite('t', -Infinity), /-Infinity/);
  assert.equal(checkRange('t', 0, 1, 2, true), 0);
  invalid(() => checkRange('t', 0, 1, 2), /^t: must be in \[1, 2\], got 0/);
  invalid(() => checkRange('t', NaN, 1, 2, true), /finite/);
  assert.equal(checkEnum('c', 1, Color), 1);
  invalid(() => checkEnum('c', 99, Color), /^c: must be one of RED \(0\), GREEN \(1\), got 99/);
  invalid(() => checkEnum('c', 0, Color, [Color.GREEN]), /^c: must be one of GREEN \(1\)/);
  assert.equal(checkText('name', 'ok'), 'ok');
  invalid(() => checkText('name', '', { required: true }), /^name: is required/);
  invalid(() => checkText('name', 'x'.repeat(300)), /^name: is 300 characters long; the limit is 256/);
  invalid(() => checkText('name', 'a\nb'), /control characters/);
  assert.deepEqual(checkFiniteMap('params', { T: 5 }), { T: 5 });
  invalid(() => checkFiniteMap('params', { T: Infinity }), /^params\.T: must be a finite number/);
  invalid(() => checkFiniteMap('params', { '': 1 }), /^params key: is required/);
});

test("a lib's check as a field check: its message, the field named once", () => {
  assert.equal(checkWith('model', () => 7), 7);
  const fail = (message: string) => () => {
    throw new Error(message);
  };
  invalid(() => checkWith('model', fail('model: tensor x holds NaN')), /^model: tensor x holds NaN$/);
  invalid(() => checkWith('run_id', fail('invalid run id "../x"')), /^run_id: invalid run id "\.\.\/x"$/);
});

test('--max-message-mb', () => {
  assert.equal(messageBytesFromMb('1'), 1024 * 1024);
  assert.equal(messageBytesFromMb('0.5'), 512 * 1024);
  for (const bad of ['0', '-1', 'abc', '4096', 'NaN']) assert.throws(() => messageBytesFromMb(bad), /--max-message-mb/);
  assert.equal(defaultMaxMessageMb({}), '256');
  assert.equal(defaultMaxMessageMb({ FLOWPRUNE_MAX_MESSAGE_MB: '8' }), '8');
});
