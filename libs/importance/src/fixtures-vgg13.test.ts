// Every measure on the vgg13 fixture (../shared/fixtures/importance/vgg13) within the README tolerance.
import { fixtureSuite } from './fixture-suite.test-util.js';

fixtureSuite('vgg13');
