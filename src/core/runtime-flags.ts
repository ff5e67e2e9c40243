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
// - `--no-parallel-scavenge`: a 1 MiB young generation is collected faster by the main
//   thread alone than by handing work to helper threads and waiting for them (a scavenge
//   every ~185 requests; `strace -c` at 1000 requests/s counted 4.5x the relay's futex
//   calls). `npm run bench:ab`: 0.94x and 0.98x CPU per request at saturation, 0.98x on
//   TCP, 0.92x, 1.02x and 0.95x at 1000 rps (docs/benchmarks.md, "The twelfth round").

export const WEFT_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--no-allocation-site-pretenuring',
  '--no-parallel-scavenge',
];
