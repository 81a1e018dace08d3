import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAssembly, type Assembly } from '../../../lib/tools/verify/assembly';
import {
  addIgwRoute,
  defaultAssembly,
  exampleAssembly,
  passesAfter,
  WHILE_EXAMPLE_RISK_LIVES,
  idOf,
  resources,
  stack,
  violationsAfter,
} from '../../support/assembly';
import { Resolver } from '../../../lib/tools/verify/resolve';
import { describeOversized, oversizedPolicies, policySizes } from '../../../lib/tools/verify/policy-size';
import {
  acknowledgementGroups,
  readableReferences,
  renderMarkdown,
  verify,
  type VerificationReport,
  writeReport,
} from '../../../lib/tools/verify/verify';
import { EXAMPLE_DEVELOPMENT_ALLOWLIST } from '../../support/expected-controls';
import { acceptancesOf, diffPosture, renderDiffMarkdown } from '../../../lib/tools/verify/diff';
import { IPS_CATEGORIES } from '../../../lib/config/network-defaults';
import { categoryRules } from '../../../lib/firewall/ips-rules';
import { defaultAppDir, exampleAppDir } from '../../support/default-app';
import { main } from '../../../scripts/verify';

const ROOT = join(__dirname, '..', '..', '..');

describe('the default blueprint', () => {
  let report: VerificationReport;
  beforeAll(async () => {
    report = await verify(readAssembly(defaultAppDir()));
  });

  test('every invariant holds', () => {
    expect(report.invariants.filter((i) => !i.passed)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.unresolved).toEqual([]);
  });

  test('the reachability matrix: no segment reaches the internet, another segment or the corporate network', () => {
    const segments = ['development', 'inference', 'pipeline', 'training'];
    const row = (internet: string) => ({
      ...Object.fromEntries(segments.map((s) => [s, 'none'])),
      internet,
      corporate: 'none',
    });
    expect(report.reachability.matrix).toEqual({
      development: row('none'),
      inference: row('none'),
      pipeline: row('none'),
      training: row('none'),
    });
    expect(report.reachability.inbound).toEqual(Object.fromEntries(segments.map((s) => [s, 'none'])));
    expect(report.reachability.ports).toEqual({});
    expect(renderMarkdown(report)).toContain(
      '| development | (itself) | none | none | none | none | none | none |',
    );
  });

  test('the access matrix: raw read by pseudonymization alone, models written by training and read by inference', () => {
    const readers = (zone: string) =>
      Object.entries(report.access.rows)
        .filter(([, row]) => row[zone]?.includes('R'))
        .map(([role]) => role)
        .sort();
    expect(readers('raw')).toEqual(['aiseg-pseudonymization']);
    expect(readers('quarantine')).toEqual([]);
    expect(readers('models')).toEqual(['aiseg-inference-sagemaker']);
    expect(report.access.rows['aiseg-training-sagemaker']).toMatchObject({
      models: 'W',
      curated: 'R',
      raw: '-',
    });
    expect(readers('curated')).toEqual([
      'aiseg-data-scientist',
      'aiseg-development-sagemaker',
      'aiseg-training-sagemaker',
    ]);
    // The stage reads raw and writes curated and quarantine, and is the only writer of curated.
    expect(report.access.rows['aiseg-pseudonymization']).toEqual({
      raw: 'R',
      curated: 'W',
      models: '-',
      quarantine: 'W',
    });
    expect(
      Object.entries(report.access.rows)
        .filter(([, row]) => row.curated?.includes('W'))
        .map(([role]) => role),
    ).toEqual(['aiseg-pseudonymization']);
  });

  test('the exfiltration matrix: neither pii nor phi has a way out (no segment reaches the internet)', () => {
    const ways = (zone: string) =>
      report.exfiltration
        .filter((row) => row.zone === zone)
        .map(
          (row) =>
            `${row.principal} from ${row.origin}: ${row.ways.map((w) => `${w.kind} ${w.declaredBy ?? 'UNDECLARED'}`).join('; ') || 'none'}`,
        );
    // Curated's readers (the bucket policy names three roles) from each endpoint its perimeter admits
    // (development, pipeline, training): none of them has a way out.
    expect(ways('curated')).toEqual(
      ['aiseg-data-scientist', 'aiseg-development-sagemaker', 'aiseg-training-sagemaker'].flatMap((role) => [
        `${role} from development: none`,
        `${role} from pipeline: none`,
        `${role} from training: none`,
      ]),
    );
    expect(ways('raw')).toEqual(['aiseg-pseudonymization from pipeline: none']);
    expect(ways('quarantine')).toEqual([]);
    expect(renderMarkdown(report)).toContain('| pii | curated | aiseg-data-scientist | development | none |');
  });

  test('the report lists every rule-pack acknowledgement with its reason, and a control map', () => {
    expect(report.ruleFindings.open).toEqual([]);
    expect(report.ruleFindings.acknowledged.length).toBeGreaterThan(20);
    for (const f of report.ruleFindings.acknowledged) expect((f.reason ?? '').length).toBeGreaterThan(30);
    for (const c of report.controlMap) {
      expect(c.hipaa.length + c.nist.length).toBeGreaterThan(0);
      expect(c.resources.length).toBeGreaterThan(0);
    }
    const md = renderMarkdown(report);
    for (const heading of [
      '## Invariants',
      '## Reachability',
      '## Data access',
      '## Network',
      '## Rule packs',
      '## Control map',
    ]) {
      expect(md).toContain(heading);
    }
    // No segment has a way to the internet: the diagram draws none.
    expect(md).toMatch(/```mermaid\nflowchart LR[\s\S]*s0_workload --> s0_firewall/);
    expect(md).not.toContain('--> net_internet');
  });

  test('writes report.md and report.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiseg-verify-'));
    writeReport(report, dir);
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))).toMatchObject({ passed: true });
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('every invariant holds');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<pre class="mermaid">flowchart LR');
    expect(html).toContain("content=\"default-src 'none'; script-src 'unsafe-inline'");
    expect(html).toMatch(/<th>#<\/th>\s*<th>HIPAA Security Rule<\/th>/);
  });
});

describe('the network diagram, as Mermaid itself reads it', () => {
  /** The diagram of report.md, parsed by Mermaid in a child process. */
  const parsed = (md: string) => {
    const diagram = /```mermaid\n([\s\S]*?)```/.exec(md)?.[1] ?? '';
    const run = spawnSync(process.execPath, [join(ROOT, 'test', 'support', 'mermaid-check.mjs')], {
      input: diagram,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    return JSON.parse(run.stdout) as {
      vertices: { id: string; label: string }[];
      subgraphs: { id: string; title: string; nodes: string[] }[];
      edges: { from: string; to: string }[];
    };
  };

  test("segments named like the diagram's own nodes and keywords stay apart: one subgraph each, one internet node", async () => {
    const renamed: Record<string, string> = {
      development: 'internet',
      'training-cardiology': 'end',
      inference: 'corporate',
      'clinical-pipeline': 'default',
    };
    const assembly = exampleAssembly();
    for (const s of assembly.stacks) {
      for (const r of Object.values(resources(s))) {
        const tags = r.Properties?.Tags;
        for (const tag of (Array.isArray(tags) ? tags : []) as { Key: string; Value: string }[]) {
          if (tag.Key === 'ai-segmentation:segment' && renamed[tag.Value]) tag.Value = renamed[tag.Value];
        }
      }
    }
    const diagram = parsed(renderMarkdown(await verify(assembly, { generatedAt: WHILE_EXAMPLE_RISK_LIVES })));
    expect(diagram.subgraphs.map((g) => g.title).sort()).toEqual([
      'corporate (inference) 10.103.0.0/16',
      'default (pipeline) 10.104.0.0/16',
      'end (training) 10.102.0.0/16',
      'internet (development) 10.100.0.0/16',
      'training-oncology (training) 10.101.0.0/16',
    ]);
    for (const g of diagram.subgraphs) expect(g.nodes.length).toBeGreaterThanOrEqual(2);
    const internet = diagram.vertices.filter((v) => v.label === 'internet' && !v.id.startsWith('s'));
    expect(internet).toEqual([{ id: 'net_internet', label: 'internet' }]);
    // The segment named internet reaches the internet node through its firewall, as the example's development does.
    const segment = diagram.subgraphs.find((g) => g.title.startsWith('internet '))!.id;
    expect(diagram.edges).toEqual(
      expect.arrayContaining([
        { from: `${segment}_workload`, to: `${segment}_firewall` },
        { from: `${segment}_public`, to: 'net_internet' },
      ]),
    );
  });
});

describe('what a reviewer reads first', () => {
  let report: VerificationReport;
  let md: string;
  beforeAll(async () => {
    report = await verify(readAssembly(defaultAppDir()), {
      configSource: 'built-in defaults',
      commit: '0123456789abcdef0123456789abcdef01234567',
      generatedAt: '2026-12-01T00:00:00.000Z',
      tools: { 'ai-segmentation-blueprint': '0.1.0' },
    });
    md = renderMarkdown(report);
  });

  test('provenance at the top: config, environment, prefix, commit, date, assembly hash, tools', async () => {
    expect(report.provenance).toMatchObject({
      configSource: 'built-in defaults',
      environment: 'environment-agnostic',
      namePrefix: 'aiseg',
      commit: '0123456789abcdef0123456789abcdef01234567',
      generatedAt: '2026-12-01T00:00:00.000Z',
      cloudAssemblySchema: expect.stringMatching(/^\d+\.\d+\.\d+$/) as unknown,
    });
    expect(report.provenance.assemblyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(md.indexOf('| assembly SHA-256 |')).toBeLessThan(md.indexOf('## Invariants'));
    const bound = (await verify(readAssembly(exampleAppDir()))).provenance;
    expect(bound).toMatchObject({ environment: '123456789012/eu-west-1', namePrefix: 'acme-ai' });
    expect(bound.assemblyHash).not.toBe(report.provenance.assemblyHash);
  });

  test('the config: as the build recorded it, as --config names it, and both when they differ', async () => {
    const recorded = defaultAssembly();
    const audit = stack(recorded, 'Audit');
    (audit.template as { Metadata?: Record<string, unknown> }).Metadata = {
      'ai-segmentation:config-source': 'config/example.json',
    };
    expect((await verify(recorded)).provenance.configSource).toBe(
      'config/example.json (recorded by the build)',
    );
    expect((await verify(recorded, { configSource: 'config/example.json' })).provenance.configSource).toBe(
      'config/example.json',
    );
    expect((await verify(recorded, { configSource: 'my.json' })).provenance.configSource).toBe(
      'my.json (the build recorded config/example.json)',
    );
    const unrecorded = defaultAssembly();
    delete (stack(unrecorded, 'Audit').template as { Metadata?: unknown }).Metadata;
    expect((await verify(unrecorded)).provenance.configSource).toBe(
      'not recorded by the build, and not given with --config',
    );
  });

  test('the allowed domains per segment, corporate ranges, retention, Object Lock, detectors, subscribers', () => {
    expect(report.summary.allowedDomains).toEqual({
      development: [],
      training: [],
      inference: [],
      pipeline: [],
    });
    expect(report.summary.corporateRanges).toEqual(['172.16.0.0/12', '192.168.0.0/16']);
    expect(Object.keys(report.summary.logRetentionDays)).toEqual(['2192']);
    expect(report.summary.objectLock).toContainEqual({
      bucket: expect.stringMatching(/^Audit\/AuditBucket/) as unknown,
      defaultRetention: 'COMPLIANCE 2192 days',
    });
    expect(report.summary.detectiveServices).toEqual({
      GuardDuty: true,
      'Security Hub': true,
      'AWS Config': true,
      'IAM Access Analyzer': true,
    });
    expect(Object.values(report.summary.topicSubscriptions)).toEqual([0]);
    expect(md).toContain('| internet domains of training | none: no internet path |');
    expect(md).toContain('| internet domains of development | none: no internet path |');
    expect(md).toContain('## Accepted risks\n\nNone: the config accepts no risk.');
  });

  test('acknowledgements: one row per rule and reason with a count, no CloudFormation JSON in the report', () => {
    const groups = acknowledgementGroups(report.ruleFindings.acknowledged);
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(report.ruleFindings.acknowledged.length);
    expect(groups.length).toBeLessThan(report.ruleFindings.acknowledged.length / 2);
    expect(new Set(groups.map((g) => JSON.stringify([g.pack, g.rule, g.reason]))).size).toBe(groups.length);
    for (const g of groups) expect(g.rule).not.toContain('[');
    expect(md).not.toContain('"Fn::');
    expect(md).not.toContain('{"Ref"');
  });

  test('CloudFormation references in finding ids are written as ${...}', () => {
    expect(
      readableReferences(
        'Resource::{"Fn::GetStackOutput":{"StackName":"aiseg-data","Region":{"Ref":"AWS::Region"},"OutputName":"ZoneArn"}}/*',
      ),
    ).toBe('Resource::${aiseg-data output ZoneArn}/*');
    expect(readableReferences('Resource::{"Fn::GetAtt":["Bucket","Arn"]}/*')).toBe(
      'Resource::${Bucket.Arn}/*',
    );
    expect(readableReferences('Resource::<Bucket.Arn>/{not json}')).toBe('Resource::<Bucket.Arn>/{not json}');
  });
});

describe('a firewall on the path is a control only if it drops what no rule allows', () => {
  const policyOf = (a: Assembly, segment: string) => {
    const t = stack(a, `Network-${segment}`);
    return resources(t)[idOf(t, 'AWS::NetworkFirewall::FirewallPolicy')].Properties.FirewallPolicy as Record<
      string,
      unknown
    >;
  };

  test('a training policy without stateful default actions: unmatched traffic passes', async () => {
    const found = await violationsAfter((a) => {
      delete policyOf(a, 'training').StatefulDefaultActions;
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 3,
        stack: 'Network-training',
        logicalId: expect.stringMatching(/^FirewallPolicy/) as unknown,
        detail:
          'segment training: stateful default actions [] let unmatched traffic pass (expected aws:drop_strict)',
      }),
    );
  });

  test('a training policy that drops only established flows: the kind without internet needs drop_strict', async () => {
    const found = await violationsAfter((a) => {
      policyOf(a, 'training').StatefulDefaultActions = ['aws:drop_established', 'aws:alert_established'];
    });
    expect(found.map((v) => v.detail)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^segment training: stateful default actions .* let unmatched traffic pass/),
      ]),
    );
  });

  test("the example's allowlisted development alerting on unmatched traffic without dropping it", async () => {
    const found = await violationsAfter((a) => {
      policyOf(a, 'development').StatefulDefaultActions = ['aws:alert_established'];
    }, exampleAssembly);
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 3,
        stack: 'Network-development',
        detail:
          'segment development: stateful default actions ["aws:alert_established"] let unmatched traffic pass (expected aws:drop_strict or aws:drop_established)',
      }),
    );
  });

  test('a pass-everything rule group at priority 1 in training', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Network-training');
      resources(t).PassEverything = {
        Type: 'AWS::NetworkFirewall::RuleGroup',
        Properties: {
          Capacity: 10,
          RuleGroupName: 'pass-everything',
          Type: 'STATEFUL',
          RuleGroup: {
            RulesSource: { RulesString: 'pass ip any any -> any any (msg:"all"; sid:1; rev:1;)' },
            StatefulRuleOptions: { RuleOrder: 'STRICT_ORDER' },
          },
        },
      };
      (policyOf(a, 'training').StatefulRuleGroupReferences as unknown[]).unshift({
        Priority: 1,
        ResourceArn: { 'Fn::GetAtt': ['PassEverything', 'RuleGroupArn'] },
      });
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 3,
        stack: 'Network-training',
        logicalId: 'PassEverything',
        detail:
          'segment training: rule group at priority 1 passes traffic by a rule of its own: pass ip any any -> any any (msg:"all"; sid:1; rev:1;)',
      }),
    );
  });

  test("the example development's domain allowlist added to a training policy", async () => {
    const found = await violationsAfter((a) => {
      const dev = stack(a, 'Network-development');
      const t = stack(a, 'Network-training-oncology');
      // The domain list itself, not the alerts before it.
      resources(t).Allowlist = Object.values(resources(dev)).find(
        (r) =>
          r.Type === 'AWS::NetworkFirewall::RuleGroup' &&
          JSON.stringify(r.Properties).includes('RulesSourceList'),
      )!;
      (policyOf(a, 'training-oncology').StatefulRuleGroupReferences as unknown[]).push({
        Priority: 1000,
        ResourceArn: { 'Fn::GetAtt': ['Allowlist', 'RuleGroupArn'] },
      });
    }, exampleAssembly);
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 3,
        logicalId: 'Allowlist',
        detail: 'segment training-oncology: a domain allowlist in a segment that declares no internet egress',
      }),
    );
  });

  test('a stateless default that passes packets past the stateful engine', async () => {
    const found = await violationsAfter((a) => {
      policyOf(a, 'inference').StatelessDefaultActions = ['aws:pass'];
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 3,
        stack: 'Network-inference',
        detail:
          'segment inference: StatelessDefaultActions is ["aws:pass"]: packets skip the stateful engine (expected aws:forward_to_sfe)',
      }),
    );
  });

  describe('with the IPS modes of a config', () => {
    const categoryOfSid = new Map(
      IPS_CATEGORIES.flatMap((category) =>
        categoryRules(category).map((rule) => [rule.sid, category] as const),
      ),
    );
    const allDrop = Object.fromEntries(IPS_CATEGORIES.map((c) => [c, 'drop']));
    const modes = (training: Record<string, string> = {}) => ({
      development: allDrop,
      training: { ...allDrop, ...training },
      inference: allDrop,
      pipeline: allDrop,
    });
    const ipsFaults = async (assembly: Assembly, training?: Record<string, string>) =>
      (await verify(assembly, { ips: { modes: modes(training), categoryOfSid } })).invariants
        .flatMap((i) => i.violations)
        .filter((v) => v.detail.includes('IPS category'));

    test('the default app acts as the default config says (every category drops)', async () => {
      expect(await ipsFaults(defaultAssembly())).toEqual([]);
    });

    test('a config that says alert where the firewall drops, and off where rules are loaded', async () => {
      const found = await ipsFaults(defaultAssembly(), { crossSegment: 'alert', externalDns: 'off' });
      expect(found.map((v) => v.detail)).toEqual(
        expect.arrayContaining([
          'segment training: IPS category crossSegment is in alert mode in the config, but rule 1000101 is loaded as drop',
          'segment training: IPS category externalDns is off in the config, but rule 1000401 is loaded (drop)',
        ]),
      );
      expect(
        found.every((v) => v.stack === 'Network-training' && v.logicalId.startsWith('FirewallIpsRules')),
      ).toBe(true);
    });

    test('a training rule turned from drop to alert in the template, the config saying drop', async () => {
      const assembly = defaultAssembly();
      const t = stack(assembly, 'Network-training');
      const group = resources(t)[idOf(t, 'AWS::NetworkFirewall::RuleGroup', 'FirewallIpsRules')].Properties
        .RuleGroup as { RulesSource: { RulesString: string } };
      group.RulesSource.RulesString = group.RulesSource.RulesString.replace(
        /^drop (ip \$HOME_NET any -> \$OTHER_SEGMENTS)/m,
        'alert $1',
      );
      expect((await ipsFaults(assembly)).map((v) => v.detail)).toEqual([
        'segment training: IPS category crossSegment is in drop mode in the config, but rule 1000101 is loaded as alert',
      ]);
    });
  });

  test('a public IP on launch in a segment with no internet gateway', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Network-training');
      resources(t)[idOf(t, 'AWS::EC2::Subnet', 'SegmentVpcworkloadSubnet1')].Properties.MapPublicIpOnLaunch =
        true;
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 2,
        stack: 'Network-training',
        logicalId: expect.stringMatching(/^SegmentVpcworkloadSubnet1Subnet/) as unknown,
        detail:
          'subnet assigns public IPs on launch (reachable as soon as a route to an internet gateway is added)',
      }),
    );
  });

  test('the flow log to the Object-Lock archive removed (the CloudWatch copy remains)', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Network-training');
      delete resources(t)[idOf(t, 'AWS::EC2::FlowLog', 'SegmentFlowLogToAuditBucket')];
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 4,
        stack: 'Network-training',
        logicalId: expect.stringMatching(/^SegmentVpc/) as unknown,
        detail: 'VPC flow logs do not reach the Object-Lock archive (an S3 bucket with Object Lock)',
      }),
    );
  });

  test("the example development's allowlist without the alerts before it: allowed flows would pass unseen", async () => {
    const found = await violationsAfter((a) => {
      const policy = policyOf(a, 'development') as { StatefulRuleGroupReferences: { Priority: number }[] };
      policy.StatefulRuleGroupReferences = policy.StatefulRuleGroupReferences.filter(
        (ref) => ref.Priority !== 900,
      );
    }, exampleAssembly);
    const unseen = found.filter((v) => v.invariant === 4);
    expect(unseen).toContainEqual({
      invariant: 4,
      stack: 'Network-development',
      logicalId: expect.stringMatching(/^FirewallAllowlist[0-9A-F]/) as unknown,
      detail:
        'segment development: the allowlist passes TLS flows to conda.anaconda.org without an alert rule before it',
    });
    expect(unseen).toHaveLength(2 * EXAMPLE_DEVELOPMENT_ALLOWLIST.length);
  });

  test('the archive bucket without Object Lock', async () => {
    const found = await violationsAfter((a) => {
      const audit = stack(a, 'Audit');
      const bucket = resources(audit)[idOf(audit, 'AWS::S3::Bucket', 'AuditBucket')];
      bucket.Properties.ObjectLockEnabled = false;
    });
    expect(
      found
        .filter((v) => v.detail.startsWith('VPC flow logs do not reach'))
        .map((v) => v.stack)
        .sort(),
    ).toEqual(['Network-development', 'Network-inference', 'Network-pipeline', 'Network-training']);
  });
});

describe('every way a path or a grant can open is found, and named', () => {
  test('an internet gateway route added to a training subnet', async () => {
    const found = await violationsAfter((a) => addIgwRoute(a, 'Network-training', '198.51.100.0/24'));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ invariant: 2, stack: 'Network-training', logicalId: 'IgwRoute' }),
      ]),
    );
  });

  test('a NAT route that skips the firewall', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Network-development');
      const route = resources(t)[idOf(t, 'AWS::EC2::Route', 'SegmentVpcworkloadSubnet1DefaultViaFirewall')];
      delete route.Properties.VpcEndpointId;
      route.Properties.NatGatewayId = { Ref: idOf(t, 'AWS::EC2::NatGateway', 'SegmentVpcpublicSubnet1') };
    }, exampleAssembly);
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 3,
        logicalId: expect.stringMatching(/^SegmentVpcworkloadSubnet1DefaultViaFirewall/) as unknown,
        detail: expect.stringMatching(/without passing a firewall endpoint/) as unknown,
      }),
    );
  });

  test('a peering connection to a VPC outside the assembly', async () => {
    const found = await violationsAfter((a) => {
      const dev = stack(a, 'Network-development');
      resources(dev).Peering = {
        Type: 'AWS::EC2::VPCPeeringConnection',
        Properties: { VpcId: { Ref: idOf(dev, 'AWS::EC2::VPC', 'SegmentVpc') }, PeerVpcId: 'vpc-0123' },
      };
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 1,
        logicalId: 'Peering',
        detail: 'peering connects a segment to a VPC outside the assembly',
      }),
    );
  });

  test('a peering connection between two segments, unless the flow is declared in the template metadata', async () => {
    const assembly = defaultAssembly();
    const dev = stack(assembly, 'Network-development');
    const training = stack(assembly, 'Network-training');
    resources(dev).Peering = {
      Type: 'AWS::EC2::VPCPeeringConnection',
      Properties: {
        VpcId: { Ref: idOf(dev, 'AWS::EC2::VPC', 'SegmentVpc') },
        PeerVpcId: {
          'Fn::GetStackOutput': { StackName: 'aiseg-network-training', OutputName: 'TrainingVpc' },
        },
      },
    };
    (training.template as { Outputs?: Record<string, unknown> }).Outputs = {
      ...training.template.Outputs,
      TrainingVpc: { Value: { Ref: idOf(training, 'AWS::EC2::VPC', 'SegmentVpc') } },
    };
    const undeclared = (await verify(assembly)).invariants[0].violations;
    expect(undeclared).toContainEqual(
      expect.objectContaining({
        logicalId: 'Peering',
        detail: 'peering connects segments development and training',
      }),
    );
    (dev.template as { Metadata?: Record<string, unknown> }).Metadata = {
      'ai-segmentation': {
        corporateCidrs: [],
        declaredFlows: [{ from: 'development', to: 'training', ports: 'tcp/443' }],
      },
    };
    expect(
      (await verify(assembly)).invariants[0].violations.filter((v) => v.logicalId === 'Peering'),
    ).toEqual([]);
  });

  test('a transit gateway attachment', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Network-inference');
      resources(t).Attachment = {
        Type: 'AWS::EC2::TransitGatewayAttachment',
        Properties: { VpcId: { Ref: idOf(t, 'AWS::EC2::VPC') }, TransitGatewayId: 'tgw-0123', SubnetIds: [] },
      };
    });
    expect(found).toContainEqual(expect.objectContaining({ invariant: 1, logicalId: 'Attachment' }));
  });

  test('a 0.0.0.0/0 ingress rule', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Network-training');
      const sg = resources(t)[idOf(t, 'AWS::EC2::SecurityGroup', 'SegmentWorkloadSecurityGroup')];
      sg.Properties.SecurityGroupIngress = [
        { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 22, ToPort: 22 },
      ];
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 2,
        logicalId: expect.stringMatching(/^SegmentWorkloadSecurityGroup/) as unknown,
      }),
    );
  });

  test('a public IP on launch', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Network-development');
      resources(t)[idOf(t, 'AWS::EC2::Subnet', 'SegmentVpcpublicSubnet1')].Properties.MapPublicIpOnLaunch =
        true;
    }, exampleAssembly);
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 2,
        logicalId: expect.stringMatching(/^SegmentVpcpublicSubnet1Subnet/) as unknown,
      }),
    );
  });

  test('a network ACL that allows everything first', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Network-training');
      resources(t).AllowAll = {
        Type: 'AWS::EC2::NetworkAclEntry',
        Properties: {
          NetworkAclId: { Ref: idOf(t, 'AWS::EC2::NetworkAcl') },
          RuleNumber: 1,
          Protocol: -1,
          RuleAction: 'allow',
          Egress: false,
          CidrBlock: '0.0.0.0/0',
        },
      };
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ invariant: 1, logicalId: 'AllowAll' }),
        expect.objectContaining({ invariant: 2, logicalId: 'AllowAll' }),
      ]),
    );
  });

  test('a wildcard policy', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Identity');
      const policy = resources(t)[idOf(t, 'AWS::IAM::ManagedPolicy', 'trainingsagemakerPolicy')];
      (policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement.push({
        Effect: 'Allow',
        Action: 's3:*',
        Resource: '*',
      });
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          invariant: 7,
          detail: expect.stringMatching(/wildcard action s3:\*/) as unknown,
        }),
      ]),
    );
  });

  test('a bucket policy without TLS', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Data');
      const policy = resources(t)[idOf(t, 'AWS::S3::BucketPolicy', 'ZonerawBucketPolicy')];
      const doc = policy.Properties.PolicyDocument as { Statement: { Condition?: unknown }[] };
      doc.Statement = doc.Statement.filter(
        (s) => !JSON.stringify(s.Condition ?? {}).includes('SecureTransport'),
      );
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 5,
        stack: 'Data',
        logicalId: expect.stringMatching(/^ZonerawBucket/) as unknown,
      }),
    );
  });

  test('a key without rotation', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Data');
      resources(t)[idOf(t, 'AWS::KMS::Key', 'Keyphi')].Properties.EnableKeyRotation = false;
    });
    expect(found).toContainEqual(
      expect.objectContaining({ invariant: 5, logicalId: expect.stringMatching(/^Keyphi/) as unknown }),
    );
  });

  test('a missing flow log', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Network-inference');
      for (const [id, r] of Object.entries(resources(t)))
        if (r.Type === 'AWS::EC2::FlowLog') delete resources(t)[id];
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 4,
        stack: 'Network-inference',
        detail: 'VPC has no flow log of all traffic',
      }),
    );
  });

  test('a trail without log file validation', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Audit');
      resources(t)[idOf(t, 'AWS::CloudTrail::Trail')].Properties.EnableLogFileValidation = false;
    });
    expect(found).toContainEqual(
      expect.objectContaining({ invariant: 8, detail: 'trail does not validate its log files' }),
    );
  });

  /** Sets a role's trust policy to these statements. */
  const trusting = (a: Assembly, id: string, statements: object[]) => {
    const t = stack(a, 'Identity');
    resources(t)[idOf(t, 'AWS::IAM::Role', id)].Properties.AssumeRolePolicyDocument = {
      Version: '2012-10-17',
      Statement: statements,
    };
  };
  const allowing = (principal: string, condition?: object) => ({
    Effect: 'Allow',
    Principal: { AWS: principal },
    Action: 'sts:AssumeRole',
    ...(condition ? { Condition: condition } : {}),
  });
  const ACCOUNT_ROOT = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' };

  test('a human role without MFA', async () => {
    const found = await violationsAfter((a) =>
      trusting(a, 'datascientist', [allowing('arn:aws:iam::123456789012:role/DataScience')]),
    );
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 7,
        detail: 'human role aiseg-data-scientist can be assumed without MFA',
      }),
    );
  });

  test("a human role whose identity provider enforces MFA: only principals named by aws:PrincipalArn pass without MFA's keys", async () => {
    const federated = (a: Assembly, condition?: object) => {
      trusting(a, 'datascientist', [allowing(ACCOUNT_ROOT as never, condition)]);
      const t = stack(a, 'Identity');
      const role = resources(t)[idOf(t, 'AWS::IAM::Role', 'datascientist')];
      (role.Properties.Tags as { Key: string; Value: string }[]).push({
        Key: 'ai-segmentation:mfa',
        Value: 'identity-provider',
      });
    };
    const named = await passesAfter((a) =>
      federated(a, {
        ArnLike: {
          'aws:PrincipalArn': {
            'Fn::Sub':
              'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Data_*',
          },
        },
      }),
    );
    expect(named).toBe(true);
    const anyone = await violationsAfter((a) => federated(a));
    expect(anyone).toContainEqual(
      expect.objectContaining({
        invariant: 7,
        detail: 'human role aiseg-data-scientist can be assumed without MFA',
      }),
    );
    const everyRole = await violationsAfter((a) =>
      federated(a, {
        ArnLike: { 'aws:PrincipalArn': { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*' } },
      }),
    );
    expect(everyRole).toContainEqual(
      expect.objectContaining({
        invariant: 7,
        detail: 'human role aiseg-data-scientist can be assumed without MFA',
      }),
    );
  });

  test("ingestion trusting the account root: any principal of the account may become raw's writer", async () => {
    const found = await violationsAfter((a) => trusting(a, 'ingestion', [allowing(ACCOUNT_ROOT as never)]));
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 7,
        logicalId: expect.stringMatching(/^ingestion/) as unknown,
        detail:
          'role aiseg-ingestion trusts the account itself: any principal of it that IAM allows may assume it, not only those the config names',
      }),
    );
  });

  test('one principal who may write raw and read curated: separation of duties', async () => {
    const person = 'arn:aws:iam::123456789012:role/DataScience';
    const mfa = { Bool: { 'aws:MultiFactorAuthPresent': 'true' } };
    const found = await violationsAfter((a) => {
      trusting(a, 'datascientist', [allowing(person, mfa)]);
      trusting(a, 'ingestion', [allowing(person)]);
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 13,
        detail: expect.stringMatching(
          /^arn:aws:iam::123456789012:role\/DataScience \(may assume .*\) writes raw \(aiseg-ingestion\) and reads curated \(.*aiseg-data-scientist.*\)/,
        ) as unknown,
      }),
    );
    // Apart, they are two principals with a duty each.
    const apart = await violationsAfter((a) => {
      trusting(a, 'datascientist', [allowing(person, mfa)]);
      trusting(a, 'ingestion', [allowing('arn:aws:iam::123456789012:role/Transfer')]);
    });
    expect(apart.filter((v) => v.invariant === 13)).toEqual([]);
  });

  test('two patterns that can name one principal: separation of duties across them', async () => {
    const sso = (name: string) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/aws-reserved/sso.amazonaws.com/*/${name}`,
    });
    const federated = (a: Assembly, pipeline: string, science: string) => {
      trusting(a, 'pipelineoperator', [
        allowing(ACCOUNT_ROOT as never, { ArnLike: { 'aws:PrincipalArn': sso(pipeline) } }),
      ]);
      trusting(a, 'datascientist', [
        allowing(ACCOUNT_ROOT as never, { ArnLike: { 'aws:PrincipalArn': sso(science) } }),
      ]);
    };
    // AWSReservedSSO_DataOps_1a2b matches both.
    const found = await violationsAfter((a) => federated(a, 'AWSReservedSSO_*Ops_*', 'AWSReservedSSO_Data*'));
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 13,
        detail: expect.stringMatching(
          /AWSReservedSSO_\*Ops_\* and .*AWSReservedSSO_Data\*, which can name one principal, \(may assume .*\) writes raw \(aiseg-pipeline-operator\) and reads curated/,
        ) as unknown,
      }),
    );
    // Patterns no one principal matches: no violation of the separation.
    const apart = await violationsAfter((a) => federated(a, 'AWSReservedSSO_Ops_*', 'AWSReservedSSO_Data_*'));
    expect(apart.filter((v) => v.invariant === 13)).toEqual([]);
  });

  test('the dead-letter operator counts as a raw actor: its principal may not read curated', async () => {
    const person = 'arn:aws:iam::123456789012:role/Operations';
    const mfa = { Bool: { 'aws:MultiFactorAuthPresent': 'true' } };
    const found = await violationsAfter((a) => {
      trusting(a, 'datascientist', [allowing(person, mfa)]);
      trusting(a, 'pipelineoperator', [allowing(person, mfa)]);
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 13,
        detail: expect.stringMatching(/writes raw \(aiseg-pipeline-operator\) and reads curated/) as unknown,
      }),
    );
  });

  test('one principal who may import into the airlock and review: request and approve', async () => {
    const person = 'arn:aws:iam::123456789012:role/DataGovernance';
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Identity');
      for (const id of ['airlockimporter', 'airlockreviewer']) {
        resources(t)[idOf(t, 'AWS::IAM::Role', id)].Properties.AssumeRolePolicyDocument = {
          Version: '2012-10-17',
          Statement: [allowing(person, { Bool: { 'aws:MultiFactorAuthPresent': 'true' } })],
        };
      }
    }, exampleAssembly);
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 13,
        detail: expect.stringMatching(
          /requests airlock items \(acme-ai-airlock-importer.*\) and approves airlock items \(acme-ai-airlock-reviewer\)/,
        ) as unknown,
      }),
    );
  });

  test('a function without a code-signing configuration, or one that admits a publisher outside the assembly', async () => {
    const unsigned = await violationsAfter((a) => {
      const t = stack(a, 'Pipeline');
      delete resources(t)[idOf(t, 'AWS::Lambda::Function', 'Function')].Properties.CodeSigningConfigArn;
    });
    expect(unsigned).toContainEqual(
      expect.objectContaining({
        invariant: 14,
        stack: 'Pipeline',
        detail: expect.stringMatching(/^function has no code-signing configuration/) as unknown,
      }),
    );
    const foreign = await violationsAfter((a) => {
      const t = stack(a, 'Audit');
      resources(t)[idOf(t, 'AWS::Lambda::CodeSigningConfig')].Properties.AllowedPublishers = {
        SigningProfileVersionArns: ['arn:aws:signer:eu-west-1:444455556666:/signing-profiles/theirs/abc123'],
      };
    });
    expect(foreign).toContainEqual(
      expect.objectContaining({
        invariant: 14,
        detail: expect.stringMatching(
          /admits publishers that are no signing profile of the assembly/,
        ) as unknown,
      }),
    );
  });

  test('a stateful resource that is no longer retained', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Data');
      resources(t)[idOf(t, 'AWS::S3::Bucket', 'Zonecurated')].DeletionPolicy = 'Delete';
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 9,
        logicalId: expect.stringMatching(/^ZonecuratedBucket/) as unknown,
      }),
    );
  });

  /** Lets the training role past the raw zone's bucket policy and grants it S3 and KMS reads. */
  function openRawToTraining(a: Assembly): void {
    const t = stack(a, 'Data');
    const policy = resources(t)[idOf(t, 'AWS::S3::BucketPolicy', 'ZonerawBucketPolicy')];
    const doc = policy.Properties.PolicyDocument as { Statement: { Sid?: string }[] };
    doc.Statement = doc.Statement.filter(
      (s) => s.Sid !== 'DenyReadsButByTheZoneReaders' && s.Sid !== 'DenyDataAccessOffThePerimeter',
    );
    const identity = stack(a, 'Identity');
    const training =
      resources(identity)[idOf(identity, 'AWS::IAM::ManagedPolicy', 'trainingsagemakerPolicy')];
    (training.Properties.PolicyDocument as { Statement: unknown[] }).Statement.push(
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':s3:::aiseg-raw-',
              { Ref: 'AWS::AccountId' },
              '-',
              { Ref: 'AWS::Region' },
              '/*',
            ],
          ],
        },
      },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetStackOutput': { StackName: 'aiseg-data', OutputName: 'PhiKeyArn' } },
      },
    );
    (t.template as { Outputs?: Record<string, unknown> }).Outputs = {
      ...t.template.Outputs,
      PhiKeyArn: { Value: { 'Fn::GetAtt': [idOf(t, 'AWS::KMS::Key', 'Keyphi'), 'Arn'] } },
    };
  }

  test('the phi key policy alone still keeps a role out of raw', async () => {
    const assembly = defaultAssembly();
    openRawToTraining(assembly);
    const report = await verify(assembly);
    expect(report.access.rows['aiseg-training-sagemaker'].raw).toBe('-');
    expect(report.invariants[5].violations).toEqual([]);
  });

  test('a role that may read raw phi', async () => {
    const found = await violationsAfter((a) => {
      openRawToTraining(a);
      const t = stack(a, 'Data');
      const key = resources(t)[idOf(t, 'AWS::KMS::Key', 'Keyphi')];
      const doc = key.Properties.KeyPolicy as { Statement: { Sid?: string }[] };
      doc.Statement = doc.Statement.filter((s) => s.Sid !== 'NoOtherPrincipalUsesTheKey');
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 6,
        detail: expect.stringMatching(/aiseg-training-sagemaker can read raw phi/) as unknown,
      }),
    );
  });

  /** The statements of a zone's bucket policy or key policy in an assembly copy. */
  const statements = (a: Assembly, type: 'AWS::S3::BucketPolicy' | 'AWS::KMS::Key', prefix: string) => {
    const t = stack(a, 'Data');
    const r = resources(t)[idOf(t, type, prefix)];
    return (type === 'AWS::KMS::Key' ? r.Properties.KeyPolicy : r.Properties.PolicyDocument) as {
      Statement: { Sid?: string; [key: string]: unknown }[];
    };
  };

  test('the SourceVpce perimeter removed from raw: the stage reads phi off-network, an undeclared way out', async () => {
    const found = await violationsAfter((a) => {
      const doc = statements(a, 'AWS::S3::BucketPolicy', 'ZonerawBucketPolicy');
      doc.Statement = doc.Statement.filter((x) => x.Sid !== 'DenyDataAccessOffThePerimeter');
    });
    expect(found).toContainEqual({
      invariant: 12,
      stack: 'Data',
      logicalId: expect.stringMatching(/^ZonerawBucket/) as unknown,
      detail:
        'phi zone raw can leave by an undeclared way: aiseg-pseudonymization reads it from off-network, then off every network of the blueprint',
    });
  });

  test('curated shared with another account (bucket policy and key policy): invariants 6 and 12 name the bucket', async () => {
    const partner = { AWS: 'arn:aws:iam::444455556666:root' };
    const found = await violationsAfter((a) => {
      const bucket = statements(a, 'AWS::S3::BucketPolicy', 'ZonecuratedBucketPolicy');
      bucket.Statement = [
        ...bucket.Statement.filter((x) => x.Sid === undefined || x.Sid.startsWith('DenyUploads')),
        { Effect: 'Allow', Principal: partner, Action: 's3:GetObject', Resource: 'arn:aws:s3:::*/*' },
      ];
      const key = statements(a, 'AWS::KMS::Key', 'Keypii');
      key.Statement = [
        ...key.Statement.filter((x) => x.Sid !== 'NoOtherPrincipalUsesTheKey'),
        { Effect: 'Allow', Principal: partner, Action: 'kms:Decrypt', Resource: '*' },
      ];
    });
    const atCurated = found.filter((v) => /^ZonecuratedBucket/.test(v.logicalId));
    expect(atCurated).toContainEqual(
      expect.objectContaining({
        invariant: 6,
        detail: 'a principal in another account can read pii zone curated (R)',
      }),
    );
    expect(atCurated).toContainEqual(
      expect.objectContaining({
        invariant: 12,
        detail:
          'pii zone curated can leave by an undeclared way: a principal in another account reads it from off-network, then another account',
      }),
    );
  });

  test('the boundary without s3:GetObject: versions still read; without s3:GetObjectVersion too, no role reads, the writes remain', async () => {
    const bounded = async (removed: string[]) => {
      const assembly = defaultAssembly();
      const t = stack(assembly, 'Audit');
      const boundary = resources(t)[idOf(t, 'AWS::IAM::ManagedPolicy', 'PermissionBoundaryPolicy')];
      for (const x of (boundary.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] })
        .Statement)
        x.Action = [x.Action].flat().filter((action) => !removed.includes(action));
      return (await verify(assembly)).access.rows;
    };
    // The stage's policy also grants s3:GetObjectVersion on raw, which the boundary still allows.
    expect((await bounded(['s3:GetObject']))['aiseg-pseudonymization'].raw).toBe('R');
    const rows = await bounded(['s3:GetObject', 's3:GetObjectVersion']);
    expect(rows['aiseg-pseudonymization']).toEqual({ raw: '-', curated: 'W', models: '-', quarantine: 'W' });
    expect(rows['aiseg-data-scientist'].curated).toBe('-');
    expect(rows['aiseg-inference-sagemaker'].models).toBe('W[data-capture/]');
    expect(rows['aiseg-training-sagemaker']).toMatchObject({ curated: '-', models: 'W' });
  });

  test("the inference role writes the models zone only under data-capture/, from the endpoints the zone's perimeter admits", async () => {
    const report = await verify(defaultAssembly());
    expect(report.access.rows['aiseg-inference-sagemaker'].models).toBe('R W[data-capture/]');
    const byOrigin = report.access.cells['aiseg-inference-sagemaker'].models;
    expect(Object.keys(byOrigin).filter((o) => byOrigin[o].write.prefixes.includes('data-capture/'))).toEqual(
      ['inference', 'training'],
    );
    expect(byOrigin['off-network']).toEqual({
      read: { all: false, prefixes: [] },
      write: { all: false, prefixes: [] },
    });
  });

  test('SageMaker jobs allowed without network isolation', async () => {
    const found = await violationsAfter((a) => {
      const t = stack(a, 'Identity');
      const policy = resources(t)[idOf(t, 'AWS::IAM::ManagedPolicy', 'developmentsagemakerPolicy')];
      for (const s of (
        policy.Properties.PolicyDocument as { Statement: { Condition?: { Bool?: Record<string, string> } }[] }
      ).Statement) {
        delete s.Condition?.Bool?.['sagemaker:NetworkIsolation'];
      }
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        invariant: 10,
        detail: expect.stringMatching(/without network isolation/) as unknown,
      }),
    );
  });
});

