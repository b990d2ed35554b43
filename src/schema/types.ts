// Column types by information_schema's DATA_TYPE, where several parts must agree on them.

/** The spatial types (their values are bytes: WKB with an SRID). */
export const SPATIAL_TYPES: readonly string[] = [
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
];
