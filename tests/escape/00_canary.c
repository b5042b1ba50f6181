/* SPDX-License-Identifier: MIT */
/* Not an attack: reports a fake success so that the suite can prove the
 * runner turns an attack's success into a test failure (should_fail). */
#include "attack.h"

int main(void)
{
        note_hole("canary: pretending the sandbox let something through");
        attack_finish();
}
