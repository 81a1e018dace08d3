import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlertTopicProps {
  /** Encrypts messages at rest; must admit the services that publish alerts. */
  readonly encryptionKey: kms.IKey;
  /** Addresses subscribed to every alert. */
  readonly emails: readonly string[];
}

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
    for (const email of props.emails) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }
}
