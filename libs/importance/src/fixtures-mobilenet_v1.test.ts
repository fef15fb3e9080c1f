// Every measure on the mobilenet_v1 fixture (../shared/fixtures/importance/mobilenet_v1) within the README tolerance.
import { fixtureSuite } from './fixture-suite.test-util.js';

fixtureSuite('mobilenet_v1');
