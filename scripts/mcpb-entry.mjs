// Entry of the Claude Desktop bundle: the host passes each chosen photo folder as a bare argument (that is how a
// `multiple` directory setting expands), so turn them into --allow-dir flags, then start the server.
const args = process.argv.slice(2).flatMap((arg) => (arg.startsWith("-") ? [arg] : ["--allow-dir", arg]));
process.argv = [process.argv[0] ?? "node", new URL("dist/index.js", import.meta.url).pathname, ...args];
await import("./dist/index.js");
