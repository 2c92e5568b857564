/* session.c — the operations of a card session (card.h): each public call checks what the
 * session knows (model, layout) and runs one worker of ops.c; PINs and PUKs are never kept,
 * never retried. The session lives on the stack of card_session_run() for one piece of work. */
#include "session.h"

#include <openssl/crypto.h>
#include <string.h>

#include "ops.h"

struct card_session {
	const struct apdu_transport *t;
	const struct card_model *m;
	const struct siths_layout *l;
	struct session_effects *fx;
};

card_err card_session_run(const struct apdu_transport *t, const struct card_model *m,
			  const struct siths_layout *layout, card_work_fn fn, void *user,
			  struct session_effects *fx)
{
	struct siths_layout fresh;
	struct session_effects none;
	card_err e = CARD_OK;
	memset(&fresh, 0, sizeof(fresh));
	if (!fx)
		fx = &none;
	memset(fx, 0, sizeof(*fx));
	if (!layout || !layout->usable) {
		if ((e = siths_layout_read(t, &fresh)) != CARD_OK)
			goto out;
		layout = &fresh;
	}
	/* The layout is known: the application's SELECT is all that comes before the work's VERIFY. */
	if ((e = siths_select_app(t, &layout->app)) != CARD_OK)
		goto out;
	struct card_session s = { .t = t, .m = m, .l = layout, .fx = fx };
	e = fn(&s, m, user);
out:
	siths_layout_free(&fresh);
	return e;
}

/* The PIN's rules and encoding from the AODF, kept in the layout with the model. */
static const struct siths_pin *pin_of(const card_session *s, enum card_pin_which which)
{
	return which == CARD_PIN2 ? &s->l->pin2 : &s->l->pin1;
}

static const struct card_pin *pin_model(const card_session *s, enum card_pin_which which)
{
	return which == CARD_PIN2 ? &s->m->pin2 : &s->m->pin1;
}

/* Our format check (nothing sent) or the card's 6A80 to a code: either way, its format. */
static card_err format_is_pin(card_err e)
{
	return e == CARD_E_WRONG_DATA ? CARD_E_PIN_FORMAT : e;
}

/* After the VERIFY was accepted, a PIN status word to another command is the card's fault and
 * must not reach the user as a wrong or blocked PIN. */
static card_err not_a_pin_error(card_err e)
{
	return e == CARD_E_PIN_WRONG || e == CARD_E_PIN_BLOCKED ? CARD_E_CARD_ERROR : e;
}

/* What the answer e to a VERIFY (empty or with the PIN) of `which` tells of its state. */
static void note_pin(card_session *s, enum card_pin_which which, card_err e, int tries_left,
		     bool verified)
{
	struct session_effects *fx = s->fx;
	struct iso_pin_status st = { .tries_left = -1, .activated = true };
	switch (e) {
	case CARD_OK:
		if (verified) {
			/* The counter is full again: known once this card told how full that is. */
			unsigned max = pin_model(s, which)->tries_max;
			fx->restored[which] = true;
			if (!max) {
				fx->pin[which] = SESSION_PIN_ASK;
				return;
			}
			st.tries_left = (int)max;
			break;
		}
		st.tries_left = tries_left;
		break;
	case CARD_E_PIN_WRONG:
		if (tries_left < 0) {
			fx->pin[which] = SESSION_PIN_ASK;
			return;
		}
		st.tries_left = tries_left;
		break;
	case CARD_E_PIN_BLOCKED:
		st.tries_left = 0;
		st.blocked = true;
		break;
	case CARD_E_PIN_NOT_ACTIVATED:
		st.activated = false;
		break;
	case CARD_E_PIN_FORMAT:
	case CARD_E_NOT_SUPPORTED:
		return; /* refused before it was sent, or by the card without a try */
	default:
		fx->changed = true; /* no usable answer: the card may have counted a try */
		return;
	}
	if (fx->pin[which] != SESSION_PIN_ASK) {
		fx->pin[which] = SESSION_PIN_KNOWN;
		fx->st[which] = st;
	}
}

