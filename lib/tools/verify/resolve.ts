import type { Assembly, CfnResource, StackTemplate } from './assembly';

/**
 * Resolves the intrinsic functions CDK emits into plain values the checks can compare, without AWS:
 * - pseudo parameters take the stack's account and region (and their partition) when it is bound
 *   to them, and otherwise stay symbolic (`${AWS::AccountId}`);
 * - `Ref` to a resource becomes `ref|<stack>/<logicalId>`, `Fn::GetAtt` `att|<stack>/<logicalId>|<attribute>`,
 *   except where the template determines the value (a bucket's, role's or log group's ARN from its
 *   name or, unnamed, from its `ref|`; a named log group's Ref is its name);
 * - a firewall's `EndpointIds` become `<zone>:fwe|<stack>/<logicalId>|<zone>`, one per subnet
 *   mapping, so that the expressions that pick a zone's endpoint evaluate to that endpoint;
 * - `Fn::GetAZs` gives symbolic zones `{az0}`, `{az1}`, ...;
 * - `Fn::FindInMap` reads the template's mapping; keyed by a symbolic pseudo parameter (the region
 *   of an environment-agnostic stack), it gives `{map:<Mapping>:<Key>}`, standing for whichever
 *   entry the deploy picks;
 * - `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::Sub` are evaluated; `Fn::ImportValue` and
 *   `Fn::GetStackOutput` follow the exporting stack's output.
 * What cannot be resolved becomes `unresolved|<reason>` and is recorded, never guessed.
 */
export class Resolver {
  readonly unresolved: { stack: string; reason: string }[] = [];
  private readonly byName = new Map<string, StackTemplate>();
  private readonly exports = new Map<string, { stack: StackTemplate; value: unknown }>();

  constructor(readonly assembly: Assembly) {
    for (const stack of assembly.stacks) {
      this.byName.set(stack.stackName, stack);
      for (const output of Object.values(stack.template.Outputs ?? {})) {
        if (output.Export)
          this.exports.set(String(this.resolve(output.Export.Name, stack)), { stack, value: output.Value });
      }
    }
  }

  resource(stack: StackTemplate, logicalId: string): CfnResource | undefined {
    return stack.template.Resources?.[logicalId];
  }

  /** The stack and logical id a `ref|` or `att|` value points at. */
  target(value: unknown): { stack: StackTemplate; id: string; resource: CfnResource } | undefined {
    if (typeof value !== 'string') return undefined;
    const match = /^(?:ref|att)\|([^/|]+)\/([^|]+)/.exec(value);
    if (!match) return undefined;
    const stack = this.assembly.stacks.find((s) => s.id === match[1]);
    const resource = stack?.template.Resources?.[match[2]];
    return stack && resource ? { stack, id: match[2], resource } : undefined;
  }

