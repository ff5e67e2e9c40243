// The V8 flags Weft runs with. `bin/weft.js` carries them in its shebang (a command run as
// `npx weft` or `./bin/weft.js` gets them there); whatever starts a Weft process itself
// (`weft up`, `weft run`, the control-plane bench) passes this list. A test keeps the two
// in step.
//
// - `--max-semi-space-size=1`: a proxy allocates many short-lived objects, and V8's default
//   young generation grows to 16 MiB semi-spaces, which cost ~13 MB of RSS per proxy with
//   no measured throughput gain.
// - `--no-allocation-site-pretenuring`: with semi-spaces that small, the objects of the
//   requests in flight at each scavenge survive it, and V8 then decides to allocate those
//   sites straight into the old generation. Request objects die young, so the old
//   generation filled with garbage and was marked every ~2 s; on a route with retries and
//   an access log that cost ~10% more CPU per request (docs/benchmarks.md).

export const WEFT_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--no-allocation-site-pretenuring',
];
