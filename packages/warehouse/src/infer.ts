// The one type inference of dataflow lives in ingest (API records use it too); seeds use it from here.
export { ColumnTypeInferrer, type InferredType, inferColumnType } from '@dataflow/ingest/lake';
