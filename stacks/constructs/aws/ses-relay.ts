import type { SmtpRelayConfig } from '../../config/deployment-config.js';
import type { SmtpEnvironmentProps } from '../app-environment.js';

/** Amazon SES's SMTP endpoint port (STARTTLS), used when no relay is configured. */
export const SES_SMTP_PORT = 587;

/** Amazon SES in the stack's region: where the app sends when SELFMX_SMTP_HOST is unset. */
export function sesRelay(region: string): SmtpEnvironmentProps {
  return {
    host: `email-smtp.${region}.amazonaws.com`,
    port: SES_SMTP_PORT,
    tls: true,
    tlsVerify: true,
  };
}

/** The port the app tasks send mail to: the configured relay's, or Amazon SES's. */
export function smtpRelayPort(smtp: SmtpRelayConfig | undefined): number {
  return smtp?.port ?? SES_SMTP_PORT;
}
