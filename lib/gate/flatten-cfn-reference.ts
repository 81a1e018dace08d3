/**
 * A resolved CloudFormation value flattened into the string cdk-nag embeds in a finding's id, for
 * example the `<Bucket.Arn>/*` of `AwsSolutions-IAM5[Resource::<Bucket.Arn>/*]`: `${X}` becomes
 * `<X>`, `Ref` `<X>`, `Fn::GetAtt` `<X.Attr>`, `Fn::Join` and `Fn::Sub` their parts,
 * `Fn::ImportValue` its export, anything else its JSON.
 *
 * cdk-nag keeps its own (`flattenCfnReference`) in a module it does not export; this follows it
 * case by case, including which key wins when an object has several (on `null`, where cdk-nag
 * throws, this gives `null`), and a test compares the two.
 */
export function flattenCfnReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (has(value, 'Fn::Join')) {
    const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
    return items.map((item) => flattenCfnReference(item)).join(delimiter);
  }
  if (has(value, 'Fn::Sub')) return flattenCfnReference(value['Fn::Sub']);
  if (has(value, 'Fn::GetAtt')) {
    const [resource, attribute] = value['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
  }
  if (has(value, 'Fn::ImportValue')) return flattenCfnReference(value['Fn::ImportValue']);
  if (has(value, 'Ref')) return `<${flattenCfnReference(value.Ref)}>`;
  return JSON.stringify(value);
}

/** Whether `value` has a truthy `key`, as cdk-nag tests an intrinsic (a number or array has none). */
function has<K extends string>(value: unknown, key: K): value is Record<K, unknown> {
  return value !== null && !!(value as Record<string, unknown>)[key];
}
