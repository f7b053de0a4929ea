// Socket reads into buffers the broker chooses. By default Node reads every chunk into a fresh
// 64 KiB buffer, then reallocates it (zero-filled) to the bytes read and copies them over; the
// connection then copies them a third time into the request's buffer. At 200 MB/s of produce that
// is most of the broker's own CPU besides the kernel's (bench/RESULTS.md). With a net.Socket's
// `onread` option the kernel reads straight into a buffer given by a function, so a request body
// lands in its pooled buffer with no copy and nothing allocated per read.
//
// net.Server has no `onread` option for the sockets it accepts, so the accepted socket's handle is
// moved into a socket that has one, as Node itself does when it passes a handle to a child
// process. The accepted socket stays behind, handle-less, until the new one closes, so the
// server's connection count (max.connections, close()) stays right. Where this Node's sockets do
// not look as expected, adopt() returns null and the caller reads the accepted socket as usual.
import net from 'node:net';

/** Called before each read: where the next bytes go. */
export type ReadTarget = () => Buffer;
/** Called after each read with the byte count and the buffer ReadTarget gave for it; true. */
export type ReadCallback = (bytes: number, target: Uint8Array) => boolean;

interface HandleOwner {
  _handle?: { readStart?: unknown; useUserBuffer?: unknown } | null;
}

/**
 * Moves `accepted`'s connection into a socket that reads through `target`/`onRead` (`direct`), or
 * returns null when the handle cannot be moved (then nothing has changed and `accepted` is read
 * as usual). `direct` is false where this Node ignored `onread` for a socket built on a handle:
 * that socket then emits 'data' events like any other. `accepted` must come from a server created
 * with pauseOnConnect, so no byte has been read into Node's buffers yet.
 */
export function adopt(accepted: net.Socket, target: ReadTarget, onRead: ReadCallback): { socket: net.Socket; direct: boolean } | null {
  const owner = accepted as unknown as HandleOwner;
  const handle = owner._handle;
  if (typeof handle !== 'object' || handle === null || typeof handle.readStart !== 'function' || typeof handle.useUserBuffer !== 'function') {
    return null;
  }
  let direct = false;
  const buffer = (): Buffer => {
    direct = true;
    return target();
  };
  owner._handle = null;
  let socket: net.Socket;
  try {
    socket = new net.Socket({ handle, readable: true, writable: true, onread: { buffer, callback: onRead } } as unknown as net.SocketConstructorOpts);
  } catch {
    owner._handle = handle;
    return null;
  }
  socket.once('close', () => accepted.destroy());
  return { socket, direct };
}
