import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_SEGMENTS } from '../../lib/config/schema';
import { AWS_SERVICE_DOMAINS } from '../../lib/constructs/segment-dns-firewall';
import { defaultTemplate, exampleAppDir, readTemplateJson } from '../support/default-app';
import { EXAMPLE_DEVELOPMENT_ALLOWLIST } from '../support/expected-controls';
import { synthBlueprint } from '../support/synth';
import { only, type Resource } from '../support/template';

type DnsRule = {
  Action: string;
  Priority: number;
  BlockResponse?: string;
  FirewallDomainListId?: unknown;
  DnsThreatProtection?: string;
  ConfidenceThreshold?: string;
};

/** The rules of a template's DNS firewall rule group, in evaluation order, with their domain lists. */
function dnsRules(template: Template) {
  const [, group] = only(template, 'AWS::Route53Resolver::FirewallRuleGroup');
  const lists = template.findResources('AWS::Route53Resolver::FirewallDomainList') as Record<
    string,
    Resource
  >;
  return [...(group.Properties?.FirewallRules as DnsRule[])]
    .sort((a, b) => a.Priority - b.Priority)
    .map((rule) => {
      const listRef = (rule.FirewallDomainListId as { 'Fn::GetAtt'?: string[] } | undefined)?.[
        'Fn::GetAtt'
      ]?.[0];
      const domains = listRef ? (lists[listRef]?.Properties?.Domains as string[]) : undefined;
      return { ...rule, domains };
    });
}

const asDnsNames = (allowlist: readonly string[]) =>
  allowlist.flatMap((d) => (d.startsWith('.') ? [d.slice(1), `*${d}`] : [d]));

describe.each(DEFAULT_SEGMENTS.map((s) => [s.name, s.kind] as const))('segment %s (%s)', (name, kind) => {
  const template = defaultTemplate(`Network-${name}`);
  const [vpcId] = only(template, 'AWS::EC2::VPC');
  const rules = dnsRules(template);

  test('blocks DNS tunnelling and generated domains, allows its names, then blocks everything else', () => {
    expect(
      rules.map((r) => [r.Action, r.DnsThreatProtection ?? (r.domains?.[0] === '*' ? '*' : 'allowed')]),
    ).toEqual([
      ['BLOCK', 'DGA'],
      ['BLOCK', 'DNS_TUNNELING'],
      ['ALLOW', 'allowed'],
      ['BLOCK', '*'],
    ]);
    for (const rule of rules.filter((r) => r.Action === 'BLOCK')) expect(rule.BlockResponse).toBe('NXDOMAIN');
    expect(rules.at(-1)?.domains).toEqual(['*']);
  });

  const inRegion = (prefix: string) => ({
    'Fn::Join': ['', [prefix, { Ref: 'AWS::Region' }, '.sagemaker.aws']],
  });
  // Studio's and notebooks' private DNS names answer under sagemaker.aws, not amazonaws.com.
  const studio = [inRegion('*.notebook.'), inRegion('*.studio.')];
  const allowed = kind === 'development' ? [...AWS_SERVICE_DOMAINS, ...studio] : [...AWS_SERVICE_DOMAINS];
  test(`resolves only AWS service names${kind === 'development' ? " and Studio's names" : ''}: no segment has an allowlist by default`, () => {
    expect(rules.find((r) => r.Action === 'ALLOW')?.domains).toEqual(allowed);
  });

  test('is associated with the VPC, protected against changes', () => {
    template.hasResourceProperties('AWS::Route53Resolver::FirewallRuleGroupAssociation', {
      VpcId: { Ref: vpcId },
      MutationProtection: 'ENABLED',
    });
  });

  test('logs every query of the VPC to its encrypted log group in the audit stack', () => {
    const [configId, config] = only(template, 'AWS::Route53Resolver::ResolverQueryLoggingConfig');
    expect(JSON.stringify(config.Properties?.DestinationArn)).toMatch(
      new RegExp(`:logs:.*log-group:.*DnsQueries${name}LogGroup`),
    );
    template.hasResourceProperties('AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation', {
      ResolverQueryLogConfigId: { 'Fn::GetAtt': [configId, 'Id'] },
      ResourceId: { Ref: vpcId },
    });
  });
});

test("an allowlisted segment (the example's development, under its accepted risk) also resolves its allowlist's names, trusting the names a CNAME chain leads to", () => {
  const template = Template.fromJSON(readTemplateJson('Network-development', exampleAppDir()));
  const allow = dnsRules(template).find((r) => r.Action === 'ALLOW');
  expect(allow?.domains).toEqual([
    ...AWS_SERVICE_DOMAINS,
    ...['*.notebook.', '*.studio.'].map((p) => `${p}eu-west-1.sagemaker.aws`),
    ...['research.acme.internal', '*.research.acme.internal'],
    ...asDnsNames(EXAMPLE_DEVELOPMENT_ALLOWLIST),
  ]);
  expect(allow).toMatchObject({ FirewallDomainRedirectionAction: 'TRUST_REDIRECTION_DOMAIN' });
});

describe('configured managed domain lists and internal zones', () => {
  const { blueprint } = synthBlueprint({
    config: {
      dnsFirewall: { managedDomainListIds: ['rslvr-fdl-0123456789abcdef', 'rslvr-fdl-fedcba9876543210'] },
      segments: [
        {
          name: 'study',
          kind: 'training',
          vpcCidr: '10.50.0.0/16',
          internalDnsZones: ['research.example.internal'],
        },
      ],
    },
  });
  const rules = dnsRules(Template.fromStack(blueprint.networks.get('study')!));

  test('the AWS managed lists are blocked before anything else', () => {
    expect(rules.slice(0, 2)).toEqual([
      expect.objectContaining({ Action: 'BLOCK', FirewallDomainListId: 'rslvr-fdl-0123456789abcdef' }),
      expect.objectContaining({ Action: 'BLOCK', FirewallDomainListId: 'rslvr-fdl-fedcba9876543210' }),
    ]);
  });

  test('internal zones and their subdomains resolve', () => {
    expect(rules.find((r) => r.Action === 'ALLOW')?.domains).toEqual([
      ...AWS_SERVICE_DOMAINS,
      'research.example.internal',
      '*.research.example.internal',
    ]);
  });
});
