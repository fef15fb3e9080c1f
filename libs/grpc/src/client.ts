import {
  credentials,
  Metadata,
  type CallOptions,
  type Client,
  type ClientOptions,
  type ServiceError,
} from '@grpc/grpc-js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './server.js';
import { channelCredentials, type TlsMaterial } from './tls.js';
import { environmentTls } from './tls-options.js';

type ClientCtor<C> = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: Partial<ClientOptions>,
) => C;

/**
 * HTTP/2 receive window of our clients. The default 64 KiB makes a server stream of 384 KiB batches
 * wait for a WINDOW_UPDATE round trip several times per message; 8 MiB lets the data-loader run
 * ~20 batches ahead and doubled the streamed images/s in `flowprune bench --suites data`.
 */
const CLIENT_FLOW_CONTROL_WINDOW = 8 * 1024 * 1024;

/**
 * A client of a generated service with our message-size limits and flow-control window, over TLS
 * when `tls` says so; by default the FLOWPRUNE_TLS_* variables decide (null: plaintext).
 */
export function makeClient<C extends Client>(Ctor: ClientCtor<C>, address: string, tls: TlsMaterial | null = environmentTls()): C {
  const channel = channelCredentials(tls);
  return new Ctor(address, channel.credentials, {
    ...channel.options,
    'grpc.max_receive_message_length': DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': DEFAULT_MAX_MESSAGE_BYTES,
    'grpc-node.flow_control_window': CLIENT_FLOW_CONTROL_WINDOW,
  });
}

export type UnaryMethod<Req, Res> = (
  req: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  cb: (err: ServiceError | null, res: Res) => void,
) => unknown;

/** Calls a generated unary method as a promise, with a deadline. */
export function call<Req, Res>(client: Client, method: UnaryMethod<Req, Res>, req: Req, timeoutMs = 10 * 60_000): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    method.call(client, req, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** Waits until the channel is connected (the server is up), or fails after `timeoutMs`. */
export function waitForReady(client: Client, timeoutMs = 30_000): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())),
  );
}
