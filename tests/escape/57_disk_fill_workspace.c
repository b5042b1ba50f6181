/* SPDX-License-Identifier: MIT */
/* Fill the default (private tmpfs) /workspace under --disk 16M. */
#include "fill.h"

int main(void)
{
        fill_attack("/workspace");
        attack_finish();
}
