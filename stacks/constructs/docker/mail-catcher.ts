import { Container } from '@cdktf/provider-docker/lib/container/index.js';
import { Image } from '@cdktf/provider-docker/lib/image/index.js';
import { Construct } from 'constructs';
import type { SmtpEnvironmentProps } from '../app-environment.js';
import type { PrivateNetwork } from './private-network.js';
import { dockerLabels, dockerResourceName, logicalId } from './resource-name.js';

export interface MailCatcherProps {
  /** The environment name (SELFMX_ENV) that prefixes the container's name. */
  readonly env: string;
  readonly network: PrivateNetwork;
  /** A pinned Mailpit image, e.g. axllent/mailpit:v1.20.4. */
  readonly image: string;
  /** The web UI's port on the host. @default 8025 */
  readonly uiPort?: number;
  /** The web UI's host address. @default '127.0.0.1' */
  readonly uiAddress?: string;
}

const SMTP_PORT = 1025;
const UI_PORT = 8025;

/**
 * Mailpit: an SMTP server that keeps every message and shows it in a web UI, so that a local
 * deployment sends mail end to end without an email provider. Its SMTP port stays on the private
 * network; only the UI is published.
 */
export class MailCatcher extends Construct {
  readonly container: Container;
  /** The app's SMTP settings for this catcher: plain SMTP on the private network. */
  readonly smtp: SmtpEnvironmentProps;
  readonly uiUrl: string;

  constructor(scope: Construct, id: string, props: MailCatcherProps) {
    super(scope, id);
    const image = new Image(this, 'image', { name: props.image, keepLocally: true });
    image.overrideLogicalId(logicalId(id));
    const uiPort = props.uiPort ?? UI_PORT;
    const uiAddress = props.uiAddress ?? '127.0.0.1';
    this.container = new Container(this, 'container', {
      name: dockerResourceName(props.env, 'mailpit'),
      image: image.imageId,
      networksAdvanced: [{ name: props.network.name }],
      ports: [{ internal: UI_PORT, external: uiPort, ip: uiAddress }],
      restart: 'unless-stopped',
      labels: dockerLabels(props.env, 'mailpit'),
    });
    this.container.overrideLogicalId(logicalId(id));
    this.smtp = {
      host: this.container.name,
      port: SMTP_PORT,
      tls: false,
      tlsVerify: false,
    };
    this.uiUrl = `http://${uiAddress}:${uiPort}`;
  }
}
