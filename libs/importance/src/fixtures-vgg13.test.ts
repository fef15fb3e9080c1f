// Every measure on the vgg13 fixture (../shared/fixtures/importance/vgg13) within the tolerance of docs/reference-fixtures.md §6.
import { fixtureSuite } from './fixture-suite.test-util.js';

fixtureSuite('vgg13');
