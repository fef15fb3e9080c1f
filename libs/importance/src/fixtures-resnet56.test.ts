// Every measure on the resnet56 fixture (../shared/fixtures/importance/resnet56) within the README tolerance.
import { fixtureSuite } from './fixture-suite.test-util.js';

fixtureSuite('resnet56');
