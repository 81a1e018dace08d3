import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  CONTROL_TOWER_RULES,
  listRuleFiles,
  ScopedCfnGuardValidator,
  type RuleFile,
} from '../../lib/gate/scoped-guard';
import { acknowledge } from '../../lib/gate/acknowledge';
import { cdkJsonContext, testApp } from '../support/synth';

function findings(validator: { validate: CfnGuardValidator['validate'] }, dir: string): string[] {
  const templatePaths = readdirSync(dir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => join(dir, f));
  const report = validator.validate({ templatePaths } as never);
  return report.violations
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId}`))
    .sort();
}

/**
 * The premise of scoping, checked in every Control Tower rule file (not only those today's
 * blueprint triggers): a file selects resources only by `Type` against the resource types it
 * binds, so a template without any of them cannot fail it. Each selection of `Resources` (comments
 * aside) is a `Type ==`/`Type in` filter on names bound to AWS resource types, a look-up by key
 * (of a resource a selected one refers to), or a test of the section itself; and the types it
 * filters on are among those the validator scopes the file by.
 */
function unscopedSelections(file: RuleFile): string[] {
  const text = readFileSync(file.path, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('\n');
  const bound = new Map<string, string[]>();
  for (const [, name, value] of text.matchAll(/let\s+(\w+)\s*=\s*(\[[^\]]*\]|"[^"]*"|'[^']*')/g)) {
    bound.set(
      name,
      [...value.matchAll(/["']([^"']*)["']/g)].map((v) => v[1]),
    );
  }
  const problems: string[] = [];
  const typeFilter = /^Type\s+(?:==|in)\s+(?:%(\w+)|["'](AWS::\w+::\w+)["'])$/;
  for (const [selection, wildcard, filter] of text.matchAll(/\bResources\b(\.\*)?\s*(?:\[([^\]]*)\])?/g)) {
    if (filter === undefined) {
      if (wildcard) problems.push(`unfiltered ${selection}`);
      continue; // the section itself (exists, not empty) or a property named Resources
    }
    if (filter.trim() === '*' && !wildcard) continue; // a list property named Resources
    if (/^\s*keys\s*==\s*%\w+\s*$/.test(filter)) continue;
    for (const clause of filter.split(/\bor\b/).map((c) => c.trim())) {
      const match = typeFilter.exec(clause);
      const types = match?.[1] ? (bound.get(match[1]) ?? []) : match?.[2] ? [match[2]] : [];
      if (types.length === 0 || !types.every((t) => /^AWS::\w+::\w+$/.test(t))) {
        problems.push(`selection not by bound resource types: ${clause}`);
      } else if (file.resourceTypes.length > 0 && !types.every((t) => file.resourceTypes.includes(t))) {
        problems.push(`filters on ${types.join(', ')}, outside the types it is scoped by`);
      }
    }
  }
  return problems.map((p) => `${file.path.slice(CONTROL_TOWER_RULES.length + 1)}: ${p}`);
}

describe('ScopedCfnGuardValidator', () => {
  const ruleFiles = listRuleFiles(CONTROL_TOWER_RULES);

  test('every Control Tower rule file selects resources only by the types it is scoped by', () => {
    expect(ruleFiles.length).toBeGreaterThan(200);
    expect(ruleFiles.flatMap(unscopedSelections)).toEqual([]);
    // Most files are scoped; a file that names no type would run on every template.
    expect(ruleFiles.filter((f) => f.resourceTypes.length === 0)).toEqual([]);
  });

  test('the premise check finds a rule file that selects resources otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiseg-guard-'));
    const rule = (name: string, body: string): RuleFile => {
      const path = join(dir, `${name}.guard`);
      writeFileSync(path, body);
      return listRuleFiles(dir).find((f) => f.path === path)!;
    };
    const byRegex = rule(
      'regex',
      `let b = Resources.*[ Type == /AWS::S3::/ ]\nrule r when %b !empty { %b.Properties exists }\n`,
    );
    expect(unscopedSelections(byRegex)).toEqual([expect.stringContaining('not by bound resource types')]);
    const everything = rule('all', `let t = "AWS::S3::Bucket"\nrule r { Resources.*.Properties exists }\n`);
    expect(unscopedSelections(everything)).toEqual([expect.stringContaining('unfiltered')]);
    const singleQuoted = rule(
      'quoted',
      `let T = 'AWS::AutoScaling::LaunchConfiguration'\nlet l = Resources.*[ Type == %T ]\n`,
    );
    expect(singleQuoted.resourceTypes).toEqual(['AWS::AutoScaling::LaunchConfiguration']);
    expect(unscopedSelections(singleQuoted)).toEqual([]);
  });

  test('reports exactly what the full rule set reports on known-bad resources', () => {
    const app = testApp();
    const stack = new Stack(app, 'Bad');
    new s3.CfnBucket(stack, 'Bucket');
    new ec2.CfnSecurityGroup(stack, 'OpenGroup', {
      groupDescription: 'open',
      securityGroupIngress: [{ ipProtocol: '-1', cidrIp: '0.0.0.0/0' }],
    });
    // Its rule file binds the type in single quotes.
    new autoscaling.CfnLaunchConfiguration(stack, 'PublicLaunchConfiguration', {
      imageId: 'ami-12345678',
      instanceType: 't3.micro',
      associatePublicIpAddress: true,
    });
    const dir = app.synth().directory;
    const scoped = findings(new ScopedCfnGuardValidator(), dir);
    expect(scoped).toEqual(findings(new CfnGuardValidator(), dir));
    expect(scoped.some((f) => f.startsWith('s3_bucket_logging_enabled_check'))).toBe(true);
    expect(scoped.some((f) => f.includes('OpenGroup'))).toBe(true);
    expect(scoped.some((f) => f.includes('PublicLaunchConfiguration'))).toBe(true);
  });

  test('passes a template none of whose resource types any rule file inspects (guard is not run without rules)', () => {
    const app = testApp();
    new sns.CfnTopic(new Stack(app, 'TopicOnly'), 'Topic');
    const dir = app.synth().directory;
    const types = new Set(ruleFiles.flatMap((f) => f.resourceTypes));
    expect(types.has('AWS::SNS::Topic')).toBe(false);
    expect(
      new ScopedCfnGuardValidator().validate({
        templatePaths: [join(dir, 'TopicOnly.template.json')],
      } as never),
    ).toEqual({
      success: true,
      violations: [],
    });
    expect(findings(new CfnGuardValidator(), dir)).toEqual([]);
  });

  test('an unacknowledged finding fails synth even when another finding of the report is acknowledged', () => {
    const synth = (acknowledgeOne: boolean) => {
      const app = new App({
        outdir: mkdtempSync(join(tmpdir(), 'aiseg-guard-')),
        builtinCloudFormationValidation: false,
        context: cdkJsonContext(),
      });
      Validations.of(app).addPlugins(new ScopedCfnGuardValidator());
      const bucket = new s3.CfnBucket(new Stack(app, 'Partly'), 'Bucket');
      if (acknowledgeOne) {
        acknowledge(bucket, {
          pack: 'cdk-validator-cfnguard',
          rule: 's3_bucket_logging_enabled_check',
          reason: 'Test bucket: access is recorded by CloudTrail data events instead of server access logs.',
        });
      }
      return () => app.synth();
    };
    expect(synth(false)).toThrow(/ERROR \[CT\.S3\.PR\.1\]/);
    expect(synth(true)).toThrow(/ERROR \[CT\.S3\.PR\.1\]/);
  });

  test('keeps the plugin name, so acknowledgement ids stay cdk-validator-cfnguard::<rule>', () => {
    expect(new ScopedCfnGuardValidator().name).toBe('cdk-validator-cfnguard');
  });
});
