// Any further fixture folder beside vgg13, resnet56 and mobilenet_v1 (e.g. another set pointed to
// by FLOWPRUNE_FIXTURES with 100-class networks), checked the same way.
import { test } from 'node:test';
import { fixtureFolders, fixtureSuite } from './fixture-suite.test-util.js';

const others = fixtureFolders().filter((d) => !['vgg13', 'resnet56', 'mobilenet_v1'].includes(d));
for (const folder of others) fixtureSuite(folder);
if (others.length === 0) test('no further fixture folders', { skip: 'only vgg13, resnet56 and mobilenet_v1 are present' }, () => undefined);