describe('any CloudFormation output', () => {
  test('a VPC without the blueprint tags is a segment of its own, and its gaps are named', async () => {
    const template = {
      Resources: {
        Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.0.0.0/16' } },
        Subnet: {
          Type: 'AWS::EC2::Subnet',
          Properties: {
            VpcId: { Ref: 'Vpc' },
            CidrBlock: '10.0.0.0/24',
            AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
          },
        },
        Table: { Type: 'AWS::EC2::RouteTable', Properties: { VpcId: { Ref: 'Vpc' } } },
        Assoc: {
          Type: 'AWS::EC2::SubnetRouteTableAssociation',
          Properties: { SubnetId: { Ref: 'Subnet' }, RouteTableId: { Ref: 'Table' } },
        },
        Igw: { Type: 'AWS::EC2::InternetGateway', Properties: {} },
        Out: {
          Type: 'AWS::EC2::Route',
          Properties: {
            RouteTableId: { Ref: 'Table' },
            DestinationCidrBlock: '0.0.0.0/0',
            GatewayId: { Ref: 'Igw' },
          },
        },
      },
    };
    const report = await verify({ stacks: [{ id: 'Other', stackName: 'other', template }] });
    expect(report.reachability.segments).toEqual(['vpc:Other/Vpc']);
    expect(report.reachability.matrix['vpc:Other/Vpc'].internet).toBe('direct');
    const found = report.invariants.flatMap((i) => i.violations);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ invariant: 2, logicalId: 'Out' }),
        expect.objectContaining({ invariant: 3, logicalId: 'Out' }),
        expect.objectContaining({
          invariant: 4,
          logicalId: 'Vpc',
          detail: 'VPC has no flow log of all traffic',
        }),
        expect.objectContaining({ invariant: 8, detail: 'the assembly has no CloudTrail trail' }),
      ]),
    );
  });

  test('what cannot be resolved is reported and fails closed', async () => {
    const assembly = defaultAssembly();
    const t = stack(assembly, 'Network-training');
    const route = resources(t)[idOf(t, 'AWS::EC2::Route', 'SegmentVpcworkloadSubnet1')];
    route.Properties.VpcEndpointId = { 'Fn::If': ['SomeCondition', 'vpce-1', 'vpce-2'] };
    const report = await verify(assembly);
    expect(report.unresolved).toEqual([{ stack: 'Network-training', reason: 'Fn::If is not evaluated' }]);
    expect(report.passed).toBe(false);
  });
});

