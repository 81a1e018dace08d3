/**
 * Browser tests (`*.browser.ts`): the HTML report in Debian's Chromium. A step of its own in CI
 * (`npm run test:browser`), not part of `npm test`.
 * @type {import('jest').Config}
 */
module.exports = { ...require('./jest.config.js'), testMatch: ['**/*.browser.ts'] };
