// grpc-js answers a request whose bytes do not decode as its message with INTERNAL, the code for a
// server bug. Bytes from the wire are the caller's input, so a service's decoders are wrapped here:
// a decode failure becomes a marker, and the method's handler answers it with INVALID_ARGUMENT
// naming the method and the decoder's reason, before any service code runs.
import {
  Metadata,
  status,
  type MethodDefinition,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

class MalformedRequest {
  constructor(readonly details: string) {}
}

type AnyMethod = MethodDefinition<unknown, unknown>;

function guardedDeserialize(method: AnyMethod): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return method.requestDeserialize(bytes);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      return new MalformedRequest(`request: ${bytes.length} bytes are not a valid ${method.path} request message (${reason}); send a protobuf-encoded request`);
    }
  };
}

const malformedStatus = (m: MalformedRequest) => ({ code: status.INVALID_ARGUMENT, details: m.details, metadata: new Metadata() });

type UnaryHandler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;
type StreamHandler = (call: ServerWritableStream<unknown, unknown>) => void;

function guardedHandler(method: AnyMethod, handler: unknown): unknown {
  if (typeof handler !== 'function' || method.requestStream) return handler; // client streams read their own messages
  if (method.responseStream) {
    const h = handler as StreamHandler;
    return (call: ServerWritableStream<unknown, unknown>) => {
      if (call.request instanceof MalformedRequest) call.emit('error', malformedStatus(call.request));
      else h(call);
    };
  }
  const h = handler as UnaryHandler;
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    if (call.request instanceof MalformedRequest) callback(malformedStatus(call.request));
    else h(call, callback);
  };
}

/** The service with decode failures of unary and server-streaming requests turned into INVALID_ARGUMENT. */
export function guardRequestDecoding(
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const def: Record<string, AnyMethod> = {};
  const impl: UntypedServiceImplementation = { ...implementation };
  for (const [key, m] of Object.entries(definition as Record<string, AnyMethod>)) {
    def[key] = { ...m, requestDeserialize: guardedDeserialize(m) };
    const handlerKey = key in implementation ? key : (m.originalName ?? key);
    if (handlerKey in implementation) impl[handlerKey] = guardedHandler(m, implementation[handlerKey]) as UntypedServiceImplementation[string];
  }
  return { definition: def as ServiceDefinition, implementation: impl };
}
