import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { classify } from '../classification';
import { removalPolicyFor } from '../retention';

export interface ModelEndpointProps {
  readonly endpointName: string;
  /** The SageMaker model it serves (made by the ML engineer, in the segment), on what instances. */
  readonly model: {
    readonly name: string;
    readonly instanceType: string;
    readonly initialInstanceCount: number;
    /** The share of requests and responses captured, in percent. */
    readonly captureSamplingPercentage: number;
  };
  /** The segment's key: the endpoint's instance volumes. */
  readonly volumeKey: kms.IKey;
  /** Where requests and responses are captured (the models zone, under its capture prefix), and with what key. */
  readonly capture: { readonly bucket: s3.IBucket; readonly prefix: string; readonly key: kms.IKey };
}

/**
 * A SageMaker endpoint and its configuration: volumes under the segment key, every request and
 * response of the sample captured (JSON) to the given prefix with the given key. The endpoint is
 * the construct's default child, and its configuration keeps the logical id `EndpointConfig`, so
 * that a deployed endpoint is not replaced. The endpoint's removal policy follows the blueprint's
 * retention (kept unless it failed on create).
 */
export class ModelEndpoint extends Construct {
  readonly endpoint: sagemaker.CfnEndpoint;
  readonly config: sagemaker.CfnEndpointConfig;

  constructor(scope: Construct, id: string, props: ModelEndpointProps) {
    super(scope, id);
    const { model, capture } = props;
    this.config = new sagemaker.CfnEndpointConfig(this, 'Config', {
      kmsKeyId: props.volumeKey.keyArn,
      productionVariants: [
        {
          variantName: 'AllTraffic',
          modelName: model.name,
          instanceType: model.instanceType,
          initialInstanceCount: model.initialInstanceCount,
          initialVariantWeight: 1,
        },
      ],
      dataCaptureConfig: {
        enableCapture: true,
        initialSamplingPercentage: model.captureSamplingPercentage,
        destinationS3Uri: `s3://${capture.bucket.bucketName}/${capture.prefix}${props.endpointName}`,
        kmsKeyId: capture.key.keyArn,
        captureOptions: [{ captureMode: 'Input' }, { captureMode: 'Output' }],
        captureContentTypeHeader: { jsonContentTypes: ['application/json'] },
      },
    });
    // Its id as a sibling of the endpoint, before the two became one construct.
    this.config.overrideLogicalId(`${id}Config`);
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Default', {
      endpointName: props.endpointName,
      endpointConfigName: this.config.attrEndpointConfigName,
    });
    this.endpoint.applyRemovalPolicy(removalPolicyFor(props.endpointName));
    classify(this.endpoint, 'proprietary');
  }
}
