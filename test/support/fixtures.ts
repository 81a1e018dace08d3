/**
 * The config fields a deployable (account-bound) configuration must carry: account, region,
 * zone names and the managed DNS lists, none of which synth may look up.
 */
export const DEPLOYABLE = {
  environment: {
    account: '123456789012',
    region: 'eu-west-1',
    availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
  },
  dnsFirewall: { managedDomainListIds: [] },
} as const;

/** An accepted risk of the config, as a reviewer writes one. */
export const ACCEPTED_RISK = {
  id: 'AR-1',
  opening: 'path * -> internet: *',
  reason: 'Egress to the vendor mirror while the package mirror is built',
  approvedBy: 'CISO',
  expires: '2027-06-30',
};
