// export_duckdb.cjs NPM_DIR NDJSON_DIR CSV_ZSTD_DIR NDJSON_ZSTD_DIR - DuckDB
// (the npm package @duckdb/node-api, installed under NPM_DIR by .ci/run)
// reads `procsnap export` of two snapshots: one query over both, joined on
// snapshot_id, in each format.  Prints one JSON object (test_export.c).
'use strict';
const [npmDir, ndjson, csvZst, ndjsonZst] = process.argv.slice(2);
const { DuckDBInstance } = require(require.resolve('@duckdb/node-api', { paths: [npmDir] }));

async function main() {
	const con = await (await DuckDBInstance.create(':memory:')).connect();
	const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjects();
	const perSnapshot = (dir, ext, reader) => rows(`
		SELECT CAST(s.snapshot_id AS VARCHAR) AS snapshot_id, s.hostname AS hostname,
		       count(p.pid) AS processes
		FROM ${reader}('${dir}/snapshots.${ext}') s
		LEFT JOIN ${reader}('${dir}/processes.${ext}') p USING (snapshot_id)
		GROUP BY ALL ORDER BY processes, snapshot_id`);
	const out = {
		ndjson: await perSnapshot(ndjson, 'ndjson', 'read_json_auto'),
		csv_zst: await perSnapshot(csvZst, 'csv.zst', 'read_csv_auto'),
		ndjson_zst: await perSnapshot(ndjsonZst, 'ndjson.zst', 'read_json_auto'),
		// an osquery-style query over the fleet: listening ports and their process
		listeners: await rows(`
			SELECT CAST(l.snapshot_id AS VARCHAR) AS snapshot_id, l.port, p.name
			FROM read_json_auto('${ndjson}/listening_ports.ndjson') l
			JOIN read_json_auto('${ndjson}/processes.ndjson') p
			  ON p.snapshot_id = l.snapshot_id AND p.pid = l.pid
			WHERE l.family = 2 ORDER BY l.port`),
	};
	console.log(JSON.stringify(out, (k, v) => (typeof v === 'bigint' ? Number(v) : v)));
}
main().catch((e) => {
	console.error(String(e));
	process.exit(1);
});
