/**
 * Which side a socket faces. A turn's reads are handed over lane by lane: upstream ones
 * (responses) first, then downstream ones (requests); socket-read.ts says why. The
 * JavaScript read batch and the native one (native-socket.ts) both use these.
 */
export type ReadLane = typeof READ_LANE_UPSTREAM | typeof READ_LANE_DOWNSTREAM;
export const READ_LANE_UPSTREAM = 0;
export const READ_LANE_DOWNSTREAM = 1;