card_err session_read_counters(const struct apdu_transport *t, const struct siths_layout *l,
			       const struct session_effects *fx, struct card_model *m)
{
	struct card_pin *pins[2] = { &m->pin1, &m->pin2 };
	bool selected = false;
	card_err e = CARD_OK;
	m->pin1.verified = m->pin2.verified = m->puk.verified = false;
	for (int i = 0; i < 2 && !e; i++) {
		struct iso_pin_status st = fx->st[i];
		if (fx->pin[i] == SESSION_PIN_UNTOUCHED)
			continue;
		if (fx->pin[i] == SESSION_PIN_ASK) {
			if (!selected && (e = siths_select_app(t, &l->app)) != CARD_OK)
				break;
			selected = true;
			if ((e = iso_pin_status(t, pins[i]->ref, &st)) != CARD_OK)
				break;
		}
		pins[i]->tries_left = st.tries_left;
		pins[i]->blocked = st.blocked;
		pins[i]->activated = st.activated;
	}
	return e;
}

void session_learn_max(const struct session_effects *fx, struct card_model *m)
{
	struct card_pin *pins[2] = { &m->pin1, &m->pin2 };
	for (int i = 0; i < 2; i++)
		if (fx->restored[i] && !pins[i]->blocked && pins[i]->tries_left > 0)
			pins[i]->tries_max = (unsigned)pins[i]->tries_left;
}

bool card_pin_format_ok(const struct card_pin *p, const char *pin)
{
	return ops_pin_format_ok(p, pin);
}

card_err card_pin_status(card_session *s, enum card_pin_which which, int *tries_left)
{
	struct iso_pin_status st;
	const struct siths_pin *p = pin_of(s, which);
	card_err e = p->present ? iso_pin_status(s->t, p->ref, &st) : CARD_E_NOT_SUPPORTED;
	*tries_left = e ? -1 : st.tries_left;
	if (!e && st.blocked)
		e = CARD_E_PIN_BLOCKED;
	else if (!e && !st.activated)
		e = CARD_E_PIN_NOT_ACTIVATED;
	note_pin(s, which, e, *tries_left, !e && st.verified);
	return e;
}

card_err card_verify_pin(card_session *s, enum card_pin_which which, char *pin, int *tries_left)
{
	int tries = -1;
	card_err e = format_is_pin(ops_verify(s->t, pin_of(s, which), pin, &tries));
	note_pin(s, which, e, tries, true);
	if (tries_left)
		*tries_left = tries;
	return e;
}

card_err card_change_pin(card_session *s, enum card_pin_which which, char *old_pin, char *new_pin,
			 int *tries_left)
{
	s->fx->changed = true;
	return format_is_pin(ops_change(s->t, pin_of(s, which), old_pin, new_pin, tries_left));
}

card_err card_unblock_pin(card_session *s, enum card_pin_which which, char *puk, char *new_pin,
			  int *tries_left)
{
	s->fx->changed = true;
	return format_is_pin(
		ops_unblock(s->t, pin_of(s, which), &s->l->puk, puk, new_pin, tries_left));
}

card_err card_activate_pin(card_session *s, enum card_pin_which which, char *pin, int *tries_left)
{
	s->fx->changed = true;
	return format_is_pin(ops_activate(s->t, pin_of(s, which), pin, tries_left));
}

card_err card_sign(card_session *s, enum card_key key, const uint8_t *di, size_t n, uint8_t *sig,
		   size_t cap, size_t *sig_len)
{
	uint32_t ref = key == CARD_KEY_AUTH ? s->l->auth_key_ref : s->l->sign_key_ref;
	return not_a_pin_error(ops_sign(s->t, key, (uint8_t)ref, di, n, sig, cap, sig_len));
}

card_err card_generate_sign_key(card_session *s, struct card_pubkey *out)
{
	s->fx->changed = true;
	return not_a_pin_error(ops_generate(s->t, (uint8_t)s->l->sign_key_ref, out));
}

card_err card_write_sign_cert(card_session *s, const uint8_t *der, size_t n, card_progress_fn fn,
			      void *user, bool *commit_sent)
{
	s->fx->changed = true;
	bool sent = false;
	card_err e = not_a_pin_error(ops_write_sign_cert(s->t, s->l, der, n, fn, user, &sent));
	if (commit_sent)
		*commit_sent = sent;
	return e;
}

card_err card_auth_cert(card_session *s, const uint8_t **der, size_t *len)
{
	*der = s->l->auth_cert;
	*len = s->l->auth_cert_len;
	return *der && *len ? CARD_OK : CARD_E_FILE_NOT_FOUND;
}
