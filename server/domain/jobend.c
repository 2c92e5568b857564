/* jobend.c — the end of a download as a function of what is known about the card: the commit
 * point (the CDF entry's APDU) divides "nothing of the job is on the card" from "the card may
 * hold the certificate", and only a model of the card can settle the second. */
#include "jobend.h"

bool jobend_shows_cert(const struct card_model *m, const struct card_pubkey *key)
{
	return m && key && m->status == CARD_STATUS_OK && card_cert_certifies(&m->sign, key);
}

enum jobend jobend_after_work(const struct jobend_work *w)
{
	if (w->shows_cert)
		return JOBEND_DONE;
	if (w->gone)
		return w->commit_sent ? JOBEND_INTERRUPTED : JOBEND_REMOVED;
	return w->err == CARD_OK ? JOBEND_NOT_SHOWN : JOBEND_CARD_ERROR;
}

enum jobend jobend_returned(const struct card_model *m, const struct card_pubkey *key)
{
	if (m->status != CARD_STATUS_OK)
		return JOBEND_INTERRUPTED;
	if (jobend_shows_cert(m, key))
		return JOBEND_DONE;
	/* A certificate that parses but is not for the card's signing key reads as absent
	 * (sign_cert_mismatch): for the job it is another certificate all the same. */
	return m->sign.present || m->sign_cert_mismatch ? JOBEND_RETURNED_OTHER
							: JOBEND_RETURNED_WITHOUT;
}
