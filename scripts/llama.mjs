// llama.mjs: run a GGUF file in the real llama.cpp, the prebuilt
// runtime of the npm package node-llama-cpp (CPU only, never built or
// downloaded here), and read it with the independent GGUF reader
// @huggingface/gguf, for tests/62-gguf.bats and scripts/gguf-speed.sh.
//
// usage: node scripts/llama.mjs COMMAND [MODEL [ARGS]]
//   dir                    the folder of the npm packages
//   packages               the packages, as npm install takes them
//   check                  status 0 if they are there, at those versions
//   info MODEL             the reader's view: architecture, metadata
//                          keys (with scalar values) and tensors (name,
//                          type, shape), one per line
//   tokenize MODEL         llama.cpp's ids of the text on stdin, one a line
//   logits MODEL IDS       the logits after each id of the file IDS (one
//                          id a line): a line of V numbers per position
//   greedy MODEL IDS N     the ids of IDS, then N ids that llama.cpp picks
//                          greedily after them, one a line
//   bench MODEL N          tokens/s of N greedy steps after id 0, on
//                          one thread with llama.cpp's default KV cache
//                          (a line "tokens/s X")
//
// The packages are looked for in $TL_NPM/node_modules (default
// ${XDG_CACHE_HOME:-~/.cache}/tl-npm, where scripts/test-deps.sh
// installs them).  The context is the model's, on one thread; for
// logits with an F32 KV cache and flash attention off, so that only
// llama.cpp's kernels' rounding stands between its logits and tl's.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const npm = process.env.TL_NPM ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "tl-npm");
const mod = (name, file) =>
    import(pathToFileURL(join(npm, "node_modules", name, file)).href);

// The one list of the packages, at the versions the tests were made with.
const PACKAGES = {
	"node-llama-cpp": "3.22.1",
	"@node-llama-cpp/linux-x64": "3.22.1",
	"@huggingface/gguf": "0.4.6",
};

const die = (msg) => {
	process.stderr.write(`llama.mjs: ${msg}\n`);
	process.exit(2);
};

const [cmd, model, ...args] = process.argv.slice(2);
const usage = "usage: node llama.mjs dir|packages|check|info|tokenize|logits|greedy|bench [MODEL [ARGS]]";
if (!cmd)
	die(usage);

const readIds = (file) => readFileSync(file, "utf8").split("\n")
    .filter((l) => l.trim() !== "").map((l) => Number.parseInt(l, 10));
const out = (s) => new Promise((ok) => process.stdout.write(s, ok));

async function info() {
	const { gguf } = await mod("@huggingface/gguf", "dist/index.mjs");
	const { metadata, tensorInfos } = await gguf(model,
	    { allowLocalFile: true });
	const lines = [];

	for (const [k, v] of Object.entries(metadata)) {
		const val = Array.isArray(v) ? `[${v.length}]` : String(v);
		lines.push(`kv ${k} ${val}`);
	}
	for (const t of tensorInfos)
		lines.push(`tensor ${t.name} ${t.dtype} ${t.shape.join("x")}`);
	await out(lines.join("\n") + "\n");
}

async function open() {
	const { getLlama, LlamaLogLevel } = await mod("node-llama-cpp",
	    "dist/index.js");
	const llama = await getLlama({ gpu: false, build: "never",
	    usePrebuiltBinaries: true, progressLogs: false,
	    logLevel: LlamaLogLevel.error });
	const m = await llama.loadModel({ modelPath: model, gpuLayers: 0 });
	return { llama, m };
}

// A context of the model's length on one thread: exact (F32 KV
// cache, flash attention off) to compare logits, or llama.cpp's own
// defaults (F16 KV cache) to time it.
async function context(m, exact = true) {
	const ctx = await m.createContext({
		contextSize: m.trainContextSize, threads: 1, batchSize: 512,
		sequences: 1, ...(exact ? { flashAttention: false,
		    experimentalKvCacheKeyType: "F32",
		    experimentalKvCacheValueType: "F32" } : {}),
	});
	return ctx.getSequence();
}

// The logits after each id: one controlled evaluation of all of them.
async function logitsOf(m, ids) {
	const seq = await context(m);
	const res = await seq.controlledEvaluate(ids.map((t) =>
	    [t, { generateNext: { logits: true } }]));
	return res.map((r) => {
		const row = [];
		for (const [t, l] of r.next.logits)
			row[t] = l;
		return row;
	});
}

function check() {
	for (const [name, version] of Object.entries(PACKAGES)) {
		const file = join(npm, "node_modules", name, "package.json");
		let v;
		try {
			v = JSON.parse(readFileSync(file, "utf8")).version;
		} catch {
			die(`${name}: not in ${npm}`);
		}
		if (v !== version)
			die(`${name}: version ${v} in ${npm}, not ${version}`);
	}
}

async function main() {
	if (cmd === "dir")
		return out(npm + "\n");
	if (cmd === "packages")
		return out(Object.entries(PACKAGES).map(([n, v]) => `${n}@${v}`)
		    .join(" ") + "\n");
	if (cmd === "check")
		return check();
	if (!model)
		die(usage);
	if (cmd === "info")
		return info();
	const { m } = await open();
	if (cmd === "tokenize") {
		const text = readFileSync(0, "utf8");
		const ids = m.tokenize(text, false);
		return out(ids.join("\n") + (ids.length ? "\n" : ""));
	}
	if (cmd === "logits") {
		const rows = await logitsOf(m, readIds(args[0]));
		return out(rows.map((r) => Array.from(r, (x) => x.toPrecision(9))
		    .join(" ")).join("\n") + "\n");
	}
	if (cmd === "greedy") {
		const ids = readIds(args[0]);
		const n = Number.parseInt(args[1], 10);
		const seq = await context(m);
		let next = await seq.controlledEvaluate(ids.map((t, i) =>
		    i === ids.length - 1 ? [t, { generateNext: { logits: true } }] : t));
		for (let k = 0; k < n; k++) {
			const r = next[next.length - 1];
			const top = r.next.logits.entries().next().value[0];
			ids.push(top);
			next = await seq.controlledEvaluate([[top,
			    { generateNext: { logits: true } }]]);
		}
		return out(ids.join("\n") + "\n");
	}
	if (cmd === "bench") {
		// greedy from id 0 until n ids are made; the clock starts at
		// the first one (the prompt's evaluation left out)
		const n = Number.parseInt(args[0], 10);
		const seq = await context(m, false);
		let k = 0, t0;
		for await (const t of seq.evaluate([0], { temperature: 0 })) {
			void t;
			if (k === 0)
				t0 = process.hrtime.bigint();
			if (++k > n)
				break;
		}
		const s = Number(process.hrtime.bigint() - t0) / 1e9;
		return out(`tokens/s ${(n / s).toFixed(1)}\n`);
	}
	die(`${cmd}: unknown command`);
}

main().then(() => process.exit(0), (e) => die(e && e.message ? e.message : String(e)));
