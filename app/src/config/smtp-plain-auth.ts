import { ConfigError } from './config-error.js';

/** The refusal, shared with the stacks' synth-time check of the SELFMX_SMTP_* variables. */
export function plainAuthRefusal(names: { tls: string; allowPlainAuth: string }): string {
  return `is set while ${names.tls}=false: the relay password would cross the network in the clear. Set ${names.tls}=true (STARTTLS, or implicit TLS on port 465), or, for a relay on a private network only, set ${names.allowPlainAuth}=true`;
}

/** Refuses AUTH over plain SMTP unless SMTP_ALLOW_PLAIN_AUTH says the network is private. */
export function checkSmtpCredentialsEncrypted<S extends { user: string | undefined; tls: boolean }>(
  smtp: S,
  allowPlainAuth: boolean,
): S {
  if (smtp.user !== undefined && !smtp.tls && !allowPlainAuth) {
    throw new ConfigError(
      'SMTP_USER',
      plainAuthRefusal({ tls: 'SMTP_TLS', allowPlainAuth: 'SMTP_ALLOW_PLAIN_AUTH' }),
    );
  }
  return smtp;
}
