// Every measure on the mobilenet_v1 fixture (../shared/fixtures/importance/mobilenet_v1) within the tolerance of docs/reference-fixtures.md §6.
import { fixtureSuite } from './fixture-suite.test-util.js';

fixtureSuite('mobilenet_v1');
