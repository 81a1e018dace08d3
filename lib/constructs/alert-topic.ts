import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { onlyTheDeployment } from './secure-bucket';

export interface AlertTopicProps {
  /** Encrypts messages at rest; must admit the services that publish alerts. */
  readonly encryptionKey: kms.IKey;
  /** Addresses subscribed to every alert. */
  readonly emails: readonly string[];
  /**
   * The only principal that may change the topic's policy, key or other attributes, or delete it
   * (CloudFormation's execution role); @default - no such limit
   */
  readonly deployment?: string;
}

/** The topic calls that would stop alerts arriving: its policy or key replaced, the topic deleted. */
export const TOPIC_SETTINGS_ACTIONS = [
  'sns:AddPermission',
  'sns:DeleteTopic',
  'sns:PutDataProtectionPolicy',
  'sns:RemovePermission',
  'sns:SetTopicAttributes',
] as const;

/** The SNS topic every security alarm and finding is sent to: encrypted, TLS-only. */
export class AlertTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'AI segmentation blueprint security alerts',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one: each publisher is named, bound to this account.
    // EventBridge rules publish as a service principal: this account's rules only. (Rules target
    // the topic by ARN, so that aws-cdk-lib adds no unconditioned grants to the topic or its key.)
    const stack = Stack.of(this);
    this.admitPublisher('ThisAccountsEventRulesPublish', 'events.amazonaws.com');
    // CloudWatch alarms publish as cloudwatch.amazonaws.com: alarms of this account and region only.
    this.admitPublisher('ThisAccountsAlarmsPublish', 'cloudwatch.amazonaws.com', {
      ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm:*' }) },
    });
    // Alerts come from AWS services only: no principal of the account may publish one (a forged
    // alert is phishing aimed at the security team, or noise to bury a real one).
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyServicesPublish',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' } },
      }),
    );
    // One SetTopicAttributes (a policy that refuses the alarms, another key) would silence every
    // alarm and rule at once, the alert about it included: only the deployment changes the topic.
    if (props.deployment) {
      this.topic.addToResourcePolicy(
        onlyTheDeployment(
          'OnlyTheDeploymentChangesTheTopic',
          TOPIC_SETTINGS_ACTIONS,
          [this.topic.topicArn],
          props.deployment,
        ),
      );
    }
    for (const email of props.emails) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }

  private admitPublisher(sid: string, service: string, conditions: Record<string, unknown> = {}): void {
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid,
        principals: [new iam.ServicePrincipal(service)],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account }, ...conditions },
      }),
    );
  }
}
