// Credentials never reach logs, traces or run records: a URI keeps its scheme, user, hosts and
// database (what a reader needs to tell stores apart) and loses its password and secret parameters.

const MASK = '***';

/** scheme://userinfo@ — the userinfo runs to the last '@' before the path (passwords may hold '@'). */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#]*)@/gi;

/** Query parameters that carry secrets (MongoDB's and the common generic ones). */
const SECRET_PARAMS = /([?&;](?:password|passwd|pwd|secret|token|access_token|api_?key|sig|signature|tlsCertificateKeyFilePassword|sslPEMKeyPassword|authMechanismProperties)=)([^&;\s#"']*)/gi;

/** PEM private key blocks, in case key material ends up in a message. */
const PRIVATE_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g;

/** `text` with every URI password, secret query parameter and private key block masked. */
export function redactSecrets(text: string): string {
  return text
    .replace(USERINFO, (_m, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return colon < 0 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:${MASK}@`;
    })
    .replace(SECRET_PARAMS, (_m, key: string) => `${key}${MASK}`)
    .replace(PRIVATE_KEY, `[private key redacted]`);
}

/** A store location or other URI fit to print: directories come back unchanged. */
export function redactUri(location: string): string {
  return redactSecrets(location);
}

/** True when `text` carries something redactSecrets would mask. */
export function hasSecrets(text: string): boolean {
  return redactSecrets(text) !== text;
}