  resolve(value: unknown, stack: StackTemplate): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, stack));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length !== 1) {
      return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v, stack)]));
    }
    const [fn, arg] = entries[0];
    switch (fn) {
      case 'Ref':
        return this.ref(String(arg), stack);
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        return this.getAtt(String(id), String(this.resolve(attr, stack)), stack);
      }
      case 'Fn::Join': {
        const [delimiter, items] = arg as [string, unknown];
        const list = this.resolve(items, stack);
        if (!Array.isArray(list)) return this.fail(stack, `Fn::Join of ${JSON.stringify(items)}`);
        return list.flat().map(String).join(delimiter);
      }
      case 'Fn::Select': {
        const [index, items] = arg as [unknown, unknown];
        const list = this.resolve(items, stack);
        const i = Number(this.resolve(index, stack));
        if (!Array.isArray(list) || !(i in list))
          return this.fail(stack, `Fn::Select ${i} of ${JSON.stringify(list)}`);
        return list[i] as unknown;
      }
      case 'Fn::Split': {
        const [delimiter, source] = arg as [string, unknown];
        const text = this.resolve(source, stack);
        if (typeof text !== 'string') return this.fail(stack, `Fn::Split of ${JSON.stringify(source)}`);
        return text.split(delimiter);
      }
      case 'Fn::GetAZs':
        return Array.from({ length: 6 }, (_, i) => `{az${i}}`);
      case 'Fn::Sub':
        return this.sub(arg, stack);
      case 'Fn::FindInMap': {
        const [map, top, second] = (arg as unknown[]).map((a) => String(this.resolve(a, stack)));
        const entries = stack.template.Mappings?.[map];
        if (!entries) return this.fail(stack, `Fn::FindInMap of unknown mapping ${map}`);
        if (top.includes('${')) return `{map:${map}:${second}}`;
        return top in entries && second in entries[top]
          ? this.resolve(entries[top][second], stack)
          : this.fail(stack, `Fn::FindInMap ${map} has no ${top}.${second}`);
      }
      case 'Fn::ImportValue': {
        const name = String(this.resolve(arg, stack));
        const exported = this.exports.get(name);
        return exported
          ? this.resolve(exported.value, exported.stack)
          : this.fail(stack, `no export named ${name}`);
      }
      case 'Fn::GetStackOutput': {
        const { StackName, OutputName } = arg as { StackName: unknown; OutputName: string };
        const producer = this.byName.get(String(this.resolve(StackName, stack)));
        const output = producer?.template.Outputs?.[OutputName];
        return producer && output
          ? this.resolve(output.Value, producer)
          : this.fail(stack, `no output ${OutputName} in stack ${JSON.stringify(StackName)}`);
      }
      default:
        if (fn.startsWith('Fn::') || fn === 'Condition') return this.fail(stack, `${fn} is not evaluated`);
        return { [fn]: this.resolve(arg, stack) };
    }
  }

  private ref(name: string, stack: StackTemplate): unknown {
    if (name.startsWith('AWS::')) return pseudo(name, stack);
    const resource = stack.template.Resources?.[name];
    // A log group's Ref is its name, which the template may set.
    if (resource?.Type === 'AWS::Logs::LogGroup' && resource.Properties?.LogGroupName !== undefined) {
      return this.resolve(resource.Properties.LogGroupName, stack);
    }
    if (resource) return `ref|${stack.id}/${name}`;
    return this.fail(stack, `Ref to ${name}, which is neither a resource nor a pseudo parameter`);
  }

  private getAtt(id: string, attr: string, stack: StackTemplate): unknown {
    const resource = stack.template.Resources?.[id];
    if (!resource) return this.fail(stack, `Fn::GetAtt of unknown resource ${id}`);
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::S3::Bucket' && attr === 'Arn') {
      // Named buckets by their name; generated names stay symbolic (`ref|<stack>/<id>`).
      const bucketName =
        props.BucketName !== undefined ? this.resolve(props.BucketName, stack) : this.ref(id, stack);
      return `arn:${pseudo('AWS::Partition', stack)}:s3:::${String(bucketName)}`;
    }
    if (resource.Type === 'AWS::Logs::LogGroup' && attr === 'Arn') {
      return `arn:${pseudo('AWS::Partition', stack)}:logs:${pseudo('AWS::Region', stack)}:${pseudo('AWS::AccountId', stack)}:log-group:${String(this.ref(id, stack))}:*`;
    }
    if (resource.Type === 'AWS::IAM::Role' && attr === 'Arn' && props.RoleName !== undefined) {
      return `arn:${pseudo('AWS::Partition', stack)}:iam::${pseudo('AWS::AccountId', stack)}:role/${String(this.resolve(props.RoleName, stack))}`;
    }
    if (resource.Type === 'AWS::NetworkFirewall::Firewall' && attr === 'EndpointIds') {
      const mappings = (props.SubnetMappings ?? []) as { SubnetId: unknown }[];
      return mappings.map((m) => {
        const subnet = this.target(this.resolve(m.SubnetId, stack));
        const zone = subnet
          ? String(this.resolve(subnet.resource.Properties?.AvailabilityZone, subnet.stack))
          : '?';
        return `${zone}:fwe|${stack.id}/${id}|${zone}`;
      });
    }
    return `att|${stack.id}/${id}|${attr}`;
  }

  private sub(arg: unknown, stack: StackTemplate): unknown {
    const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name in vars) return String(this.resolve(vars[name], stack));
      if (name.startsWith('AWS::')) return pseudo(name, stack);
      const [id, attr] = name.split('.');
      return String(attr ? this.getAtt(id, attr, stack) : this.ref(id, stack));
    });
  }

  private fail(stack: StackTemplate, reason: string): string {
    this.unresolved.push({ stack: stack.id, reason });
    return `unresolved|${reason}`;
  }
}

/** A resource of the assembly with its stack and logical id. */
export interface LocatedResource {
  readonly stack: StackTemplate;
  readonly id: string;
  readonly resource: CfnResource;
}

/** Every resource of the assembly with its stack and logical id. */
export function allResources(assembly: Assembly): LocatedResource[] {
  return assembly.stacks.flatMap((stack) =>
    Object.entries(stack.template.Resources ?? {}).map(([id, resource]) => ({ stack, id, resource })),
  );
}

/** The resources of one type. */
export function ofType(resources: readonly LocatedResource[], type: string): LocatedResource[] {
  return resources.filter((x) => x.resource.Type === type);
}

/** A resource's tags as a map. */
export function tagsOf(resource: CfnResource): Record<string, string> {
  const tags = resource.Properties?.Tags;
  if (Array.isArray(tags)) {
    return Object.fromEntries(
      (tags as { Key: string; Value: string }[]).map((t) => [t.Key, String(t.Value)]),
    );
  }
  return (tags as Record<string, string> | undefined) ?? {};
}

/** A pseudo parameter's value for the stack: known when the stack is bound to an environment. */
function pseudo(name: string, stack: StackTemplate): string {
  const region = stack.region;
  switch (name) {
    case 'AWS::AccountId':
      return stack.account ?? '${AWS::AccountId}';
    case 'AWS::Region':
      return region ?? '${AWS::Region}';
    case 'AWS::Partition':
      if (!region) return '${AWS::Partition}';
      return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
    case 'AWS::URLSuffix':
      if (!region) return '${AWS::URLSuffix}';
      return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
    default:
      return `\${${name}}`;
  }
}

/** The number of subscriptions of each topic of the assembly, by `stack/logicalId`. */
export function subscriptionCounts(resources: readonly LocatedResource[], r: Resolver): Map<string, number> {
  const counts = new Map(ofType(resources, 'AWS::SNS::Topic').map((t) => [`${t.stack.id}/${t.id}`, 0]));
  for (const s of ofType(resources, 'AWS::SNS::Subscription')) {
    const topic = r.target(r.resolve(s.resource.Properties?.TopicArn, s.stack));
    const key = topic && `${topic.stack.id}/${topic.id}`;
    if (key && counts.has(key)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
