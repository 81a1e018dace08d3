import { ACCEPTED_RISK } from './fixtures';
import { synthBlueprint } from './synth';

let app: ReturnType<typeof synthBlueprint> | undefined;

/**
 * A blueprint whose development segment `dev` reaches allowlisted domains under an accepted risk
 * (no default segment reaches the internet), zones resolved at deploy time, beside a single-zone
 * training segment `lonely`; no corporate ranges, one IPS category in IDS mode and one off, no
 * managed threat groups. Synthesized once for the specs of a group that read it.
 */
export function allowlistedApp(): ReturnType<typeof synthBlueprint> {
  app ??= synthBlueprint({
    config: {
      corporateCidrs: [],
      segments: [
        {
          name: 'dev',
          kind: 'development',
          vpcCidr: '10.100.0.0/16',
          egressAllowlist: ['pypi.org', '.example.org'],
          ips: { crossSegment: 'alert', externalDns: 'off' },
          managedThreatGroups: [],
        },
        { name: 'lonely', kind: 'training', vpcCidr: '10.101.0.0/16', azCount: 1 },
      ],
      acceptedRisks: [{ ...ACCEPTED_RISK, opening: 'path dev -> internet: via-firewall' }],
    },
  });
  return app;
}
