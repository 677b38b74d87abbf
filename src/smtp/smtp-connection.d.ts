// The connection class of smtp-server, reached through its "./lib/*" export (replies.ts
// patches its send()); TypeScript's node resolution does not read package exports.
declare module 'smtp-server/lib/smtp-connection.js' {
  export const SMTPConnection: unknown;
}

declare module 'smtp-server/lib/smtp-stream.js' {
  export const SMTPStream: unknown;
}

declare module 'smtp-server/lib/sasl.js' {
  const SASL: unknown;
  export default SASL;
}
