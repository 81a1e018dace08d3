import { runSpecs } from './support/specs';

runSpecs('constructs');
