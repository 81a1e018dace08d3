/** The invariants of the blueprint, and the controls each serves (HIPAA Security Rule, NIST 800-53 R5). */
export const INVARIANTS = [
  {
    id: 1,
    title:
      'No network path between two segments, or between a segment and the corporate network, unless declared',
    hipaa: ['164.312(a)(1)', '164.312(e)(1)'],
    nist: ['AC-4', 'SC-7', 'SC-7(5)'],
  },
  {
    id: 2,
    title: 'No inbound path from the internet to any subnet of any segment',
    hipaa: ['164.312(e)(1)'],
    nist: ['SC-7', 'SC-7(4)', 'AC-17'],
  },
  {
    id: 3,
    title:
      'Every outbound path to the internet passes a Network Firewall endpoint; segments without an egress allowlist (every segment by default) have none',
    hipaa: ['164.312(e)(1)', '164.308(a)(1)(ii)(B)'],
    nist: ['SC-7(5)', 'SC-7(7)', 'SI-4', 'CA-7'],
  },
  {
    id: 4,
    title:
      'Flow logs on every VPC; alert and flow logs on every firewall, and an alert on every flow an allowlist passes; DNS query logs',
    hipaa: ['164.312(b)', '164.308(a)(1)(ii)(D)'],
    nist: ['AU-2', 'AU-12', 'SI-4'],
  },
  {
    id: 5,
    title: 'Data stores encrypted with rotated customer keys; buckets TLS-only, private, versioned',
    hipaa: ['164.312(a)(2)(iv)', '164.312(e)(2)(ii)', '164.312(c)(1)'],
    nist: ['SC-8', 'SC-12', 'SC-13', 'SC-28', 'CP-9'],
  },
  {
    id: 6,
    title: 'Every data store classified; raw phi/pii readable only by pseudonymization (and break-glass)',
    hipaa: ['164.308(a)(3)(ii)(A)', '164.308(a)(4)(ii)(B)', '164.514(b)'],
    nist: ['RA-2', 'AC-3', 'AC-6'],
  },
  {
    id: 7,
    title:
      "No wildcard grants; every role bounded and trusted only by the principals the config names; human roles need MFA and short sessions; every policy within IAM's size quotas",
    hipaa: ['164.308(a)(4)(ii)(C)', '164.312(a)(1)', '164.312(d)'],
    nist: ['AC-2', 'AC-6', 'IA-2(1)', 'AC-12'],
  },
  {
    id: 8,
    title:
      'The trail covers all regions, validates files, is encrypted, records data events, lands in Object Lock',
    hipaa: ['164.312(b)', '164.312(c)(1)', '164.316(b)(2)(i)'],
    nist: ['AU-2', 'AU-9', 'AU-10', 'AU-11'],
  },
  {
    id: 9,
    title: 'Nothing stateful is lost when a stack is deleted or a resource replaced',
    hipaa: ['164.308(a)(7)(ii)(A)', '164.310(d)(2)(iv)'],
    nist: ['CP-9', 'SI-12'],
  },
  {
    id: 10,
    title: 'SageMaker work only inside its segment VPC, network-isolated, with KMS volume keys',
    hipaa: ['164.312(a)(1)', '164.312(e)(1)'],
    nist: ['SC-7', 'SC-28', 'CM-7'],
  },
  {
    id: 11,
    title:
      "Every signal reaches its destination: alarms, event targets, dead letters and log deliveries are admitted by the destination's resource and key policies; every function's role allows what its configuration needs",
    hipaa: ['164.308(a)(1)(ii)(D)', '164.308(a)(6)(ii)', '164.312(b)'],
    nist: ['AU-6', 'AU-12', 'IR-6', 'SI-4(5)'],
  },
  {
    id: 12,
    title:
      'phi and pii leave only by declared ways: every principal that can read them, from every origin, reaches only the internet domains, segments and networks the config declares',
    hipaa: ['164.308(a)(4)(ii)(B)', '164.312(e)(1)', '164.502(b)'],
    nist: ['AC-4', 'SC-7(10)', 'AC-21'],
  },
  {
    id: 13,
    title:
      'Separation of duties: no principal can both put data into raw and read curated data, or both request and approve an airlock item',
    hipaa: ['164.308(a)(3)(ii)(A)', '164.308(a)(4)(ii)(B)', '164.514(b)'],
    nist: ['AC-5', 'AC-6'],
  },
  {
    id: 14,
    title:
      "Code integrity: every function has a code-signing configuration that admits only the blueprint's signing profiles",
    hipaa: ['164.312(c)(1)', '164.308(a)(5)(ii)(B)'],
    nist: ['CM-14', 'SI-7', 'SI-7(15)'],
  },
] as const;

export type InvariantId = (typeof INVARIANTS)[number]['id'];

/** A broken invariant, naming the resource (or statement) at fault. */
export interface Violation {
  readonly invariant: InvariantId;
  readonly stack: string;
  readonly logicalId: string;
  readonly detail: string;
}

/** Resources that implement an invariant, for the control map. */
export interface Evidence {
  readonly invariant: InvariantId;
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
}
