import { defaultStackIds, readTemplateJson } from './support/default-app';

/**
 * Every template of the default blueprint, so that a reviewer sees each change to what will be
 * deployed. Asset hashes are normalised by the template serializer.
 */
describe('default blueprint templates', () => {
  test('has the audit, mirrors, data and identity stacks, a network stack per segment, a workload stack for development', () => {
    expect(defaultStackIds().sort()).toEqual([
      'Audit',
      'Data',
      'Identity',
      'InferenceApi',
      'Mirrors',
      'Network-development',
      'Network-inference',
      'Network-pipeline',
      'Network-training',
      'Pipeline',
      'Workload-development',
    ]);
  });

  test.each(defaultStackIds())('%s', (stackId) => {
    expect(readTemplateJson(stackId)).toMatchSnapshot();
  });

  test.each(defaultStackIds())('%s stays far below the CloudFormation resource limit', (stackId) => {
    expect(Object.keys(readTemplateJson(stackId).Resources as object).length).toBeLessThanOrEqual(300);
  });
});
