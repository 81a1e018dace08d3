import list from './data/hhs-small-zip3.json';

/**
 * The three-digit ZIP code areas of 20,000 people or fewer, which Safe Harbor generalises to
 * 000: a data file (`data/hhs-small-zip3.json`) with its source and version, which every manifest
 * records. When HHS publishes a list from a later census, the file changes, not the code.
 */
export interface SmallAreaList {
  readonly source: string;
  readonly census: string;
  readonly version: string;
  readonly areas: readonly string[];
}

export const HHS_SMALL_ZIP3: SmallAreaList = {
  source: list.source,
  census: list.census,
  version: list.version,
  areas: list.areas,
};
