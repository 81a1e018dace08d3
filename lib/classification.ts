import { Tags } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The tag every data store carries; its value decides the store's controls. */
export const DATA_CLASSIFICATION_TAG = 'DataClassification';

export const DATA_CLASSIFICATIONS = ['phi', 'pii', 'proprietary', 'public'] as const;
export type DataClassification = (typeof DATA_CLASSIFICATIONS)[number];

/** Tags a data store (and the resources inside the construct) with its classification. */
export function classify(scope: IConstruct, classification: DataClassification): void {
  Tags.of(scope).add(DATA_CLASSIFICATION_TAG, classification);
}
