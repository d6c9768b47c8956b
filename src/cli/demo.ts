/**
 * The demo flow that `weir demo` (the README's first command) runs: a
 * simulated temperature sensor, hot readings logged, and a summary of
 * every batch of ten readings. Kept in code so that the executable reads
 * nothing from the source tree.
 *
 * @module
 */

/** The demo flow in .fbp text. */
export const DEMO_FLOW = `# @name demo
# A simulated sensor reading every 500 ms; readings above 27 °C are logged,
# and every 10 readings a summary (count, mean) is logged.
'500ms' -> interval Tick(core/Interval)
'{"sensor": "s" & $string($ % 3), "celsius": $round(18 + $random() * 12, 1)}' -> expr Reading(flow/Map)
'celsius > 27' -> expr Hot(flow/Filter)
'{"hot": $}' -> expr Alert(flow/Map)
10 -> size Batch(flow/Batch)
'{"readings": $count($), "mean_celsius": $round($average($.celsius), 2)}' -> expr Summary(flow/Map)

Tick out -> in Reading out -> (50) in Hot out -> in Alert out -> in Log(core/Output)
Reading out -> (50) in Batch out -> in Summary out -> in Log
`;

/**
 * Where `weir demo` serves metrics unless told otherwise: the port after
 * `weir serve`'s default 9464, so that the demo and a server started with
 * their defaults both run.
 */
export const DEMO_METRICS = { hostname: "127.0.0.1", port: 9465 } as const;
