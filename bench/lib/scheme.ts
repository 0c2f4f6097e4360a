/**
 * What the benchmark drivers run: one side of a reconciliation scheme as a sans-I/O step
 * machine over frames. A driver (drive-memory.ts, drive-link.ts, or a process of the end to
 * end run) moves the frames; the side only turns frames in into frames out.
 *
 * Every scheme carries entries in the same certsync `entry` frames, so the payload bytes of
 * all schemes are alike and only discovery differs.
 */

/** One frame to send, and whether it carries an entry (payload) or discovery. */
export interface Outgoing {
  readonly frame: Uint8Array;
  readonly payload: boolean;
  /**
   * Names the sketch stream the frame belongs to, if any: its content depends on the side's
   * own store alone, and what let it go was flow control, not something the peer said. It
   * counts at the depth of the side's first frame of that stream, not one past the frame
   * read.
   */
  readonly stream?: string;
}

/** One side of a scheme. */
export interface SchemeSide {
  /** The frames this side sends before hearing anything. */
  start(): Outgoing[];
  /**
   * Takes one frame from the peer and returns the frames to send.
   *
   * @throws Error (or CertsyncError) for a frame the scheme does not accept
   */
  receive(frame: Uint8Array): Outgoing[];
  /** True once this side has nothing more to send or wait for. */
  readonly finished: boolean;
}

/** How a scheme's side is made. */
export interface SideOptions {
  /**
   * Finds the difference and sends every discovery frame as a full run would, but builds
   * and sends none of the entry frames (Outgoing `payload`), so the peer applies nothing.
   * The CPU probe times discovery alone this way, the same for every scheme. Default false.
   */
  readonly withholdEntries?: boolean;
}

/** The schemes measured. */
export const SCHEMES = ['certsync', 'negentropy', 'naive'] as const;
/** A scheme's name. */
export type SchemeName = (typeof SCHEMES)[number];
