/* doctor.h — `siths-bridge doctor [--lang sv|en] [--json] [--config FILE] [--root DIR]`: runs
 * every check of doctor_checks.h for this user, prints the results (Swedish by default) and
 * exits 0 only when everything needed works, 1 when something does not, 2 on bad usage. */
#ifndef SITHS_DOCTOR_H
#define SITHS_DOCTOR_H

int doctor_main(int argc, char **argv);

#endif