describe('the resolver', () => {
  const assembly: Assembly = {
    stacks: [
      {
        id: 'A',
        stackName: 'a',
        template: {
          Resources: { Thing: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'named' } } },
          Outputs: {
            Out: { Value: { 'Fn::GetAtt': ['Thing', 'Arn'] }, Export: { Name: 'ThingArn' } },
            Plain: { Value: { Ref: 'Thing' } },
          },
        },
      },
      {
        id: 'B',
        stackName: 'b',
        template: { Resources: {}, Mappings: { Buckets: { 'eu-west-1': { bucket: 'assets-1-eu-west-1' } } } },
      },
      {
        id: 'C',
        stackName: 'c',
        account: '123456789012',
        region: 'eu-west-1',
        template: { Resources: {}, Mappings: { Buckets: { 'eu-west-1': { bucket: 'assets-1-eu-west-1' } } } },
      },
    ],
  };
  const r = new Resolver(assembly);
  const b = assembly.stacks[1];

  test('Fn::FindInMap: the entry of a concrete key; keyed by a symbolic region, whichever entry the deploy picks', () => {
    const findIn = { 'Fn::FindInMap': ['Buckets', { Ref: 'AWS::Region' }, 'bucket'] };
    expect(r.resolve(findIn, b)).toBe('{map:Buckets:bucket}');
    expect(r.resolve(findIn, assembly.stacks[2])).toBe('assets-1-eu-west-1');
    expect(r.resolve({ 'Fn::FindInMap': ['Buckets', 'us-east-1', 'bucket'] }, b)).toMatch(
      /^unresolved\|Fn::FindInMap Buckets has no us-east-1\.bucket/,
    );
  });

  test("Fn::Sub takes a bound stack's account and region, and keeps an agnostic stack's symbolic", () => {
    const sub = { 'Fn::Sub': 'arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:y' };
    expect(r.resolve(sub, assembly.stacks[2])).toBe('arn:aws:x:eu-west-1:123456789012:y');
    expect(r.resolve(sub, b)).toBe('arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:y');
  });

  test.each([
    ['Fn::ImportValue', { 'Fn::ImportValue': 'ThingArn' }, 'arn:${AWS::Partition}:s3:::named'],
    ['Fn::GetStackOutput', { 'Fn::GetStackOutput': { StackName: 'a', OutputName: 'Plain' } }, 'ref|A/Thing'],
    ['Fn::Join', { 'Fn::Join': ['-', ['x', { Ref: 'AWS::Region' }]] }, 'x-${AWS::Region}'],
    ['Fn::Select of Fn::Split', { 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] }, 'b'],
    ['Fn::GetAZs', { 'Fn::Select': [2, { 'Fn::GetAZs': '' }] }, '{az2}'],
    [
      'Fn::Sub',
      { 'Fn::Sub': 'arn:${AWS::Partition}:x:${Name}' },
      'arn:${AWS::Partition}:x:${Name}'.replace(
        '${Name}',
        'unresolved|Ref to Name, which is neither a resource nor a pseudo parameter',
      ),
    ],
  ])('%s', (_name, value, expected) => {
    expect(r.resolve(value, b)).toBe(expected);
  });
});

