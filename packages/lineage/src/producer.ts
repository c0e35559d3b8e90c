/** This package's version, in the producer URI. */
export const LINEAGE_VERSION = '0.1.0';

/**
 * The default `producer` of events and `_producer` of facets: the published package, by version.
 *
 * @example
 * commandEvent({ producer: PRODUCER, … }, 'START');
 */
export const PRODUCER = `https://www.npmjs.com/package/@dataflow/lineage/v/${LINEAGE_VERSION}`;
