import type { Construct } from 'constructs';
import type { SmtpRelayConfig } from '../../config/deployment-config.js';
import type { SmtpEnvironmentProps } from '../app-environment.js';
import { SecretInput } from '../secret-input.js';
import { MailCatcher } from './mail-catcher.js';
import type { PrivateNetwork } from './private-network.js';

export interface MailDeliveryProps {
  /** SELFMX_ENV: prefixes the Mailpit container's name. */
  readonly env: string;
  /** The SMTP relay; undefined runs Mailpit on the private network instead. */
  readonly relay: SmtpRelayConfig | undefined;
  readonly network: PrivateNetwork;
  /** The pinned Mailpit image, used without a relay. */
  readonly mailpitImage: string;
  /** The host port of Mailpit's web UI. @default 8025 */
  readonly mailpitUiPort?: number;
}

/**
 * Where the app sends mail: the configured SMTP relay (its password a sensitive Terraform
 * variable), or else a Mailpit container on the private network.
 *
 * Not a construct of its own: its parts are declared in `scope` (the stack), which keeps their
 * Terraform addresses as they have always been.
 */
export class MailDelivery {
  /** The app's SMTP settings. */
  readonly smtp: SmtpEnvironmentProps;
  /** The Mailpit container, when there is no relay. */
  readonly mailCatcher: MailCatcher | undefined;

  constructor(scope: Construct, props: MailDeliveryProps) {
    if (props.relay === undefined) {
      this.mailCatcher = new MailCatcher(scope, 'mailpit', {
        env: props.env,
        network: props.network,
        image: props.mailpitImage,
        uiPort: props.mailpitUiPort,
      });
      this.smtp = this.mailCatcher.smtp;
      return;
    }
    const { pass, ...relay } = props.relay;
    if (pass === 'none') {
      this.smtp = relay;
      return;
    }
    const password = new SecretInput(scope, 'smtp-pass', {
      source: 'variable',
      variableName: 'smtp_pass',
      description: 'The SMTP relay password (SELFMX_SMTP_PASS); set it as TF_VAR_smtp_pass.',
    });
    this.smtp = { ...relay, pass: password.value };
  }
}
