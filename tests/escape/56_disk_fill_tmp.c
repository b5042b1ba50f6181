/* SPDX-License-Identifier: MIT */
/* Fill /tmp under --disk 16M (many 4 MiB files, so RLIMIT_FSIZE alone
 * would not stop it): the tmpfs cap must. */
#include "fill.h"

int main(void)
{
        fill_attack("/tmp");
        attack_finish();
}