describe("IAM's policy size quotas, measured on what CloudFormation will resolve", () => {
  /** A managed policy naming `n` log groups of another stack, whose ARNs its export carries. */
  const withLogGroups = (n: number): Assembly => {
    const groups = Object.fromEntries(
      Array.from({ length: n }, (_, i) => [
        `FunctionLogs${i}LogGroupABCDEF12`,
        { Type: 'AWS::Logs::LogGroup' },
      ]),
    );
    return {
      stacks: [
        {
          id: 'Audit',
          stackName: 'acme-ai-audit',
          template: {
            Resources: groups,
            Outputs: Object.fromEntries(
              Object.keys(groups).map((id) => [`Out${id}`, { Value: { 'Fn::GetAtt': [id, 'Arn'] } }]),
            ),
          },
        },
        {
          id: 'Identity',
          stackName: 'acme-ai-identity',
          template: {
            Resources: {
              Policy: {
                Type: 'AWS::IAM::ManagedPolicy',
                Properties: {
                  PolicyDocument: {
                    Version: '2012-10-17',
                    Statement: [
                      {
                        Effect: 'Allow',
                        Action: 'logs:FilterLogEvents',
                        Resource: Object.keys(groups).map((id) => ({
                          'Fn::GetStackOutput': { StackName: 'acme-ai-audit', OutputName: `Out${id}` },
                        })),
                      },
                    ],
                  },
                },
              },
            },
          },
        },
      ],
    };
  };
  /** An assembly of one stack `S` holding these resources. */
  const oneStack = (
    resources: NonNullable<Assembly['stacks'][number]['template']['Resources']>,
  ): Assembly => ({
    stacks: [{ id: 'S', stackName: 's', template: { Resources: resources } }],
  });
  const measure = (a: Assembly) => policySizes(a, new Resolver(a)).find((p) => p.logicalId === 'Policy')!;

  test('a reference to another stack counts as what it names: a log group ARN with its generated name at its longest', () => {
    const one = measure(withLogGroups(1));
    const two = measure(withLogGroups(2));
    // arn: + partition + :logs: + region + : + account + :log-group: + stack-logicalId-suffix + :*, quoted, a comma.
    const arn =
      'arn:aws-us-gov:logs:ap-southeast-5:123456789012:log-group:acme-ai-audit-FunctionLogs1LogGroupABCDEF12-0123456789abc:*';
    expect(two.estimate - one.estimate).toBe(arn.length + 3);
    expect(one.unbounded).toEqual([]);
    // The template's own text is no guide: the intrinsic is shorter than what it resolves to here.
    expect(one.estimate).toBeGreaterThan(
      JSON.stringify(withLogGroups(1).stacks[1].template.Resources!.Policy.Properties!.PolicyDocument)
        .length - 100,
    );
  });

  test('over 6,144 characters is a violation of invariant 7 that names the policy and the quota', () => {
    const small = withLogGroups(40);
    const large = withLogGroups(60);
    expect(oversizedPolicies(small, new Resolver(small))).toEqual([]);
    const [over] = oversizedPolicies(large, new Resolver(large));
    expect(over).toEqual(
      expect.objectContaining({ kind: 'managed', stack: 'Identity', logicalId: 'Policy', quota: 6_144 }),
    );
    expect(describeOversized(over)).toMatch(
      /^managed policy Identity\/Policy would be about [\d,]+ characters once CloudFormation resolves it, over IAM's quota of 6,144/,
    );
  });

  test('the verifier fails an assembly whose policy is over its quota', async () => {
    const violations = await violationsAfter((a) => {
      const identity = stack(a, 'Identity');
      const policy = Object.values(resources(identity)).find(
        (r) => r.Properties.ManagedPolicyName === 'aiseg-auditor-policy',
      )!;
      const document = policy.Properties.PolicyDocument as { Statement: { Resource: unknown }[] };
      document.Statement.push({
        Effect: 'Allow',
        Action: 'logs:GetLogEvents',
        Resource: Array.from(
          { length: 80 },
          (_, i) => `arn:aws:logs:eu-west-1:123456789012:log-group:/team/app-${i}/*`,
        ),
      } as never);
    });
    expect(violations).toEqual([
      expect.objectContaining({
        invariant: 7,
        stack: 'Identity',
        detail: expect.stringMatching(/^managed policy Identity\/auditorPolicy/),
      }),
    ]);
  });

  test("a role's inline policies count together, and a trust policy against its own quota", () => {
    const statement = (n: number) => ({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: Array.from({ length: n }, (_, i) => `arn:aws:s3:::bucket-with-a-long-name-${i}/*`),
    });
    const a = oneStack({
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: 'r',
          AssumeRolePolicyDocument: {
            Statement: [
              {
                Effect: 'Allow',
                Principal: {
                  AWS: Array.from({ length: 60 }, (_, i) => `arn:aws:iam::123456789012:role/person-${i}`),
                },
                Action: 'sts:AssumeRole',
              },
            ],
          },
          Policies: [{ PolicyName: 'one', PolicyDocument: { Statement: [statement(150)] } }],
        },
      },
      Attached: {
        Type: 'AWS::IAM::Policy',
        Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: [statement(80)] } },
      },
    });
    const over = oversizedPolicies(a, new Resolver(a)).map((p) => [p.kind, p.logicalId]);
    expect(over).toEqual(
      expect.arrayContaining([
        ['inlinePerRole', 'Role'],
        ['trust', 'Role'],
      ]),
    );
    expect(over).toHaveLength(2);
  });

  test('a role with more than 10 managed policies (its own list and the policies that name it) is over the quota per role', () => {
    const role = (extra: number): Assembly =>
      oneStack({
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            AssumeRolePolicyDocument: { Statement: [] },
            ManagedPolicyArns: Array.from({ length: 8 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`),
          },
        },
        ...Object.fromEntries(
          Array.from({ length: extra }, (_, i) => [
            `Extra${i}`,
            {
              Type: 'AWS::IAM::ManagedPolicy',
              Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: [] } },
            },
          ]),
        ),
      });
    const over = (a: Assembly) =>
      oversizedPolicies(a, new Resolver(a)).filter((p) => p.kind === 'managedPerRole');
    expect(over(role(2))).toEqual([]);
    const [found] = over(role(3));
    expect(found).toEqual(expect.objectContaining({ logicalId: 'Role', estimate: 11, quota: 10 }));
    expect(describeOversized(found)).toMatch(/^role S\/Role would have 11 managed policies attached/);
  });

  test('the default and example blueprints fit, the largest policy of each with room to spare', () => {
    for (const dir of [defaultAppDir(), exampleAppDir()]) {
      const a = readAssembly(dir);
      const sizes = policySizes(a, new Resolver(a));
      expect(sizes.filter((p) => p.kind === 'managed').length).toBeGreaterThan(10);
      for (const p of sizes) expect(p.estimate).toBeLessThanOrEqual(p.quota);
      expect(sizes.flatMap((p) => p.unbounded)).toEqual([]);
    }
  });
});

describe('the posture diff between two assemblies', () => {
  const read = async (assembly: Assembly, generatedAt = WHILE_EXAMPLE_RISK_LIVES) => ({
    assembly,
    report: await verify(assembly, { generatedAt }),
  });
  let defaults: Awaited<ReturnType<typeof read>>;
  beforeAll(async () => {
    defaults = await read(readAssembly(defaultAppDir()));
  });

  test('default to the example config: what opened is listed, what changed is named', async () => {
    const diff = diffPosture(defaults, await read(readAssembly(exampleAppDir())));
    expect(diff.invariants).toEqual([]);
    expect(diff.opened).toEqual(
      expect.arrayContaining([
        'access acme-ai-break-glass on raw: - -> R from clinical-pipeline, development, inference, training-cardiology, training-oncology, off-network',
        'access acme-ai-pseudonymization on raw: - -> R from clinical-pipeline',
        expect.stringMatching(
          /^access acme-ai-training-oncology-sagemaker on models: - -> W\[all but imported\/\] from .*training-oncology/,
        ),
        expect.stringMatching(/^access acme-ai-training-cardiology-sagemaker on curated: - -> R from /),
      ]),
    );
    expect(diff.access).toContainEqual({
      role: 'aiseg-training-sagemaker',
      zone: 'models',
      before: 'W from inference, training',
      after: '-',
      gained: false,
    });
    expect(diff.resources).toContainEqual(
      expect.objectContaining({
        resource: expect.stringMatching(/^Network-training-oncology\/FirewallPolicy/) as unknown,
        change: 'added',
      }),
    );
    expect(
      diff.acknowledgements.added.some((a) =>
        a.startsWith(
          'cdk-validator-cfnguard netfw_multi_az_enabled_check: The segment was configured with one availability zone',
        ),
      ),
    ).toBe(true);
    expect(renderDiffMarkdown(diff)).toContain(
      '- access acme-ai-break-glass on raw: - -> R from clinical-pipeline, development, inference, training-cardiology, training-oncology, off-network',
    );
    // Exfiltration cells: the example's data scientists read pii in development, whose allowlist is
    // a way out only because the example's accepted risk names that path.
    const exampleDomains = EXAMPLE_DEVELOPMENT_ALLOWLIST.join(', ');
    const accepted =
      'acceptedRisks AR-2026-07 (approved by Chief Information Security Officer, until 2027-06-30)';
    expect(diff.covered).toContainEqual({
      opening: `exfiltration pii curated: acme-ai-data-scientist from development -> the internet (${exampleDomains})`,
      declaration: `the firewall allowlist of development (templates), under ${accepted}`,
    });
    // The emergency role reads from anywhere already; its declaration covers the allowlisted path too.
    expect(diff.covered).toContainEqual({
      opening: `exfiltration phi raw: acme-ai-break-glass from development -> the internet (${exampleDomains})`,
      declaration: 'the break-glass role (templates): it reads from anywhere',
    });
    expect(diff.covered).toContainEqual({
      opening:
        'exfiltration phi raw: acme-ai-break-glass from off-network -> off every network of the blueprint',
      declaration: 'the break-glass role (templates)',
    });
    expect(diff.opened.filter((o) => o.startsWith('exfiltration'))).toEqual([]);
    expect(renderDiffMarkdown(diff)).toContain(
      `- exfiltration pii curated: acme-ai-data-scientist from development -> the internet (${exampleDomains}): covered by the firewall allowlist of development (templates), under ${accepted}`,
    );
  });

  test("the example a day after its accepted risk expires: pii's way out is undeclared, invariant 12 breaks", async () => {
    const live = renderMarkdown((await read(readAssembly(exampleAppDir()))).report);
    expect(live).toContain(
      '| AR-2026-07 | path development -> internet: via-firewall | R and conda users install CRAN, Bioconductor and conda-forge packages',
    );
    expect(live).toMatch(/\| Chief Information Security Officer \| 2027-06-30 \| live \|/);
    const later = await read(readAssembly(exampleAppDir()), '2027-07-01T00:00:00.000Z');
    expect(renderMarkdown(later.report)).toMatch(/\| 2027-06-30 \| \*\*expired\*\* \|/);
    const twelve = later.report.invariants.find((i) => i.id === 12)!;
    expect(twelve.passed).toBe(false);
    expect(twelve.violations.map((v) => v.detail)).toContain(
      `pii zone curated can leave by an undeclared way: acme-ai-data-scientist reads it from development, then the internet (${EXAMPLE_DEVELOPMENT_ALLOWLIST.join(', ')}): allowlisted, but acceptedRisks AR-2026-07 expired 2027-06-30`,
    );
    // phi is read in development by the break-glass role alone, whose declaration stands.
    expect(twelve.violations.filter((v) => v.detail.startsWith('phi'))).toEqual([]);
    const diff = diffPosture(defaults, later);
    expect(diff.opened).toContain('invariant 12 breaks: ' + twelve.title);
  });

  test('a trail made single-region: the invariant breaks, and the trail is named with the property', async () => {
    const assembly = defaultAssembly();
    const audit = stack(assembly, 'Audit');
    const trail = idOf(audit, 'AWS::CloudTrail::Trail');
    resources(audit)[trail].Properties.IsMultiRegionTrail = false;
    const diff = diffPosture(defaults, await read(assembly));
    expect(diff.opened).toContain(
      'invariant 8 breaks: The trail covers all regions, validates files, is encrypted, records data events, lands in Object Lock',
    );
    expect(diff.resources).toEqual([
      {
        resource: `Audit/${trail}`,
        type: 'AWS::CloudTrail::Trail',
        change: 'changed',
        properties: ['IsMultiRegionTrail'],
      },
    ]);
  });

  test('an internet gateway route into training opens a path from the internet', async () => {
    const assembly = defaultAssembly();
    addIgwRoute(assembly, 'Network-training', '0.0.0.0/0');
    const diff = diffPosture(defaults, await read(assembly));
    expect(diff.paths).toContainEqual({
      from: 'internet',
      to: 'training',
      before: 'none',
      after: 'direct',
      opened: true,
    });
    expect(diff.opened).toContain('path internet -> training: direct');
    expect(diff.resources.map((r) => `${r.change} ${r.resource}`)).toEqual([
      'added Network-training/Igw',
      'added Network-training/IgwRoute',
    ]);
  });

  test('an accepted risk covers the openings it names until it expires, and the diff cites it', async () => {
    const assembly = defaultAssembly();
    addIgwRoute(assembly, 'Network-training', '0.0.0.0/0');
    const risk = {
      id: 'AR-7',
      opening: 'path internet -> training: *',
      reason: 'a vendor appliance under test, reachable for the pilot only',
      approvedBy: 'CISO',
      expires: '2026-12-31',
    };
    const judged = async (generatedAt: string, recorded: boolean) => {
      const copy = JSON.parse(JSON.stringify(assembly)) as typeof assembly;
      // As the build records the config's acceptedRisks in the audit stack, or as --config gives them.
      if (recorded) {
        const audit = stack(copy, 'Audit').template as { Metadata?: Record<string, unknown> };
        audit.Metadata = { ...audit.Metadata, 'ai-segmentation:accepted-risks': [risk] };
      }
      return diffPosture(defaults, {
        assembly: copy,
        report: await verify(copy, { generatedAt, ...(recorded ? {} : { acceptedRisks: [risk] }) }),
      });
    };
    for (const recorded of [true, false]) {
      const current = await judged('2026-12-31T23:00:00.000Z', recorded);
      expect(current.opened).not.toContain('path internet -> training: direct');
      expect(current.covered).toContainEqual({
        opening: 'path internet -> training: direct',
        declaration:
          'acceptedRisks AR-7: a vendor appliance under test, reachable for the pilot only (approved by CISO, until 2026-12-31)',
      });
    }
    const late = await judged('2027-01-01T00:00:00.000Z', true);
    expect(late.opened).toContain('path internet -> training: direct');
    expect(late.expired).toEqual([
      { opening: 'path internet -> training: direct', acceptance: 'AR-7', expired: '2026-12-31' },
    ]);
    expect(renderDiffMarkdown(late)).toContain(
      'Acceptance AR-7 would cover "path internet -> training: direct" but expired on 2026-12-31.',
    );
    // What it does not name stays open: the broken invariants.
    expect(late.opened.some((o) => o.startsWith('invariant 2 breaks'))).toBe(true);
    // A segment's way to the internet is accepted only by name: a pattern covers none.
    const out = 'path training -> internet: direct';
    const named = (opening: string) => acceptancesOf([{ ...risk, opening }], out).length;
    expect([named('path * -> internet: *'), named('path training -> internet: *'), named(out)]).toEqual([
      0, 0, 1,
    ]);
    expect(acceptancesOf([risk], 'path internet -> training: direct')).toEqual([risk]);
  });

  test('a zone readable from one more segment: the same letters, a gained access all the same', async () => {
    const assembly = defaultAssembly();
    const data = stack(assembly, 'Data');
    const policy = resources(data)[idOf(data, 'AWS::S3::BucketPolicy', 'ZonecuratedBucketPolicy')];
    const perimeter = (
      policy.Properties.PolicyDocument as {
        Statement: { Sid?: string; Condition?: { StringNotEquals: { 'aws:SourceVpce': unknown[] } } }[];
      }
    ).Statement.find((x) => x.Sid === 'DenyDataAccessOffThePerimeter');
    perimeter?.Condition?.StringNotEquals['aws:SourceVpce'].push({
      'Fn::GetStackOutput': { StackName: 'aiseg-network-inference', OutputName: 'S3EndpointId' },
    });
    const inference = stack(assembly, 'Network-inference');
    (inference.template as { Outputs?: Record<string, unknown> }).Outputs = {
      ...inference.template.Outputs,
      S3EndpointId: { Value: { Ref: idOf(inference, 'AWS::EC2::VPCEndpoint', 'EndpointsS3') } },
    };
    const diff = diffPosture(defaults, await read(assembly));
    expect(diff.opened).toContain(
      'access aiseg-data-scientist on curated: R from development, pipeline, training -> R from development, inference, pipeline, training',
    );
  });

  test('the same assembly twice: nothing changed, nothing opened', async () => {
    const diff = diffPosture(defaults, await read(readAssembly(defaultAppDir())));
    expect(diff).toMatchObject({ invariants: [], paths: [], access: [], resources: [], opened: [] });
    expect(renderDiffMarkdown(diff)).toContain('**Nothing opened.**');
  });
});

describe('npm run verify', () => {
  /** The command line in this process (its exit code and what it printed); one test spawns it for real. */
  const run = async (...args: string[]) => {
    const [stdout, stderr]: string[][] = [[], []];
    const log = jest
      .spyOn(console, 'log')
      .mockImplementation((...a: unknown[]) => void stdout.push(a.join(' ')));
    const error = jest
      .spyOn(console, 'error')
      .mockImplementation((...a: unknown[]) => void stderr.push(a.join(' ')));
    try {
      return { status: await main(args), stdout: stdout.join('\n'), stderr: stderr.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  };

  test('exits 0 on the default app and writes the evidence, saying it trusts the templates without --config', async () => {
    const out = mkdtempSync(join(tmpdir(), 'aiseg-evidence-'));
    const result = await run(defaultAppDir(), '--out', out);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      'No --config: trusting the corporate ranges, declared flows, egress allowlists and accepted risks the builder wrote into the templates.',
    );
    expect(existsSync(join(out, 'report.md'))).toBe(true);
    const evidence = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      provenance: { commit: string; tools: Record<string, string> };
    };
    expect(evidence.provenance.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(evidence.provenance.tools['ai-segmentation-blueprint']).toBe('0.1.0');
  });

  test("with --config, the config's corporate ranges: the default app checked against the example's fails naming the ACLs", async () => {
    const out = mkdtempSync(join(tmpdir(), 'aiseg-evidence-'));
    const result = await run(defaultAppDir(), '--config', 'config/example.json', '--out', out);
    expect(result.stdout).toContain(
      'Corporate ranges, declared flows, egress allowlists, accepted risks and IPS modes from config/example.json.',
    );
    expect(result.status).toBe(1);
    // The example adds 10.0.0.0/12 to the corporate ranges; the default app's ACLs do not deny it.
    expect(result.stdout).toMatch(
      /Network-training\/SegmentIsolationAcl\w+: network ACL of .* allows 10\.0\.0\.0\/12 outbound/,
    );
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| config | config/example.json |');
  });

  test('with --config, a config that does not validate: exit 2 naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiseg-config-'));
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ namPrefix: 'x' }));
    const result = await run(defaultAppDir(), '--config', join(dir, 'typo.json'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('config.namPrefix: unknown field');
  });

  test('exits 1 naming the culprit when an invariant breaks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiseg-broken-'));
    const assembly = defaultAssembly();
    const t = stack(assembly, 'Audit');
    t.template.Resources![idOf(t, 'AWS::CloudTrail::Trail')].Properties!.IsMultiRegionTrail = false;
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        artifacts: Object.fromEntries(
          assembly.stacks.map((s) => [
            s.id,
            {
              type: 'aws:cloudformation:stack',
              properties: { templateFile: `${s.id}.template.json`, stackName: s.stackName },
            },
          ]),
        ),
      }),
    );
    for (const s of assembly.stacks)
      writeFileSync(join(dir, `${s.id}.template.json`), JSON.stringify(s.template));
    const result = await run(dir);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(
      /FAIL {2}8\. [\s\S]*Audit\/AuditTrail\w+: trail does not cover every region/,
    );
  });

  test('with --baseline, writes the posture diff and exits 1 when something opened', async () => {
    const same = mkdtempSync(join(tmpdir(), 'aiseg-diff-'));
    const unchanged = await run(defaultAppDir(), '--baseline', defaultAppDir(), '--out', same);
    expect(unchanged.status).toBe(0);
    expect(unchanged.stdout).toContain(`Against ${defaultAppDir()}: 0 opened`);
    expect(readFileSync(join(same, 'report-diff.md'), 'utf8')).toContain('**Nothing opened.**');
    const changed = await run(
      exampleAppDir(),
      '--baseline',
      defaultAppDir(),
      '--out',
      mkdtempSync(join(tmpdir(), 'aiseg-diff-')),
    );
    expect(changed.status).toBe(1);
    expect(changed.stdout).toContain(
      'OPENED  access acme-ai-break-glass on raw: - -> R from clinical-pipeline, development, inference, training-cardiology, training-oncology, off-network',
    );
  });

  test('exits 2 when the input cannot be read, run as npm runs it', () => {
    const result = spawnSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'scripts/verify.ts', join(tmpdir(), 'no-such-assembly')],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/manifest\.json is missing/);
  });
});

describe('an assembly bound to an account and region (the example configuration)', () => {
  let report: VerificationReport;
  beforeAll(async () => {
    report = await verify(readAssembly(exampleAppDir()), { generatedAt: WHILE_EXAMPLE_RISK_LIVES });
  });

  test('every invariant holds: pseudo parameters take the stack account, region and partition', () => {
    expect(report.invariants.filter((i) => !i.passed).map((i) => i.violations)).toEqual([]);
    expect(report.passed).toBe(true);
  });

  test('the access matrix knows the roles the bucket policies name by literal ARN', () => {
    expect(report.access.rows['acme-ai-pseudonymization']).toEqual({
      raw: 'R',
      curated: 'W',
      models: '-',
      quarantine: 'W',
      'airlock-import': '-',
      'airlock-export': '-',
    });
    expect(report.access.rows['acme-ai-break-glass']).toMatchObject({ raw: 'R', quarantine: 'R' });
  });

  test("the airlock's import zone: written by its importers alone, from off-network; its readers are declared by that", () => {
    expect(report.access.rows['acme-ai-airlock-importer']).toEqual({
      raw: '-',
      curated: '-',
      models: '-',
      quarantine: '-',
      'airlock-import': 'W[incoming/${aws:userid}/]',
      'airlock-export': '-',
    });
    const rows = report.exfiltration.filter((r) => r.zone === 'airlock-import');
    expect(
      rows
        .filter((r) => r.origin === 'off-network')
        .map((r) => r.principal)
        .sort(),
    ).toEqual([
      'acme-ai-airlock-reviewer',
      'acme-ai-airlock-scanner',
      'acme-ai-airlock-worker',
      'acme-ai-break-glass',
    ]);
    for (const row of rows.filter((r) => r.principal !== 'acme-ai-break-glass'))
      for (const way of row.ways)
        expect(way.declaredBy).toBe(
          'the airlock: zone airlock-import holds only uploads from outside (written by acme-ai-airlock-importer alone)',
        );
  });

  test("the airlock's export: the exporter's reads of its sources and the reviewers' of what is staged are the declared way out", () => {
    expect(report.access.rows['acme-ai-airlock-exporter']).toEqual({
      raw: '-',
      curated: 'R',
      // What endpoints capture and what was imported are never read for an export.
      models: 'R[all but data-capture/, imported/]',
      quarantine: '-',
      'airlock-import': '-',
      'airlock-export': 'R W[outgoing/]',
    });
    const offNetwork = (principal: string, zone: string) =>
      report.exfiltration.find(
        (r) => r.principal === principal && r.zone === zone && r.origin === 'off-network',
      )?.ways ?? [];
    for (const zone of ['curated', 'models', 'airlock-export'])
      expect(offNetwork('acme-ai-airlock-exporter', zone).map((w) => w.declaredBy)).toEqual([
        "the airlock export: acme-ai-airlock-exporter stages what a requester asks for, and sends it out only on a reviewer's approval",
      ]);
    expect(offNetwork('acme-ai-airlock-reviewer', 'airlock-export').map((w) => w.declaredBy)).toEqual([
      "the airlock export's review: acme-ai-airlock-reviewer reads what waits in zone airlock-export, written by acme-ai-airlock-exporter alone",
    ]);
  });

  /** Names `role` among the roles that may use a data stack key (its two key-policy statements). */
  const admitToKey = (a: Assembly, keyId: string, role: string) => {
    const data = stack(a, 'Data');
    const key = resources(data)[idOf(data, 'AWS::KMS::Key', keyId)].Properties.KeyPolicy as {
      Statement: { Sid?: string; Condition?: Record<string, Record<string, string[]>> }[];
    };
    for (const statement of key.Statement) {
      const names =
        statement.Condition?.ArnEquals?.['aws:PrincipalArn'] ??
        statement.Condition?.ArnNotEquals?.['aws:PrincipalArn'];
      if (statement.Sid?.includes('UsesTheKey') || statement.Sid === 'NamedRolesUseTheKey')
        names?.push(`arn:aws:iam::123456789012:role/acme-ai-${role}`);
    }
  };

  /**
   * A mutation of the example: the zone's bucket policy without the statements `lifted`, and
   * `role`'s managed policy granting `actions` on everything (and, where a key is named, the role
   * admitted to that key).
   */
  const liftFences =
    (zone: string, lifted: readonly string[], role: string, actions: string | string[], keyId?: string) =>
    (a: Assembly) => {
      const data = stack(a, 'Data');
      const policy = resources(data)[idOf(data, 'AWS::S3::BucketPolicy', `Zone${zone}BucketPolicy`)]
        .Properties.PolicyDocument as { Statement: { Sid?: string }[] };
      policy.Statement = policy.Statement.filter((x) => !lifted.includes(x.Sid ?? ''));
      const identity = stack(a, 'Identity');
      const managed = resources(identity)[
        idOf(identity, 'AWS::IAM::ManagedPolicy', `${role.replaceAll('-', '')}Policy`)
      ].Properties.PolicyDocument as { Statement: unknown[] };
      managed.Statement.push({
        Effect: 'Allow',
        Action: actions,
        Resource: keyId ? '*' : 'arn:aws:s3:::*/*',
      });
      if (keyId) admitToKey(a, keyId, role);
    };
  const undeclared = (zone: string, classification: string, principal: string) => ({
    invariant: 12,
    stack: 'Data',
    logicalId: expect.stringMatching(new RegExp(`^Zone${zone.replaceAll('-', '')}Bucket`)) as unknown,
    detail: `${classification} zone ${zone} can leave by an undeclared way: acme-ai-${principal} reads it from off-network, then off every network of the blueprint`,
  });

  test('an exporter that can read phi (raw, its fences lifted): phi may not leave by the airlock, invariant 12 breaks', async () => {
    const found = await violationsAfter(
      liftFences(
        'raw',
        ['DenyReadsButByTheZoneReaders', 'DenyDataAccessOffThePerimeter'],
        'airlock-exporter',
        ['s3:GetObject', 'kms:Decrypt'],
        'KeyphiKey',
      ),
      exampleAssembly,
    );
    expect(found).toContainEqual(undeclared('raw', 'phi', 'airlock-exporter'));
  });

  test('another writer of the export zone (the worker, its fence lifted): its review declares nothing, invariant 12 breaks', async () => {
    const found = await violationsAfter(
      liftFences(
        'airlockexport',
        ['DenyWritesButByTheZoneWriters', 'DenyDataAccessOffThePerimeter'],
        'airlock-worker',
        ['s3:PutObject', 'kms:GenerateDataKey'],
        'AirlockExportKey',
      ),
      exampleAssembly,
    );
    expect(found).toContainEqual(undeclared('airlock-export', 'pii', 'airlock-reviewer'));
  });

  test('another writer of the import zone (the worker, its fence lifted): the airlock declares nothing, invariant 12 breaks', async () => {
    const found = await violationsAfter(
      liftFences('airlockimport', ['DenyWritesButByTheZoneWriters'], 'airlock-worker', 's3:PutObject'),
      exampleAssembly,
    );
    expect(found).toContainEqual(undeclared('airlock-import', 'phi', 'airlock-reviewer'));
  });
});
