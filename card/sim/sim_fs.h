/* sim_fs.h — the virtual card's file system commands (ISO 7816-4): SELECT by file id, path or DF
 * name, READ BINARY and UPDATE BINARY of the current EF. Reading is always allowed; writing needs
 * the EF's access rule (PIN2 verified in this session). Private to card/sim. */
#ifndef SITHS_SIM_FS_H
#define SITHS_SIM_FS_H

#include "sim_cmd.h"

sim_cmd_fn sim_fs_select;        /* INS A4: P1 00-04, 08, 09; answers FCI, FCP or nothing */
sim_cmd_fn sim_fs_read_binary;   /* INS B0: 6282 when fewer bytes than an exact Le are left */
sim_cmd_fn sim_fs_update_binary; /* INS D6: persists the card */

#endif
