import { defaultStackIds, readTemplateJson } from '../support/default-app';

/** CloudFormation refuses a template of more than 500 resources; the design keeps each under 300. */
const DESIGN_LIMIT = 300;

test.each(defaultStackIds())('default stack %s stays under the design limit of resources', (stackId) => {
  const resources = Object.keys(readTemplateJson(stackId).Resources as object);
  expect(resources.length).toBeGreaterThan(0);
  expect(resources.length).toBeLessThanOrEqual(DESIGN_LIMIT);
});
