// Turns a failed connection (UNAVAILABLE) into a hint about TLS: grpc-js reports a handshake that
// went wrong as "No connection established", whose last error says why in OpenSSL's words.
import { status } from '@grpc/grpc-js';
import { isServiceError } from './errors.js';

export interface ClientTlsState {
  /** The client speaks TLS. */
  tls: boolean;
  /** The client presents a certificate. */
  clientCert: boolean;
}

/** A one-line hint for an UNAVAILABLE error, or undefined when the error says nothing about TLS. */
export function tlsHint(err: unknown, client: ClientTlsState): string | undefined {
  if (!isServiceError(err) || err.code !== status.UNAVAILABLE) return undefined;
  const why = err.details ?? '';
  if (!client.tls) {
    // A plaintext client to a TLS server sees the connection close before HTTP/2 starts.
    if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH/.test(why)) return undefined;
    return 'if the server requires TLS: pass --tls-ca <ca.pem> (and --tls-cert/--tls-key if it requires client certificates), or set FLOWPRUNE_TLS_CA';
  }
  if (/wrong version number|packet length too long|http request/i.test(why))
    return 'the server does not speak TLS: start it with --tls-cert/--tls-key, or connect without --tls-ca/FLOWPRUNE_TLS_CA';
  if (/certificate required/i.test(why)) return 'the server requires a client certificate (mutual TLS): pass --tls-cert and --tls-key signed by its CA';
  if (/self[- ]signed|unable to (get|verify)|certificate (has expired|is not yet valid)|not trusted|UNABLE_TO_VERIFY/i.test(why))
    return "the server's certificate is not signed by the CA in --tls-ca: pass the CA that signed the server's certificate";
  if (/altnames|Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME/i.test(why))
    return "the server's certificate does not name the address dialled: connect by a name it lists, or pass --tls-server-name <name>";
  if (client.clientCert && /Failed to connect|bad certificate|unknown ca|alert/i.test(why))
    return "the server may have refused this client's certificate: pass --tls-cert/--tls-key signed by the server's --tls-ca";
  return undefined;
}
