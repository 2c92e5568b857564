/* sim.h — shared error codes of the virtual SITHS card (siths-cardsim). Every sim module that can
 * fail returns enum sim_err; the APDU layer speaks ISO 7816 status words instead. */
#ifndef SITHS_SIM_H
#define SITHS_SIM_H

enum sim_err {
	SIM_OK = 0,
	SIM_E_NOMEM,  /* allocation failed */
	SIM_E_IO,     /* file or socket I/O failed (errno kept) */
	SIM_E_FORMAT, /* malformed card file, state file or PKI file */
	SIM_E_CRYPTO, /* an OpenSSL operation failed */
	SIM_E_ARG,    /* invalid argument or profile value */
};

/* Static English text for an error code; never NULL. */
const char *sim_strerror(enum sim_err e);

#endif
