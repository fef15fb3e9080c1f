// Malformed request bytes, and a client that sends raw bytes to any method (identity
// serializers), so the server's decoding is fuzzed as well as its handlers.
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { FuzzValues } from './fuzz-values.js';

export type MalformedKind = 'random' | 'truncated' | 'wrong-wire-type' | 'huge-length' | 'overlong-varint' | 'bad-tag' | 'bit-flip';
export const MALFORMED_KINDS: readonly MalformedKind[] = ['random', 'truncated', 'wrong-wire-type', 'huge-length', 'overlong-varint', 'bad-tag', 'bit-flip'];

/** A protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** Bytes that are not a valid encoding of the method's request, built from a valid one. */
export function malformedPayload(kind: MalformedKind, valid: Uint8Array, v: FuzzValues): Buffer {
  const field = 1 + v.int(12);
  switch (kind) {
    case 'random':
      return v.bytes(512);
    case 'truncated':
      // Cut inside the message (a length-delimited field then claims more than is left).
      return Buffer.from(valid.subarray(0, valid.length > 1 ? 1 + v.int(valid.length - 1) : 0));
    case 'wrong-wire-type': {
      // A known field number with every wire type, including the deprecated groups (3, 4) and the invalid 6, 7.
      const wt = v.int(8);
      return Buffer.concat([Buffer.from([...varint(field * 8 + wt), ...varint(v.int(300))]), Buffer.from(valid)]);
    }
    case 'huge-length':
      // A length-delimited field that claims up to 4 GiB with a few bytes behind it.
      return Buffer.from([...varint(field * 8 + 2), ...varint(v.pick([2 ** 30, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 31 + 7])), 1, 2, 3]);
    case 'overlong-varint':
      return Buffer.from([...varint(field * 8), ...new Array<number>(11 + v.int(5)).fill(0xff), 1]);
    case 'bad-tag':
      // Field number 0 is reserved; a tag that is all continuation bits never ends.
      return v.bool() ? Buffer.from([0x00, 0x01, ...valid]) : Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    case 'bit-flip': {
      const b = Buffer.from(valid.length > 0 ? valid : [0x0a, 0x01, 0x00]);
      for (let i = 1 + v.int(4); i > 0; i--) b[v.int(b.length)] ^= 1 << v.int(8);
      return b;
    }
  }
}

/** What a call came back with: the status, and how many messages a stream delivered first. */
export interface RawReply {
  code: status;
  details: string;
  messages: Buffer[];
}

const identity = (b: Buffer): Buffer => b;

/** Sends raw request bytes to a method by path (unary or server-streaming) and collects the reply. */
export class RawClient {
  private readonly client: Client;

  constructor(address: string, maxMessageBytes = 64 * 1024 * 1024) {
    this.client = new Client(address, credentials.createInsecure(), {
      'grpc.max_receive_message_length': maxMessageBytes,
      'grpc.max_send_message_length': maxMessageBytes,
    });
  }

  call(path: string, bytes: Buffer, streaming: boolean, timeoutMs = 30_000): Promise<RawReply> {
    const deadline = Date.now() + timeoutMs;
    const fail = (err: ServiceError, messages: Buffer[]): RawReply => ({ code: err.code, details: err.details ?? '', messages });
    if (!streaming)
      return new Promise<RawReply>((resolve) =>
        this.client.makeUnaryRequest(path, identity, identity, bytes, new Metadata(), { deadline }, (err, res) =>
          resolve(err ? fail(err, []) : { code: status.OK, details: '', messages: res ? [res] : [] }),
        ),
      );
    return new Promise<RawReply>((resolve) => {
      const messages: Buffer[] = [];
      const stream = this.client.makeServerStreamRequest(path, identity, identity, bytes, new Metadata(), { deadline });
      stream.on('data', (m: Buffer) => messages.push(m));
      stream.on('error', (err: ServiceError) => resolve(fail(err, messages)));
      stream.on('status', (s: { code: status; details: string }) => {
        if (s.code === status.OK) resolve({ code: status.OK, details: s.details, messages });
      });
    });
  }

  /** grpc.health.v1 Check of the whole server: true when it answers SERVING. */
  async serving(): Promise<boolean> {
    // An empty HealthCheckRequest asks about the server; the reply's field 1 (status) is 1 for SERVING.
    const r = await this.call('/grpc.health.v1.Health/Check', Buffer.alloc(0), false, 10_000);
    return r.code === status.OK && r.messages[0]?.equals(Buffer.from([0x08, 0x01])) === true;
  }

  close(): void {
    this.client.close();
  }
}
