import { Annotations } from 'cdktf';
import type { Construct } from 'constructs';
import type { SmtpRelayConfig } from '../../config/deployment-config.js';
import { sesRelay } from './ses-relay.js';

export interface InsecureDefaultsProps {
  readonly region: string;
  /** The SMTP relay; undefined: Amazon SES, which needs SMTP credentials the stack cannot give. */
  readonly smtp: SmtpRelayConfig | undefined;
  /** undefined: the load balancer serves plain HTTP. */
  readonly certificateArn: string | undefined;
  /** A production environment, which Terraform refuses to plan without a certificate. */
  readonly protect: boolean;
}

/** Synth warnings (shown by `cdktf synth`, on `scope`) for settings a deployment should not keep. */
export function warnAboutInsecureDefaults(scope: Construct, props: InsecureDefaultsProps): void {
  if (!props.smtp) {
    const ses = sesRelay(props.region);
    Annotations.of(scope).addWarning(
      `SELFMX_SMTP_HOST is unset: SelfMX sends through Amazon SES (${ses.host}:${ses.port}) without credentials; set SELFMX_SMTP_HOST, SELFMX_SMTP_USER and SELFMX_SMTP_PASS.`,
    );
  }
  if (!props.certificateArn) {
    Annotations.of(scope).addWarning(
      props.protect
        ? 'SELFMX_CERTIFICATE_ARN is unset: this production stack would serve plain HTTP, so terraform plan (cdktf deploy selfmx-aws) refuses it; give an ACM certificate for HTTPS.'
        : 'SELFMX_CERTIFICATE_ARN is unset: this ephemeral environment serves the API over plain HTTP; give an ACM certificate for HTTPS.',
    );
  }
}
