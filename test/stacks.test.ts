import { runSpecs } from './support/specs';

runSpecs('stacks');
