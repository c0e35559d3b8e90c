/** How a partition swap COPYs its part files into the fresh table. */
export type SwapCopyMode =
  /** One connection, one transaction: CREATE the fresh table, then `COPY … FREEZE` each file. */
  | { mode: 'freeze' }
  /** The fresh table committed empty first, then `connections` files COPYed at once, each on its own connection. */
  | { mode: 'parallel'; connections: number };

/** What {@link chooseSwapCopyMode} decides from. */
export interface SwapCopyInputs {
  /** Part files of the partition. */
  files: number;
  /** Cores this process may use (`os.availableParallelism()`). */
  cores: number;
  /** Files COPYed at once at most (the load's `parallel`, already capped at the pool size - 1). */
  parallel: number;
  /** `parallel` was set by the caller: it wins over the core count (tests, tuning). */
  explicit: boolean;
}

/**
 * FREEZE and parallel COPY exclude each other: FREEZE needs the table created in the COPYing
 * transaction, which other connections cannot see. Parallel COPY wins whenever there is more
 * than one file and more than one core: each backend parses its own file while Node gunzips and
 * hashes. `bench/warehouse/load-design-bench.ts` measured it at 0.55–0.79× the time of FREEZE on
 * one connection for a 2 M-row partition on 2 cores, whatever the gzip and part size (paired
 * medians, package README). Frozen rows only spare later readers their hint-bit writes, which
 * costs less than the second core. A single file (or a single core, or `parallel: 1`) keeps
 * FREEZE: nothing to split, and no committed empty table to clean up after a kill. Pure.
 *
 * @example
 * chooseSwapCopyMode({ files: 4, cores: 2, parallel: 3, explicit: false }); // { mode: 'parallel', connections: 2 }
 * chooseSwapCopyMode({ files: 1, cores: 8, parallel: 3, explicit: false }); // { mode: 'freeze' }
 */
export function chooseSwapCopyMode(inputs: SwapCopyInputs): SwapCopyMode {
  const connections = Math.min(
    inputs.files,
    inputs.parallel,
    inputs.explicit ? inputs.parallel : inputs.cores,
  );
  return connections >= 2 ? { mode: 'parallel', connections } : { mode: 'freeze' };
}
