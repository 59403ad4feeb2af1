import type { OutgoingEmail } from '../smtp/outgoing-email.js';

/** An emails row as a worker claims it: everything needed to build and deliver the message. */
export interface QueuedEmail extends OutgoingEmail {
  readonly tenantId: string;
  /** Delivery attempts started so far, this one included (since a re-queue by hand). */
  readonly attempts: number;
  /** Attempts the relay answered with a 4xx so far (this one not included). */
  readonly relayDeferrals: number;
  /** The first attempt's claim (since a re-queue by hand): the age retries are bounded by. */
  readonly attemptingSince: Date;
  /** Whether `delivery_delayed` was already emitted for this email. */
  readonly delayNoticeSent: boolean;
  readonly createdAt: Date;
  /** Outcomes of earlier attempts per recipient (bare address -> status); empty when uniform. */
  readonly recipientStatuses: Readonly<Record<string, string>>;
  /** The recipients (as stored) that are on the tenant's suppression list. */
  readonly suppressedRecipients: readonly string[];
}

/** Columns selected for a claim, as `QueuedEmail` fields, from the claim's `claimed` rows. */
export const QUEUED_EMAIL_COLUMNS = `
  id, tenant_id AS "tenantId", from_address AS "fromAddress", to_addresses AS "toAddresses",
  cc_addresses AS "ccAddresses", bcc_addresses AS "bccAddresses", reply_to AS "replyTo",
  subject, html, text, headers, attachments, attempts, created_at AS "createdAt",
  relay_deferrals AS "relayDeferrals", attempting_since AS "attemptingSince",
  delayed_event_at IS NOT NULL AS "delayNoticeSent",
  (SELECT coalesce(jsonb_object_agg(r.address, r.status), '{}') FROM email_recipients r
    WHERE r.email_id = claimed.id) AS "recipientStatuses",
  ARRAY(SELECT mailbox
          FROM unnest(claimed.to_addresses || claimed.cc_addresses || claimed.bcc_addresses)
               AS recipient(mailbox)
         WHERE EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = claimed.tenant_id
                          AND s.email = selfmx_address_key(recipient.mailbox)))
    AS "suppressedRecipients"`;
