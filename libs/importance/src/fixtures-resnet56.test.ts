// Every measure on the resnet56 fixture (../shared/fixtures/importance/resnet56) within the tolerance of docs/reference-fixtures.md §6.
import { fixtureSuite } from './fixture-suite.test-util.js';

fixtureSuite('resnet56');
