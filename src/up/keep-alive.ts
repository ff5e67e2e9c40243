// Holds the event loop open while a command waits on the injected clock: the system clock's
// timers are unref'd (they must never keep a proxy alive), so a CLI waiting only on them —
// `weft down` polling for exit, `weft up` whose children all gave up — would otherwise just
// end mid-wait with exit code 0.

/** Keeps the process alive until the returned function is called. */
export function keepAlive(): () => void {
  const handle = setInterval(() => {}, 1 << 30);
  return () => clearInterval(handle);
}
