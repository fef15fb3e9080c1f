import { RunSpec } from '@flowprune/proto';

/** A RunSpec with proto3 zero values (= the paper's defaults, see trainer.proto) overlaid by `over`. */
export function runSpec(over: Partial<RunSpec>): RunSpec {
  // fromJSON({}) is the generated code's own list of every field at its zero value.
  return { ...RunSpec.fromJSON({}), ...over };
}
