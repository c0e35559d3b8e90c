import { z } from 'zod';

// Written from the OpenLineage 2-0-2 spec (spec/OpenLineage.json and spec/facets/*.json): the
// fields each object requires and their types. Objects stay open (the spec allows extra
// properties); the facets this package emits are checked field by field, others as base facets.

const uri = z.string().refine((s) => URL.canParse(s), 'expected a URI');
const dateTime = z.iso.datetime({ offset: true });
const uuid = z.uuid();

/** Every facet: `_producer` and `_schemaURL` (BaseFacet). */
const baseFacet = z.looseObject({ _producer: uri, _schemaURL: uri });
const deletableFacet = baseFacet.extend({ _deleted: z.boolean().optional() });

const jobRef = z.looseObject({ namespace: z.string(), name: z.string() });
const runRef = z.looseObject({ runId: uuid });

const parentFacet = baseFacet.extend({
  run: runRef,
  job: jobRef,
  root: z.looseObject({ run: runRef, job: jobRef }).optional(),
});
const nominalTimeFacet = baseFacet.extend({
  nominalStartTime: dateTime,
  nominalEndTime: dateTime.optional(),
});
const errorMessageFacet = baseFacet.extend({
  message: z.string(),
  programmingLanguage: z.string(),
  stackTrace: z.string().optional(),
});
const jobTypeFacet = deletableFacet.extend({
  processingType: z.string(),
  integration: z.string(),
  jobType: z.string().optional(),
});
const sqlFacet = deletableFacet.extend({ query: z.string(), dialect: z.string().optional() });

interface SchemaField {
  name: string;
  type?: string | undefined;
  description?: string | undefined;
  ordinal_position?: number | undefined;
  fields?: SchemaField[] | undefined;
}
const schemaField: z.ZodType<SchemaField> = z.lazy(() =>
  z.looseObject({
    name: z.string(),
    type: z.string().optional(),
    description: z.string().optional(),
    ordinal_position: z.int().optional(),
    fields: z.array(schemaField).optional(),
  }),
);
const schemaFacet = deletableFacet.extend({ fields: z.array(schemaField).optional() });

const outputStatisticsFacet = baseFacet.extend({
  rowCount: z.int().optional(),
  size: z.int().optional(),
  fileCount: z.int().optional(),
});
const columnMetrics = z.looseObject({
  nullCount: z.int().optional(),
  distinctCount: z.int().optional(),
  sum: z.number().optional(),
  count: z.number().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
});
const dataQualityMetricsFacet = baseFacet.extend({
  rowCount: z.int().optional(),
  bytes: z.int().optional(),
  fileCount: z.int().optional(),
  columnMetrics: z.record(z.string(), columnMetrics),
});
const dataQualityAssertionsFacet = baseFacet.extend({
  assertions: z.array(
    z.looseObject({
      assertion: z.string(),
      success: z.boolean(),
      column: z.string().optional(),
      severity: z.string().optional(),
      name: z.string().optional(),
      content: z.string().optional(),
      contentType: z.string().optional(),
    }),
  ),
});

const runFacets = z
  .looseObject({
    parent: parentFacet.optional(),
    nominalTime: nominalTimeFacet.optional(),
    errorMessage: errorMessageFacet.optional(),
  })
  .catchall(baseFacet);
const jobFacets = z
  .looseObject({ jobType: jobTypeFacet.optional(), sql: sqlFacet.optional() })
  .catchall(deletableFacet);
const datasetFacets = z.looseObject({ schema: schemaFacet.optional() }).catchall(deletableFacet);

const dataset = z.looseObject({
  namespace: z.string().min(1),
  name: z.string().min(1),
  facets: datasetFacets.optional(),
});

/**
 * The zod schema of an OpenLineage RunEvent (spec 2-0-2): required `eventTime`, `producer`,
 * `schemaURL`, `run.runId` (a UUID), `job.namespace` and `job.name`; datasets with `namespace`
 * and `name`; every facet with `_producer` and `_schemaURL`, and the fields each facet this
 * package emits requires. Dataset namespaces and names must also be non-empty here.
 *
 * @example
 * const result = runEventSchema.safeParse(event);
 * if (!result.success) console.error(result.error.issues);
 */
export const runEventSchema = z.looseObject({
  eventTime: dateTime,
  producer: uri,
  schemaURL: uri,
  eventType: z.enum(['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER']).optional(),
  run: z.looseObject({ runId: uuid, facets: runFacets.optional() }),
  job: z.looseObject({ namespace: z.string().min(1), name: z.string().min(1), facets: jobFacets.optional() }),
  inputs: z
    .array(
      dataset.extend({
        inputFacets: z
          .looseObject({
            dataQualityMetrics: dataQualityMetricsFacet.optional(),
            dataQualityAssertions: dataQualityAssertionsFacet.optional(),
          })
          .catchall(baseFacet)
          .optional(),
      }),
    )
    .optional(),
  outputs: z
    .array(
      dataset.extend({
        outputFacets: z
          .looseObject({ outputStatistics: outputStatisticsFacet.optional() })
          .catchall(baseFacet)
          .optional(),
      }),
    )
    .optional(),
});

/** A RunEvent as {@link runEventSchema} accepts it. */
export type RunEventShape = z.infer<typeof runEventSchema>;
