/* SPDX-License-Identifier: MIT */
/* bpf(): map creation and a trivial socket-filter program load. */
#include <linux/bpf.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        union bpf_attr a;
        memset(&a, 0, sizeof(a));
        a.map_type = BPF_MAP_TYPE_ARRAY;
        a.key_size = 4;
        a.value_size = 4;
        a.max_entries = 1;
        EXPECT_FAIL("bpf(BPF_MAP_CREATE)", syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a)), EPERM);
        struct bpf_insn prog[] = {
                { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
                { .code = BPF_JMP | BPF_EXIT },
        };
        memset(&a, 0, sizeof(a));
        a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
        a.insns = (unsigned long)prog;
        a.insn_cnt = 2;
        a.license = (unsigned long)"GPL";
        EXPECT_FAIL("bpf(BPF_PROG_LOAD)", syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a)), EPERM);
        EXPECT_FAIL("bpf(BPF_BTF_GET_NEXT_ID)", syscall(SYS_bpf, BPF_BTF_GET_NEXT_ID, &a, sizeof(a)), EPERM);
        attack_finish();
}
